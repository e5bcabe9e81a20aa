// The width gate (DS-Net / GaterNet in spirit): a small head that looks at
// what the narrowest sub-network saw (its pooled features and its class
// probabilities) and scores which width the clip needs.
//
// Trained after the slimmable network, with the backbone frozen. Targets are
// the narrowest width that classifies the clip correctly with a margin (the
// narrowest when no width does: more width buys nothing); the loss is
// cross-entropy to them. The operating point is set afterwards by a cost
// bias on the scores (set_cost_bias), fitted to a compute target.
#pragma once

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include "models/slimmable_net.h"

namespace adaptive {

struct WidthGateOptions {
  int64_t feature_channels = 0;  // pooled features of the narrowest width
  int64_t num_classes = 0;
  int64_t num_widths = 0;  // scores, one per width
  int64_t hidden = 64;     // hidden units
};

// The gate of `model`: its narrowest width's features and logits in, one
// score per width of the model out.
WidthGateOptions gate_options_for(const SlimmableNet& model, int64_t hidden);

class WidthGateImpl : public torch::nn::Module {
 public:
  explicit WidthGateImpl(const WidthGateOptions& options);

  // Scores [N, num_widths] from the narrowest width's features [N, C] and
  // logits [N, num_classes]. Adds its own cost when `cost` is set.
  at::Tensor forward(const at::Tensor& features, const at::Tensor& logits,
                     CostTally* cost = nullptr);

  // Sets the feature standardisation from training features [M, C].
  void fit_normalisation(const at::Tensor& features);
  // Subtracts bias * relative_cost[w] from width w's score, in the output
  // layer itself, so the exported gate chooses with it too.
  void add_cost_bias(double bias, const std::vector<double>& relative_cost);

  torch::nn::Linear hidden{nullptr}, out{nullptr};
  at::Tensor feature_mean, feature_std;  // buffers
};
TORCH_MODULE(WidthGate);

// Per clip, the index of the narrowest width whose prediction is correct with
// p(label) - max p(other) >= margin, or the narrowest index when none is (a
// clip no width gets right gains nothing from a wider one).
// `probs`: one [N, classes] tensor per width, ascending widths.
at::Tensor gate_targets(const std::vector<at::Tensor>& probs, const at::Tensor& labels,
                        double margin);

// The width each clip gets: argmax over w of scores[w] - bias * relative_cost[w].
at::Tensor gate_choice(const at::Tensor& scores, double bias,
                       const std::vector<double>& relative_cost);

// The cost bias that makes the mean relative cost of the choices on `scores`
// [N, widths] as large as possible without exceeding `target` (a share of
// full-width compute); the bias that sends every clip narrowest when even
// that is over. Bisection over [-100, 100]: the mean cost falls as the bias
// grows.
double fit_cost_bias(const at::Tensor& scores, const std::vector<double>& relative_cost,
                     double target);

}  // namespace adaptive
