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
#include "models/net_backend.h"
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
  // r2plus1d: the first stage whose convs span frames (0: the stem and every
  // stage); before it, convs see one frame (temporal kernel 1). A causal
  // stream's window then reaches fewer frames back than (kt - 1) per conv
  // from the stem on.
  int64_t temporal_from_stage = 0;
  // Frames of the window the features are averaged over, its last ones (0:
  // all). A causal model whose frames see at most R frames back (motion 1,
  // each temporal conv kt - 1, each causal shift 1) and that pools at most
  // T - R frames computes its pooled frames from the window alone: streamed,
  // it gives exactly the windowed model's logits (docs/artifact.md).
  int64_t pool_frames = 0;
  bool factorized = true;        // r2plus1d: (2+1)D convs; false: full 3D kernels
  double shift_fraction = 0.25;  // tsm_mobile: channels shifted in time (half each way)
  double dropout = 0.2;          // before the classifier
  bool motion_input = true;      // r2plus1d: frame differences as extra input channels
  // Each frame's features depend only on it and the frames before: temporal
  // convs see only the past, the temporal shift takes only past frames. The
  // export can then stream a video a frame at a time (docs/artifact.md).
  bool causal = false;

  void visit(ConfigVisitor& v);
};

// Throws std::invalid_argument naming the option, what was expected and what
// was found ("model.widths: expected strictly ascending widths"); the one
// check of these options, for the config and for build_model alike. Every
// listed width must be a distinct sub-network: at every stage (base_channels
// << s channels), rounding to channel_multiple must give each width more
// channels than the next narrower one.
void validate(const ModelOptions& options);

// A conv and batch norm folded into one conv for inference, in double
// precision: weight [out, in, k...] the width's slice scaled by the BN's
// gamma / sqrt(var + eps), bias beta - mean * that scale (plus the conv's
// bias, scaled).
struct FoldedConvBn {
  at::Tensor weight, bias;
};

// A pair that export folds into one conv: slim conv, switchable BN, optional ReLU.
class ConvBnImpl : public torch::nn::Module {
 public:
  // `zero_scale`: the BN starts at scale 0 (end of a residual branch).
  ConvBnImpl(const SlimConvOptions& conv, const ModelOptions& model, bool zero_scale = false);
  at::Tensor forward(const at::Tensor& x, const ForwardContext& ctx, bool relu = true) const;
  // The pair at ctx's width, for an input of `in_channels`, folded (eval
  // mode statistics). Throws std::logic_error naming the layer `name` when
  // the conv and BN disagree on the channel count.
  FoldedConvBn folded(const std::string& name, int64_t in_channels,
                      const ForwardContext& ctx) const;
  SlimConv conv{nullptr};
  SwitchableBatchNorm bn{nullptr};
};
TORCH_MODULE(ConvBn);

// A slimmable video classifier. Its structure is written once, in
// apply_features() over a NetBackend (models/net_backend.h); forward() runs
// it on tensors (EagerBackend), export writes it as TorchScript
// (ScriptBackend).
class SlimmableNet : public torch::nn::Module {
 public:
  explicit SlimmableNet(ModelOptions options);

  // Pooled features [N, C(width)] of the backbone from clips [N, 3, T, H, W],
  // at the backend's width.
  virtual NetValue apply_features(NetBackend& backend, const NetValue& clips) const = 0;
  // Logits from pooled features: dropout (training) then the classifier.
  NetValue apply_classify(NetBackend& backend, const NetValue& features) const;

  // The same on tensors, at ctx's width.
  at::Tensor features(const at::Tensor& clips, const ForwardContext& ctx) const;
  at::Tensor classify(const at::Tensor& features, const ForwardContext& ctx) const;
  at::Tensor forward(const at::Tensor& clips, const ForwardContext& ctx) const {
    return classify(features(clips, ctx), ctx);
  }

  const ModelOptions& options() const { return options_; }
  const std::vector<double>& widths() const { return options_.widths; }
  // Context for width index i of the width list.
  ForwardContext at_width(int i) const { return pooling({options_.widths.at(i), i}); }
  // `ctx` with the frames pool() averages (ForwardContext::pooled_frames):
  // model.pool_frames where set, which wins over a context's.
  ForwardContext pooling(ForwardContext ctx) const {
    if (options_.pool_frames > 0) ctx.pooled_frames = options_.pool_frames;
    return ctx;
  }
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

// A model's temporal reach: at most how many frames before it a frame's
// features depend on, along the deepest path (1 for the motion input, kt - 1 per
// causal temporal conv, 1 per causal shift). Traced through
// apply_features(), so it follows the structure as written. Only a causal
// model's reach bounds what it sees; a model that is not causal also sees
// frames after.
int64_t temporal_reach(const SlimmableNet& model);

// The frames of a window of `frames` that the model's logits pool, its last:
// model.pool_frames, else all.
int64_t pooled_frames(const SlimmableNet& model, int64_t frames);

// Whether the model, streamed a frame at a time, gives exactly its windowed
// logits on the window of `frames` frames ending on each frame: causal, and
// its pooled frames see nothing before the window (pooled_frames <= frames -
// temporal_reach).
bool streams_exactly(const SlimmableNet& model, int64_t frames);

}  // namespace adaptive
