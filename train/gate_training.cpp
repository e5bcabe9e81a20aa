#include "train/gate_training.h"

#include <algorithm>

#include <torch/torch.h>

#include "datasets/rng.h"

namespace adaptive {
namespace {

constexpr uint64_t kGateStream = 0x47415445ULL;  // seeds of the gate's batch order

// Adam on one head: cross-entropy of its scores from width `w`'s pass to
// `targets`, in shuffled batches of 64.
void fit_head(GateHead& head, int w, const SplitOutputs& train, const at::Tensor& targets,
              const GateConfig& g, uint64_t seed,
              const std::function<void(const nlohmann::json&)>& log) {
  head->fit_normalisation(train.features[w]);
  torch::optim::Adam adam(head->parameters(), torch::optim::AdamOptions(g.lr));
  const int64_t n = train.labels.size(0), batch = 64;
  head->train();
  for (int epoch = 0; epoch < g.epochs; ++epoch) {
    Rng rng(
        derive_seed(seed, {kGateStream, static_cast<uint64_t>(w), static_cast<uint64_t>(epoch)}));
    const at::Tensor perm = torch::tensor(shuffled_indices(n, rng), torch::kLong);
    double total = 0;
    for (int64_t b = 0; b < n; b += batch) {
      const at::Tensor idx = perm.slice(0, b, std::min(n, b + batch));
      const at::Tensor scores = head->forward(train.features[w].index_select(0, idx),
                                              train.logits[w].index_select(0, idx));
      const at::Tensor loss = torch::cross_entropy_loss(scores, targets.index_select(0, idx));
      adam.zero_grad();
      loss.backward();
      adam.step();
      total += loss.item<double>() * idx.size(0);
    }
    if ((epoch + 1) % std::max(1, g.epochs / 5) == 0 || epoch + 1 == g.epochs)
      log({{"type", "gate"}, {"head", w}, {"epoch", epoch + 1}, {"loss", total / n}});
  }
  head->eval();
}

}  // namespace

GateReport train_gate(WidthGate& gate, const SplitOutputs& train, const SplitOutputs& val,
                      const std::vector<WidthReport>& widths, const GateConfig& g, uint64_t seed,
                      const std::function<void(const nlohmann::json&)>& log) {
  const int k = static_cast<int>(widths.size());
  const double full = widths.back().mflops;
  std::vector<double> mflops;
  for (const auto& w : widths) mflops.push_back(w.mflops);
  auto targets_of = [&](const SplitOutputs& c) {
    std::vector<at::Tensor> probs;
    for (int i = 0; i < k; ++i)
      probs.push_back(torch::softmax(c.logits[i] / widths[i].temperature, 1));
    return gate_targets(probs, c.labels, g.margin);
  };
  const at::Tensor train_targets = targets_of(train), val_targets = targets_of(val);
  for (int w = 0; w < k; ++w) fit_head(gate->heads[w], w, train, train_targets, g, seed, log);

  torch::NoGradGuard no_grad;
  GateReport r;
  r.trained = true;
  r.target_compute = g.target_compute;
  const int64_t m = val.labels.size(0);
  for (int w = 0; w < k; ++w) {
    GateHead& head = gate->heads[w];
    CostTally head_cost;
    at::Tensor scores = head->forward(val.features[w], val.logits[w], &head_cost);
    const double head_mflops = head_cost.flops / static_cast<double>(m) / 1e6;
    r.gate_mflops = std::max(r.gate_mflops, head_mflops);
    // The operating point: a cost bias fitted on val to the compute target,
    // written into the head's output layer.
    const std::vector<double> cost = gate_choice_cost(mflops, w);
    const double bias = fit_cost_bias(scores, cost, g.target_compute - head_mflops / full);
    head->add_cost_bias(bias, cost);
    const at::Tensor choice = head->forward(val.features[w], val.logits[w]).argmax(1);
    GateHeadReport h;
    h.width = widths[w].width;
    h.cost_bias = bias;
    h.target_accuracy = choice.eq(val_targets).to(torch::kDouble).mean().item<double>();
    h.share.assign(k, 0);
    double correct = 0, mflops = 0;
    for (int64_t j = 0; j < m; ++j) {
      const int c = static_cast<int>(choice[j].item<int64_t>());
      correct += val.logits[c][j].argmax().item<int64_t>() == val.labels[j].item<int64_t>();
      mflops += cost[c] * full + head_mflops;
      h.share[c] += 1.0 / static_cast<double>(m);
    }
    h.top1 = correct / static_cast<double>(m);
    h.compute = mflops / static_cast<double>(m) / full;
    r.heads.push_back(h);
  }
  return r;
}

}  // namespace adaptive
