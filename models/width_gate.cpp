#include "models/width_gate.h"

#include <stdexcept>
#include <string>

#include <torch/torch.h>

namespace adaptive {

WidthGateOptions gate_options_for(const SlimmableNet& model, int64_t hidden) {
  const ModelOptions& m = model.options();
  WidthGateOptions o;
  for (double w : m.widths)
    o.feature_channels.push_back(channels_at(model.feature_channels(), w, m.channel_multiple));
  o.num_classes = m.num_classes;
  o.hidden = hidden;
  return o;
}

GateHeadImpl::GateHeadImpl(int64_t feature_channels, int64_t num_classes, int64_t num_widths,
                           int64_t hidden_units) {
  hidden =
      register_module("hidden", torch::nn::Linear(feature_channels + num_classes, hidden_units));
  out = register_module("out", torch::nn::Linear(hidden_units, num_widths));
  feature_mean = register_buffer("feature_mean", torch::zeros({feature_channels}));
  feature_std = register_buffer("feature_std", torch::ones({feature_channels}));
}

void GateHeadImpl::fit_normalisation(const at::Tensor& features) {
  torch::NoGradGuard no_grad;
  feature_mean.copy_(features.mean(0));
  feature_std.copy_(features.std(0).clamp_min(1e-4));
}

void GateHeadImpl::add_cost_bias(double bias, const std::vector<double>& relative_cost) {
  if (static_cast<int64_t>(relative_cost.size()) != out->bias.size(0))
    throw std::invalid_argument("gate cost bias: one cost per width needed");
  torch::NoGradGuard no_grad;
  std::vector<float> cost(relative_cost.begin(), relative_cost.end());
  out->bias.sub_(bias * torch::tensor(cost, out->bias.options()));
}

at::Tensor GateHeadImpl::forward(const at::Tensor& features, const at::Tensor& logits,
                                 CostTally* cost) {
  const at::Tensor x =
      torch::cat({(features - feature_mean) / feature_std, torch::softmax(logits, 1)}, 1);
  if (cost) {
    for (auto* layer : {hidden.get(), out.get()}) {
      cost->flops += 2.0 * static_cast<double>(features.size(0)) * layer->weight.numel();
      cost->params += layer->weight.numel() + layer->bias.numel();
    }
  }
  return out->forward(torch::relu(hidden->forward(x)));
}

WidthGateImpl::WidthGateImpl(const WidthGateOptions& o) {
  const auto widths = static_cast<int64_t>(o.feature_channels.size());
  for (int64_t w = 0; w < widths; ++w) {
    heads.push_back(
        register_module("head" + std::to_string(w),
                        GateHead(o.feature_channels[w], o.num_classes, widths, o.hidden)));
  }
}

at::Tensor gate_targets(const std::vector<at::Tensor>& probs, const at::Tensor& labels,
                        double margin) {
  if (probs.empty()) throw std::invalid_argument("gate_targets: no width");
  const int64_t n = labels.size(0);
  const int64_t widest = static_cast<int64_t>(probs.size()) - 1;
  at::Tensor targets = torch::zeros({n}, torch::kLong);  // right nowhere: the narrowest
  at::Tensor decided = torch::zeros({n}, torch::kBool);
  for (int64_t w = 0; w <= widest; ++w) {
    const at::Tensor& p = probs[w];
    const at::Tensor p_true = p.gather(1, labels.view({-1, 1})).squeeze(1);
    const at::Tensor p_other = p.scatter(1, labels.view({-1, 1}), -1.0).amax(1);
    const at::Tensor ok = (p_true - p_other >= margin) & ~decided;
    targets.masked_fill_(ok, w);
    decided |= ok;
  }
  return targets;
}

std::vector<double> gate_choice_cost(const std::vector<double>& mflops, int head) {
  std::vector<double> cost;
  for (size_t i = 0; i < mflops.size(); ++i)
    cost.push_back((mflops[i] + (head == 0 && i > 0 ? mflops[0] : 0)) / mflops.back());
  return cost;
}

at::Tensor gate_choice(const at::Tensor& scores, double bias,
                       const std::vector<double>& relative_cost) {
  std::vector<float> cost(relative_cost.begin(), relative_cost.end());
  const at::Tensor c = torch::tensor(cost, scores.options());
  return (scores - bias * c).argmax(1);
}

double fit_cost_bias(const at::Tensor& scores, const std::vector<double>& relative_cost,
                     double target) {
  const at::Tensor cost =
      torch::tensor(std::vector<double>(relative_cost.begin(), relative_cost.end()));
  auto mean_cost = [&](double bias) {
    return cost.index_select(0, gate_choice(scores, bias, relative_cost)).mean().item<double>();
  };
  double lo = -100, hi = 100;  // mean_cost(lo) is the most, mean_cost(hi) the least
  if (mean_cost(lo) <= target) return lo;
  if (mean_cost(hi) > target) return hi;
  for (int i = 0; i < 60; ++i) {
    const double mid = (lo + hi) / 2;
    (mean_cost(mid) <= target ? hi : lo) = mid;
  }
  return hi;
}

}  // namespace adaptive
