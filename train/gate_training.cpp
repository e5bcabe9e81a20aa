#include "train/gate_training.h"

#include <algorithm>

#include <torch/torch.h>

#include "datasets/rng.h"

namespace adaptive {
namespace {

constexpr uint64_t kGateStream = 0x47415445ULL;  // seeds of the gate's batch order

}  // namespace

GateReport train_gate(WidthGate& gate, const SplitOutputs& train, const SplitOutputs& val,
                      const std::vector<WidthReport>& widths, const GateConfig& g, uint64_t seed,
                      const std::function<void(const nlohmann::json&)>& log) {
  const int k = static_cast<int>(widths.size());
  std::vector<double> costs;  // MFLOPs of each choice: the narrowest pass, then the chosen width
  for (int i = 0; i < k; ++i) costs.push_back(widths[0].mflops + (i > 0 ? widths[i].mflops : 0));
  auto targets_of = [&](const SplitOutputs& c) {
    std::vector<at::Tensor> probs;
    for (int i = 0; i < k; ++i)
      probs.push_back(torch::softmax(c.logits[i] / widths[i].temperature, 1));
    return gate_targets(probs, c.labels, g.margin);
  };
  const at::Tensor train_targets = targets_of(train);
  gate->fit_normalisation(train.narrow_features);
  torch::optim::Adam adam(gate->parameters(), torch::optim::AdamOptions(g.lr));
  const int64_t n = train.labels.size(0), batch = 64;
  gate->train();
  for (int epoch = 0; epoch < g.epochs; ++epoch) {
    Rng rng(derive_seed(seed, {kGateStream, static_cast<uint64_t>(epoch)}));
    const at::Tensor perm = torch::tensor(shuffled_indices(n, rng), torch::kLong);
    double total = 0;
    for (int64_t b = 0; b < n; b += batch) {
      const at::Tensor idx = perm.slice(0, b, std::min(n, b + batch));
      const at::Tensor scores = gate->forward(train.narrow_features.index_select(0, idx),
                                              train.logits[0].index_select(0, idx));
      const at::Tensor loss = torch::cross_entropy_loss(scores, train_targets.index_select(0, idx));
      adam.zero_grad();
      loss.backward();
      adam.step();
      total += loss.item<double>() * idx.size(0);
    }
    if ((epoch + 1) % std::max(1, g.epochs / 5) == 0 || epoch + 1 == g.epochs)
      log({{"type", "gate"}, {"epoch", epoch + 1}, {"loss", total / n}});
  }
  gate->eval();
  torch::NoGradGuard no_grad;
  GateReport r;
  r.trained = true;
  CostTally gate_cost;
  at::Tensor scores = gate->forward(val.narrow_features, val.logits[0], &gate_cost);
  r.gate_mflops = gate_cost.flops / val.labels.size(0) / 1e6;
  // The operating point: a cost bias fitted on val to the compute target,
  // written into the gate's output layer.
  const double full = widths.back().mflops;
  std::vector<double> relative;
  for (double c : costs) relative.push_back(c / full);
  r.target_compute = g.target_compute;
  r.cost_bias = fit_cost_bias(scores, relative, g.target_compute - r.gate_mflops / full);
  gate->add_cost_bias(r.cost_bias, relative);
  scores = gate->forward(val.narrow_features, val.logits[0]);
  const at::Tensor choice = scores.argmax(1);
  r.target_accuracy = choice.eq(targets_of(val)).to(torch::kDouble).mean().item<double>();
  double correct = 0, mflops = 0;
  r.share.assign(k, 0);
  const int64_t m = val.labels.size(0);
  for (int64_t j = 0; j < m; ++j) {
    const int w = static_cast<int>(choice[j].item<int64_t>());
    correct += val.logits[w][j].argmax().item<int64_t>() == val.labels[j].item<int64_t>();
    mflops += costs[w] + r.gate_mflops;
    r.share[w] += 1.0 / m;
  }
  r.top1 = correct / m;
  r.mean_mflops = mflops / m;
  return r;
}

}  // namespace adaptive
