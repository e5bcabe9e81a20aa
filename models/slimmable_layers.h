// Slimmable building blocks: layers whose active channel count follows a
// width multiplier chosen per forward pass. One set of weights serves every
// width: a layer at width w uses the first channels_at(C, w) output channels
// of its full-width weight (and as many input channels as its input has).
//
// Width modes:
//   discrete   widths come from a fixed list; batch norm keeps separate
//              statistics and affine parameters per width (switchable BN,
//              Slimmable Networks).
//   universal  any width in [min, max] is trained; batch norm shares its
//              affine parameters, and statistics for each listed width are
//              recalibrated after training (US-Nets).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>

#include "common/enum_names.h"

namespace adaptive {

// Channels a layer of `max_channels` has at `width`: max_channels * width
// rounded to the nearest multiple of `multiple`, never below `multiple` and
// never above max_channels.
int64_t channels_at(int64_t max_channels, double width, int64_t multiple);

enum class WidthMode { kDiscrete, kUniversal };
const NameTable<WidthMode>& width_mode_names();  // "discrete" | "universal"
WidthMode parse_width_mode(const std::string& name);
std::string to_string(WidthMode mode);

// Compute of one forward pass over its whole input (model_cost() runs one
// clip, so its tally is per clip): FLOPs = 2 x multiply-adds of
// convolutions and linear layers (batch norm folds into the convs at export;
// activations, pooling and additions are not counted). Parameters are those
// of the sub-network at that width, batch norm as scale and shift.
struct CostTally {
  double flops = 0;
  int64_t params = 0;
};

// How one forward pass runs.
struct ForwardContext {
  double width = 1.0;
  // Index into the model's width list; -1: a width between them (universal
  // mode). Not the index of an exported model's list, which may hold a subset.
  int model_width_index = -1;
  // >= 0: universal batch norm folds this batch into the statistics of
  // `model_width_index` with this momentum (recalibration pass, in train mode).
  double bn_calibration_momentum = -1;
  CostTally* cost = nullptr;  // when set, layers add their cost
  // > 0: the input is a clip held as frames [N*T, C, H, W] in channels-last
  // memory, T = folded_frames; 3D convs with a (1, kh, kw) or (kt, 1, 1)
  // kernel run as 2D convs on it (conv3d_over_frames()). (2+1)D networks
  // train this way: faster than 3D convs on CPU, and the layout of the export.
  int64_t folded_frames = 0;
  // > 0: pool over the clip's last this many frames: the window's when the
  // clip carries frames before it (a causal model trained on its stream's
  // past, data.past_frames), or model.pool_frames (SlimmableNet::pooling).
  int64_t pooled_frames = 0;

  // The frames pool() averages of a clip of `frames`, its last:
  // pooled_frames, else all; at most `frames` (a one-frame clip, as FLOPs
  // counting gives a stream's step, pools its frame).
  int64_t frames_pooled(int64_t frames) const {
    return pooled_frames > 0 ? std::min(pooled_frames, frames) : frames;
  }
};

// How a 3D conv runs on a clip held as frames (below, and the export's
// ConvBn::lower): a (1, kh, kw) kernel with stride and padding 1 and 0 in
// time is a 2D conv of every frame; a (kt, 1, 1) kernel with stride 1 and no
// spatial padding a 2D conv over the view [N, C, T, H*W]; any other kernel
// neither (std::nullopt).
enum class FrameConv { kSpatial, kTemporal };
std::optional<FrameConv> frame_conv_kind(const std::vector<int64_t>& kernel,
                                         const std::vector<int64_t>& stride,
                                         const std::vector<int64_t>& padding);

// at::conv3d(x, w, b, stride, padding, 1, groups) on a clip held as frames
// [N*T, C, H, W] (channels-last memory, T = frames), returned in the same
// form: a (1, kh, kw) kernel is a 2D conv of every frame, a (kt, 1, 1) kernel
// (stride 1) a 2D conv over the view [N, C, T, H*W] of the same memory.
// `causal`: time padded by kt - 1 frames before the clip and none after
// (padding[0] must be 0). Throws std::invalid_argument for any other kernel.
at::Tensor conv3d_over_frames(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                              const std::vector<int64_t>& stride,
                              const std::vector<int64_t>& padding, int64_t groups, int64_t frames,
                              bool causal = false);

// x with `frames` zero frames put before its time axis `dim`: the padding a
// causal conv of kt = frames + 1 frames sees.
at::Tensor pad_past(const at::Tensor& x, int64_t dim, int64_t frames);

struct SlimConvOptions {
  int64_t in_channels = 0;       // at full width (used for initialisation)
  int64_t out_channels = 0;      // at full width
  std::vector<int64_t> kernel;   // 2 (H, W) or 3 (T, H, W) entries
  std::vector<int64_t> stride;   // same length as kernel
  std::vector<int64_t> padding;  // same length as kernel
  bool depthwise = false;        // groups = channels (out follows in)
  bool fixed_out = false;        // keep out_channels at every width
  bool bias = false;
  int64_t channel_multiple = 8;
  // 3D kernels: causal in time. Output frame t sees input frames t - kt + 1
  // .. t, the frames before the clip zero: time is padded kt - 1 frames
  // before and none after (padding[0] must be 0).
  bool causal = false;
};

// 2D or 3D convolution over the first channels of its weight. Input channels
// follow the input tensor, output channels the width.
class SlimConvImpl : public torch::nn::Module {
 public:
  explicit SlimConvImpl(SlimConvOptions options);
  at::Tensor forward(const at::Tensor& x, const ForwardContext& ctx) const;
  // Output channels at `width`.
  int64_t out_channels_at(double width) const;
  const SlimConvOptions& options() const { return options_; }
  at::Tensor weight, bias;  // full width; bias undefined unless options.bias

 private:
  SlimConvOptions options_;
};
TORCH_MODULE(SlimConv);

struct SwitchableBatchNormOptions {
  int64_t channels = 0;        // at full width
  std::vector<double> widths;  // the model's widths, ascending
  WidthMode mode = WidthMode::kDiscrete;
  int64_t channel_multiple = 8;
  // Start with scale 0 (the last BN of a residual branch, so each block
  // starts as the identity and deep nets train sooner).
  bool zero_scale = false;
  double momentum = 0.1;
  double eps = 1e-5;
};

// Batch norm with per-width statistics (discrete: per-width affine too;
// universal: shared affine, per-width statistics from recalibration).
class SwitchableBatchNormImpl : public torch::nn::Module {
 public:
  explicit SwitchableBatchNormImpl(const SwitchableBatchNormOptions& options);
  // Updates the running statistics in training mode (they are buffers).
  at::Tensor forward(const at::Tensor& x, const ForwardContext& ctx) const;

  // Scale, shift, running mean and variance used at width index `i` (for
  // export and tests). Views into the module's tensors.
  struct Params {
    at::Tensor weight, bias, mean, var;
  };
  Params params_at(int i) const;
  // Sets width index `i`'s scale, shift and statistics to the first channels
  // of `from` (which has at least as many). Call it without autograd.
  void set_params_at(int i, const Params& from);
  // Resets the statistics that recalibration accumulates (universal mode).
  void reset_statistics();
  double eps() const { return eps_; }

 private:
  WidthMode mode_;
  std::vector<int64_t> channels_;  // per width index
  double momentum_, eps_;
  std::vector<at::Tensor> weights_, biases_, means_, vars_;
};
TORCH_MODULE(SwitchableBatchNorm);

// Linear layer; input features follow the input, outputs are fixed or slim.
class SlimLinearImpl : public torch::nn::Module {
 public:
  SlimLinearImpl(int64_t in_features, int64_t out_features, bool fixed_out = true,
                 int64_t channel_multiple = 8);
  at::Tensor forward(const at::Tensor& x, const ForwardContext& ctx) const;
  int64_t out_features_at(double width) const;
  // The weight [out, in_features] and bias [out] at `width`: slices of the
  // full-width ones.
  std::pair<at::Tensor, at::Tensor> at_width(double width, int64_t in_features) const;
  at::Tensor weight, bias;

 private:
  int64_t out_features_;
  bool fixed_out_;
  int64_t channel_multiple_;
};
TORCH_MODULE(SlimLinear);

}  // namespace adaptive
