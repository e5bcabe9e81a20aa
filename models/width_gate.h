// The width gate (DS-Net / GaterNet in spirit): a small head that looks at
// what the narrowest sub-network saw (its pooled features and its class
// probabilities) and scores which width the clip needs.
//
// Trained after the slimmable network, with the backbone frozen. Targets are
// the narrowest width that classifies the clip correctly with a margin; the
// loss adds a compute-cost term, so `cost_weight` sets the operating point:
// higher means narrower choices.
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

  torch::nn::Linear hidden{nullptr}, out{nullptr};
  at::Tensor feature_mean, feature_std;  // buffers
};
TORCH_MODULE(WidthGate);

// Per clip, the index of the narrowest width whose prediction is correct with
// p(label) - max p(other) >= margin, or the widest index when none is.
// `probs`: one [N, classes] tensor per width, ascending widths.
at::Tensor gate_targets(const std::vector<at::Tensor>& probs, const at::Tensor& labels,
                        double margin);

// Cross-entropy to the targets plus cost_weight * E_softmax(scores)[cost_w / cost_max].
at::Tensor gate_loss(const at::Tensor& scores, const at::Tensor& targets,
                     const std::vector<double>& costs, double cost_weight);

}  // namespace adaptive
