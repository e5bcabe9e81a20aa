// Slimmable video classifiers: one set of weights, several widths.
//
// Input clips are float [N, 3, T, H, W]; output logits [N, num_classes]. A
// model is built by name from ModelOptions through a registry (a plain table,
// see model_names()); every model is a backbone that pools features plus a
// classifier that keeps num_classes outputs at every width.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "models/slimmable_layers.h"

namespace adaptive {

// The model's options, and the config's "model" section: visit() declares
// every key but num_classes, which comes from the data.
struct ModelOptions {
  std::string name = "r2plus1d";  // see model_names()
  int64_t num_classes = 10;
  std::vector<double> widths = {0.25, 0.5, 0.75, 1.0};  // ascending, in (0, 1]
  WidthMode width_mode = WidthMode::kDiscrete;
  int64_t channel_multiple = 4;  // channels per width rounded to this
  int64_t base_channels = 16;    // full-width channels of the first stage
  std::vector<int> blocks = {1, 1, 1,
                             1};  // blocks per stage; each stage doubles channels, halves H and W
  int64_t temporal_kernel = 3;    // frames seen by each temporal conv (odd)
  bool factorized = true;         // r2plus1d: (2+1)D convs; false: full 3D kernels
  double shift_fraction = 0.25;   // tsm_mobile: channels shifted in time (half each way)
  double dropout = 0.2;           // before the classifier
  bool motion_input = true;       // r2plus1d: frame differences as extra input channels

  void visit(ConfigVisitor& v);
};

// Throws std::invalid_argument naming the option, what was expected and what
// was found ("model.widths: expected strictly ascending widths"); the one
// check of these options, for the config and for build_model alike. Every
// listed width must be a distinct sub-network: at every stage (base_channels
// << s channels), rounding to channel_multiple must give each width more
// channels than the next narrower one.
void validate(const ModelOptions& options);

// A pair that export folds into one conv: slim conv, switchable BN, optional ReLU.
class ConvBnImpl : public torch::nn::Module {
 public:
  // `zero_scale`: the BN starts at scale 0 (end of a residual branch).
  ConvBnImpl(const SlimConvOptions& conv, const ModelOptions& model, bool zero_scale = false);
  at::Tensor forward(const at::Tensor& x, const ForwardContext& ctx, bool relu = true);
  // TorchScript of forward() at ctx's width: one conv whose weights are the
  // width's slice scaled by the BN's 1/sqrt(var + eps) * gamma, and whose bias
  // is beta - mean * that scale (batch norm folded; eval mode only).
  ScriptValue lower(ScriptBuilder& s, const std::string& name, const ScriptValue& x,
                    const ForwardContext& ctx, bool relu = true) const;
  SlimConv conv{nullptr};
  SwitchableBatchNorm bn{nullptr};

 private:
  // lower() on a time-folded clip (script_builder.h): a (1, kh, kw) or
  // (kt, 1, 1) kernel as a 2D conv; other kernels throw std::logic_error.
  ScriptValue lower_folded(ScriptBuilder& s, const std::string& name, const ScriptValue& x,
                           const at::Tensor& weight, const at::Tensor& bias, bool relu) const;
};
TORCH_MODULE(ConvBn);

class SlimmableNet : public torch::nn::Module {
 public:
  explicit SlimmableNet(ModelOptions options);

  // Pooled features [N, C(width)] of the backbone.
  virtual at::Tensor features(const at::Tensor& clips, const ForwardContext& ctx) = 0;
  // Logits from pooled features: dropout (training) then the classifier.
  at::Tensor classify(const at::Tensor& features, const ForwardContext& ctx);

  // TorchScript of features() and classify() at ctx's width, eval mode (see
  // script_builder.h); `clips` is the method's input [N, 3, T, H, W].
  virtual ScriptValue lower_features(ScriptBuilder& s, const ScriptValue& clips,
                                     const ForwardContext& ctx) const = 0;
  ScriptValue lower_classify(ScriptBuilder& s, const ScriptValue& features,
                             const ForwardContext& ctx) const;
  at::Tensor forward(const at::Tensor& clips, const ForwardContext& ctx) {
    return classify(features(clips, ctx), ctx);
  }

  const ModelOptions& options() const { return options_; }
  const std::vector<double>& widths() const { return options_.widths; }
  // Context for width index i of the width list.
  ForwardContext at_width(int i) const { return {options_.widths.at(i), i}; }
  // Full-width feature channels (input size of the classifier).
  virtual int64_t feature_channels() const = 0;

  // Resets the per-width statistics of every switchable BN (universal mode,
  // before recalibration).
  void reset_bn_statistics();

 protected:
  ModelOptions options_;
  SlimLinear classifier_{nullptr};
  void build_classifier();
};

// Builds a model by name. Throws std::invalid_argument on an unknown name
// (listing the known ones) or invalid options.
std::shared_ptr<SlimmableNet> build_model(const ModelOptions& options);
std::vector<std::string> model_names();

// Cost of one clip of shape [3, T, H, W] at width index i (a forward pass on
// zeros, batch 1, eval mode, no grad; the model's mode is restored).
CostTally model_cost(SlimmableNet& model, int model_width_index, int64_t frames, int64_t height,
                     int64_t width);

}  // namespace adaptive
