#include "models/slimmable_layers.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include <torch/nn/init.h>

#include "models/channels_last_batch_norm.h"

namespace adaptive {
namespace {

// at::batch_norm; on frames in channels-last memory whose channel count
// LibTorch's kernel is slow at, channels_last_batch_norm().
at::Tensor batch_norm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                      const at::Tensor& running_mean, const at::Tensor& running_var, bool training,
                      double momentum, double eps) {
  if (channels_last_batch_norm_is_faster(x)) {
    return channels_last_batch_norm(x, w, b, running_mean, running_var, training, momentum, eps);
  }
  return at::batch_norm(x, w, b, running_mean, running_var, training, momentum, eps, false);
}

}  // namespace

int64_t channels_at(int64_t max_channels, double width, int64_t multiple) {
  const double wanted = static_cast<double>(max_channels) * width;
  int64_t c = static_cast<int64_t>(std::llround(wanted / multiple)) * multiple;
  return std::min(max_channels, std::max(multiple, c));
}

const NameTable<WidthMode>& width_mode_names() {
  static const NameTable<WidthMode> names(
      "width mode", {{WidthMode::kDiscrete, "discrete"}, {WidthMode::kUniversal, "universal"}});
  return names;
}

WidthMode parse_width_mode(const std::string& name) {
  return width_mode_names().parse(name);
}

std::string to_string(WidthMode mode) {
  return width_mode_names().name(mode);
}

SlimConvImpl::SlimConvImpl(SlimConvOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  const size_t dims = o.kernel.size();
  if ((dims != 2 && dims != 3) || o.stride.size() != dims || o.padding.size() != dims) {
    throw std::invalid_argument("SlimConv: kernel, stride and padding need 2 or 3 entries each");
  }
  if (o.depthwise && o.in_channels != o.out_channels) {
    throw std::invalid_argument("SlimConv: a depthwise conv has as many outputs as inputs");
  }
  if (o.causal && (dims != 3 || o.padding[0] != 0)) {
    throw std::invalid_argument("SlimConv: a causal conv has a 3D kernel and no time padding");
  }
  std::vector<int64_t> shape = {o.out_channels, o.depthwise ? 1 : o.in_channels};
  shape.insert(shape.end(), o.kernel.begin(), o.kernel.end());
  weight = register_parameter("weight", torch::empty(shape));
  torch::nn::init::kaiming_normal_(weight, 0, torch::kFanOut, torch::kReLU);
  if (o.bias) bias = register_parameter("bias", torch::zeros({o.out_channels}));
}

int64_t SlimConvImpl::out_channels_at(double width) const {
  return options_.fixed_out ? options_.out_channels
                            : channels_at(options_.out_channels, width, options_.channel_multiple);
}

at::Tensor SlimConvImpl::forward(const at::Tensor& x, const ForwardContext& ctx) const {
  const auto& o = options_;
  const int64_t c_in = x.size(1);
  if (c_in > (o.depthwise ? o.out_channels : o.in_channels)) {
    throw std::invalid_argument("SlimConv: input has " + std::to_string(c_in) +
                                " channels, the layer at most " + std::to_string(o.in_channels));
  }
  const int64_t c_out = o.depthwise ? c_in : out_channels_at(ctx.width);
  const int64_t groups = o.depthwise ? c_in : 1;
  at::Tensor w = weight.narrow(0, 0, c_out);
  if (!o.depthwise) w = w.narrow(1, 0, c_in);
  at::Tensor b = bias.defined() ? bias.narrow(0, 0, c_out) : at::Tensor();
  at::Tensor y;
  if (o.kernel.size() == 2) {
    y = at::conv2d(x, w, b, o.stride, o.padding, {1, 1}, groups);
  } else if (ctx.folded_frames > 0) {
    y = conv3d_over_frames(x, w, b, o.stride, o.padding, groups, ctx.folded_frames, o.causal);
  } else {
    y = at::conv3d(o.causal ? pad_past(x, 2, o.kernel[0] - 1) : x, w, b, o.stride, o.padding,
                   {1, 1, 1}, groups);
  }
  if (ctx.cost) {
    int64_t kernel_volume = 1;
    for (int64_t k : o.kernel) kernel_volume *= k;
    ctx.cost->flops += 2.0 * static_cast<double>(y.numel()) * (c_in / groups) * kernel_volume;
    ctx.cost->params += w.numel() + (b.defined() ? b.numel() : 0);
  }
  return y;
}

std::optional<FrameConv> frame_conv_kind(const std::vector<int64_t>& kernel,
                                         const std::vector<int64_t>& stride,
                                         const std::vector<int64_t>& padding) {
  if (kernel[0] == 1 && stride[0] == 1 && padding[0] == 0) return FrameConv::kSpatial;
  if (kernel[1] == 1 && kernel[2] == 1 && stride == std::vector<int64_t>{1, 1, 1} &&
      padding[1] == 0 && padding[2] == 0) {
    return FrameConv::kTemporal;
  }
  return std::nullopt;
}

at::Tensor conv3d_over_frames(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                              const std::vector<int64_t>& stride,
                              const std::vector<int64_t>& padding, int64_t groups, int64_t frames,
                              bool causal) {
  const std::vector<int64_t> kernel =
      w.sizes().slice(2).vec();  // of [out, in / groups, kt, kh, kw]
  const std::optional<FrameConv> kind = frame_conv_kind(kernel, stride, padding);
  if (kind == FrameConv::kSpatial) {  // every frame
    if (kernel[1] == 1 && kernel[2] == 1 && padding[1] == 0 && padding[2] == 0 &&
        (stride[1] > 1 || stride[2] > 1)) {
      // A strided 1x1 conv is the 1x1 conv of every stride-th pixel. Run it
      // so: LibTorch 1.13's oneDNN backward of a strided 1x1 conv on
      // channels-last input with fewer than 16 input channels (AVX-512)
      // writes past its workspace and corrupts the heap (docs/training.md).
      const at::Tensor pixels = x.slice(2, 0, c10::nullopt, stride[1])
                                    .slice(3, 0, c10::nullopt, stride[2])
                                    .contiguous(at::MemoryFormat::ChannelsLast);
      const std::vector<int64_t> one{1, 1}, none{0, 0};
      return at::conv2d(pixels, w.squeeze(2), b, one, none, one, groups);
    }
    return at::conv2d(x, w.squeeze(2), b, {stride[1], stride[2]}, {padding[1], padding[2]}, {1, 1},
                      groups);
  }
  if (kind == FrameConv::kTemporal) {  // [N*T, C, H, W] -> [N, C, T, H*W] and back, views
    const int64_t h = x.size(2), wd = x.size(3);
    at::Tensor clip =
        x.permute({0, 2, 3, 1}).reshape({-1, frames, h * wd, x.size(1)}).permute({0, 3, 1, 2});
    if (causal) clip = pad_past(clip, 2, kernel[0] - 1);
    const at::Tensor y =
        at::conv2d(clip, w.squeeze(-1), b, {1, 1}, {padding[0], 0}, {1, 1}, groups);
    return y.permute({0, 2, 3, 1}).reshape({-1, h, wd, y.size(1)}).permute({0, 3, 1, 2});
  }
  std::ostringstream msg;
  msg << "conv3d_over_frames: kernel " << at::IntArrayRef(kernel) << " with stride "
      << at::IntArrayRef(stride)
      << " is neither spatial (1, kh, kw) nor temporal (kt, 1, 1) with stride 1";
  throw std::invalid_argument(msg.str());
}

at::Tensor pad_past(const at::Tensor& x, int64_t dim, int64_t frames) {
  if (frames == 0) return x;
  std::vector<int64_t> pad(2 * (x.dim() - dim), 0);  // (before, after) from the last dim back
  pad[pad.size() - 2] = frames;
  return at::constant_pad_nd(x, pad);
}

SwitchableBatchNormImpl::SwitchableBatchNormImpl(const SwitchableBatchNormOptions& o)
    : mode_(o.mode), momentum_(o.momentum), eps_(o.eps) {
  if (o.widths.empty()) throw std::invalid_argument("SwitchableBatchNorm: no width");
  const double scale = o.zero_scale ? 0.0 : 1.0;
  if (mode_ == WidthMode::kUniversal) {
    weights_.push_back(register_parameter("weight", torch::full({o.channels}, scale)));
    biases_.push_back(register_parameter("bias", torch::zeros({o.channels})));
  }
  for (size_t i = 0; i < o.widths.size(); ++i) {
    const int64_t c = channels_at(o.channels, o.widths[i], o.channel_multiple);
    channels_.push_back(c);
    const std::string k = std::to_string(i);
    if (mode_ == WidthMode::kDiscrete) {
      weights_.push_back(register_parameter("weight" + k, torch::full({c}, scale)));
      biases_.push_back(register_parameter("bias" + k, torch::zeros({c})));
    }
    means_.push_back(register_buffer("running_mean" + k, torch::zeros({c})));
    vars_.push_back(register_buffer("running_var" + k, torch::ones({c})));
  }
}

SwitchableBatchNormImpl::Params SwitchableBatchNormImpl::params_at(int i) const {
  const int64_t c = channels_.at(i);
  const size_t affine = mode_ == WidthMode::kDiscrete ? i : 0;
  return {weights_[affine].narrow(0, 0, c), biases_[affine].narrow(0, 0, c), means_[i], vars_[i]};
}

void SwitchableBatchNormImpl::set_params_at(int i, const Params& from) {
  const Params p = params_at(i);
  const int64_t c = p.weight.size(0);
  p.weight.copy_(from.weight.narrow(0, 0, c));
  p.bias.copy_(from.bias.narrow(0, 0, c));
  p.mean.copy_(from.mean.narrow(0, 0, c));
  p.var.copy_(from.var.narrow(0, 0, c));
}

void SwitchableBatchNormImpl::reset_statistics() {
  torch::NoGradGuard no_grad;
  for (auto& m : means_) m.zero_();
  for (auto& v : vars_) v.fill_(1);
}

at::Tensor SwitchableBatchNormImpl::forward(const at::Tensor& x, const ForwardContext& ctx) const {
  const int64_t c = x.size(1);
  const int i = ctx.model_width_index;
  if (i >= static_cast<int>(channels_.size()))
    throw std::out_of_range("SwitchableBatchNorm: width index");
  if (mode_ == WidthMode::kDiscrete || !is_training() || ctx.bn_calibration_momentum >= 0) {
    if (i < 0) {
      std::ostringstream msg;
      msg << "width " << ctx.width << " is not one of the model's widths"
          << (mode_ == WidthMode::kDiscrete ? " (discrete mode)"
                                            : " (statistics exist for listed widths only)");
      throw std::invalid_argument(msg.str());
    }
    if (c != channels_[i]) {
      throw std::invalid_argument("SwitchableBatchNorm: input has " + std::to_string(c) +
                                  " channels, width index " + std::to_string(i) + " expects " +
                                  std::to_string(channels_[i]));
    }
  }
  const size_t affine = mode_ == WidthMode::kDiscrete ? i : 0;
  const at::Tensor w = weights_[affine].narrow(0, 0, c), b = biases_[affine].narrow(0, 0, c);
  at::Tensor y;
  if (mode_ == WidthMode::kUniversal && is_training()) {
    // Batch statistics; running ones only while recalibrating.
    const bool calibrating = ctx.bn_calibration_momentum >= 0;
    y = batch_norm(x, w, b, calibrating ? means_[i] : at::Tensor(),
                   calibrating ? vars_[i] : at::Tensor(), true,
                   calibrating ? ctx.bn_calibration_momentum : 0.0, eps_);
  } else {
    y = batch_norm(x, w, b, means_[i], vars_[i], is_training(), momentum_, eps_);
  }
  if (ctx.cost) ctx.cost->params += 2 * c;
  return y;
}

SlimLinearImpl::SlimLinearImpl(int64_t in_features, int64_t out_features, bool fixed_out,
                               int64_t channel_multiple)
    : out_features_(out_features), fixed_out_(fixed_out), channel_multiple_(channel_multiple) {
  weight = register_parameter("weight", torch::empty({out_features, in_features}));
  bias = register_parameter("bias", torch::zeros({out_features}));
  torch::nn::init::normal_(weight, 0, 0.01);
}

std::pair<at::Tensor, at::Tensor> SlimLinearImpl::at_width(double width,
                                                           int64_t in_features) const {
  const int64_t out = out_features_at(width);
  return {weight.narrow(0, 0, out).narrow(1, 0, in_features), bias.narrow(0, 0, out)};
}

at::Tensor SlimLinearImpl::forward(const at::Tensor& x, const ForwardContext& ctx) const {
  const int64_t in = x.size(1), out = out_features_at(ctx.width);
  const auto [w, b] = at_width(ctx.width, in);
  if (ctx.cost) {
    ctx.cost->flops += 2.0 * static_cast<double>(x.size(0)) * in * out;
    ctx.cost->params += w.numel() + b.numel();
  }
  return at::linear(x, w, b);
}

int64_t SlimLinearImpl::out_features_at(double width) const {
  return fixed_out_ ? out_features_ : channels_at(out_features_, width, channel_multiple_);
}

}  // namespace adaptive
