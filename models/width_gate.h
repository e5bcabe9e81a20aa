// The width gate (DS-Net / GaterNet in spirit): small heads that look at what
// a pass of the network saw (its pooled features and its class
// probabilities) and score which width the clip needs. There is one head per
// width: head 0 reads a narrowest probe pass (a clip seen alone: the probe,
// then the chosen width when wider); head w reads a pass at width w, so on a
// stream each window's pass also chooses the next window's width, and a
// window costs one pass.
//
// Trained after the slimmable network, with the backbone frozen. Targets are
// the narrowest width that classifies the clip correctly with a margin (the
// narrowest when no width does: more width buys nothing); the loss is
// cross-entropy to them. Each head's operating point is set afterwards by a
// cost bias on its scores (add_cost_bias), fitted to a compute target.
#pragma once

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include "models/slimmable_net.h"

namespace adaptive {

// One head: a pass's pooled features [N, C] and logits [N, classes] in, one
// score per width [N, widths] out.
class GateHeadImpl : public torch::nn::Module {
 public:
  GateHeadImpl(int64_t feature_channels, int64_t num_classes, int64_t num_widths, int64_t hidden);

  // Adds its own cost when `cost` is set.
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
TORCH_MODULE(GateHead);

struct WidthGateOptions {
  std::vector<int64_t> feature_channels;  // pooled features of each width, ascending widths
  int64_t num_classes = 0;
  int64_t hidden = 64;  // hidden units of each head
};

// The gate of `model`: a head per width of the model.
WidthGateOptions gate_options_for(const SlimmableNet& model, int64_t hidden);

class WidthGateImpl : public torch::nn::Module {
 public:
  explicit WidthGateImpl(const WidthGateOptions& options);

  // Scores [N, widths] from width `index`'s features and logits.
  at::Tensor forward(int index, const at::Tensor& features, const at::Tensor& logits,
                     CostTally* cost = nullptr) {
    return heads.at(index)->forward(features, logits, cost);
  }

  std::vector<GateHead> heads;  // heads[w] reads a pass at width w ("head0", "head1", ...)
};
TORCH_MODULE(WidthGate);

// Per clip, the index of the narrowest width whose prediction is correct with
// p(label) - max p(other) >= margin, or the narrowest index when none is (a
// clip no width gets right gains nothing from a wider one).
// `probs`: one [N, classes] tensor per width, ascending widths.
at::Tensor gate_targets(const std::vector<at::Tensor>& probs, const at::Tensor& labels,
                        double margin);

// What each choice of head `head` costs, a share of the widest width's
// compute (`mflops`: one pass per width, ascending): a pass at the chosen
// width; the probe head (head 0, a clip seen alone) adds its narrowest pass
// to every wider choice.
std::vector<double> gate_choice_cost(const std::vector<double>& mflops, int head);

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
