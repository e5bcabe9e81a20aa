#include "models/backbones.h"

#include <torch/torch.h>

namespace adaptive {
namespace {

// `causal`: a 3D kernel that spans frames sees only the past (SlimConvOptions::causal).
SlimConvOptions conv_options(int64_t in, int64_t out, std::vector<int64_t> kernel,
                             std::vector<int64_t> stride, bool depthwise = false,
                             bool causal = false) {
  SlimConvOptions o;
  o.in_channels = in;
  o.out_channels = out;
  o.padding.resize(kernel.size());
  for (size_t i = 0; i < kernel.size(); ++i) o.padding[i] = kernel[i] / 2;
  if (causal && kernel.size() == 3 && kernel[0] > 1) {
    o.causal = true;
    o.padding[0] = 0;
  }
  o.kernel = std::move(kernel);
  o.stride = std::move(stride);
  o.depthwise = depthwise;
  return o;
}

// The options stage `stage` is built with (0: the stem, s: stage s): before
// model.temporal_from_stage, temporal kernels see one frame.
ModelOptions stage_options(const ModelOptions& m, int64_t stage) {
  ModelOptions o = m;
  if (stage < m.temporal_from_stage) o.temporal_kernel = 1;
  return o;
}

// Registers the residual stages on `net`: stage s has base_channels << s
// channels and blocks[s] blocks, the first block of every stage after the
// first with spatial stride 2. Sets `channels` to the last stage's width.
// Returns the blocks with their names.
template <class Block>
std::vector<std::pair<std::string, Block>> build_stages(torch::nn::Module& net,
                                                        const ModelOptions& m, int64_t& channels) {
  std::vector<std::pair<std::string, Block>> blocks;
  int64_t in = m.base_channels;
  for (size_t s = 0; s < m.blocks.size(); ++s) {
    const int64_t out = m.base_channels << s;
    for (int b = 0; b < m.blocks[s]; ++b) {
      const int64_t stride = (s > 0 && b == 0) ? 2 : 1;
      const std::string name = "stage" + std::to_string(s + 1) + "_" + std::to_string(b + 1);
      blocks.emplace_back(
          name, net.register_module(name, Block(in, out, stride, stage_options(m, s + 1))));
      in = out;
    }
  }
  channels = in;
  return blocks;
}

// ---------------------------------------------------------------- r2plus1d

// A spatio-temporal conv: (2+1)D = spatial ConvBn + ReLU, then temporal
// ConvBn; or one 3D ConvBn. The last BN's ReLU is up to the caller.
class SpatioTemporalImpl : public torch::nn::Module {
 public:
  SpatioTemporalImpl(int64_t in, int64_t out, int64_t spatial_stride, const ModelOptions& m,
                     bool zero_scale = false) {
    const int64_t kt = m.temporal_kernel;
    if (m.factorized) {
      spatial = register_module(
          "spatial",
          ConvBn(conv_options(in, out, {1, 3, 3}, {1, spatial_stride, spatial_stride}), m));
      temporal = register_module(
          "temporal",
          ConvBn(conv_options(out, out, {kt, 1, 1}, {1, 1, 1}, false, m.causal), m, zero_scale));
    } else {
      spatial = register_module(
          "conv", ConvBn(conv_options(in, out, {kt, 3, 3}, {1, spatial_stride, spatial_stride},
                                      false, m.causal),
                         m, zero_scale));
    }
  }
  NetValue apply(NetBackend& b, const std::string& name, const NetValue& x, bool relu) const {
    if (!temporal) return b.conv_bn(name + "_conv", *spatial, x, relu);
    return b.conv_bn(name + "_temporal", *temporal, b.conv_bn(name + "_spatial", *spatial, x, true),
                     relu);
  }
  ConvBn spatial{nullptr}, temporal{nullptr};
};
TORCH_MODULE(SpatioTemporal);

class BasicBlock3dImpl : public torch::nn::Module {
 public:
  BasicBlock3dImpl(int64_t in, int64_t out, int64_t stride, const ModelOptions& m) {
    conv1 = register_module("conv1", SpatioTemporal(in, out, stride, m));
    conv2 = register_module("conv2", SpatioTemporal(out, out, 1, m, /*zero_scale=*/true));
    if (stride != 1 || in != out) {
      shortcut = register_module("shortcut",
                                 ConvBn(conv_options(in, out, {1, 1, 1}, {1, stride, stride}), m));
    }
  }
  NetValue apply(NetBackend& b, const std::string& name, const NetValue& x) const {
    const NetValue y =
        conv2->apply(b, name + "_conv2", conv1->apply(b, name + "_conv1", x, true), false);
    return b.add_relu(y, shortcut ? b.conv_bn(name + "_shortcut", *shortcut, x, false) : x);
  }
  SpatioTemporal conv1{nullptr}, conv2{nullptr};
  ConvBn shortcut{nullptr};
};
TORCH_MODULE(BasicBlock3d);

// (2+1)D runs as 2D convs over the folded clip (NetValue::Layout::kFoldedClip),
// full 3D on the clip.
class R2Plus1dNet : public SlimmableNet {
 public:
  explicit R2Plus1dNet(const ModelOptions& m)
      : SlimmableNet(m), motion_input_(m.motion_input), factorized_(m.factorized) {
    const int64_t c0 = m.base_channels;
    stem_ =
        register_module("stem", SpatioTemporal(m.motion_input ? 6 : 3, c0, 2, stage_options(m, 0)));
    blocks_ = build_stages<BasicBlock3d>(*this, m, channels_);
    build_classifier();
  }
  NetValue apply_features(NetBackend& b, const NetValue& clips) const override {
    NetValue x = factorized_ ? b.fold_frames(clips, motion_input_)
                             : (motion_input_ ? b.with_motion(clips) : clips);
    x = stem_->apply(b, "stem", x, true);
    for (const auto& [name, block] : blocks_) x = block->apply(b, name, x);
    return b.pool(x);
  }
  int64_t feature_channels() const override { return channels_; }

 private:
  bool motion_input_, factorized_;
  SpatioTemporal stem_{nullptr};
  std::vector<std::pair<std::string, BasicBlock3d>> blocks_;
  int64_t channels_ = 0;
};

// -------------------------------------------------------------- tsm_mobile

// Depthwise-separable residual block on frames: shift, depthwise 3x3 ConvBn
// ReLU, pointwise 1x1 ConvBn, plus the (projected) input, ReLU.
class ShiftBlockImpl : public torch::nn::Module {
 public:
  ShiftBlockImpl(int64_t in, int64_t out, int64_t stride, const ModelOptions& m)
      : shift_(m.shift_fraction), causal_(m.causal) {
    depthwise = register_module("depthwise",
                                ConvBn(conv_options(in, in, {3, 3}, {stride, stride}, true), m));
    pointwise = register_module(
        "pointwise", ConvBn(conv_options(in, out, {1, 1}, {1, 1}), m, /*zero_scale=*/true));
    if (stride != 1 || in != out) {
      shortcut =
          register_module("shortcut", ConvBn(conv_options(in, out, {1, 1}, {stride, stride}), m));
    }
  }
  NetValue apply(NetBackend& b, const std::string& name, const NetValue& x) const {
    NetValue y =
        b.conv_bn(name + "_depthwise", *depthwise, b.temporal_shift(x, shift_, causal_), true);
    y = b.conv_bn(name + "_pointwise", *pointwise, y, false);
    return b.add_relu(y, shortcut ? b.conv_bn(name + "_shortcut", *shortcut, x, false) : x);
  }
  ConvBn depthwise{nullptr}, pointwise{nullptr}, shortcut{nullptr};

 private:
  double shift_;
  bool causal_;
};
TORCH_MODULE(ShiftBlock);

class TsmMobileNet : public SlimmableNet {
 public:
  explicit TsmMobileNet(const ModelOptions& m) : SlimmableNet(m) {
    const int64_t c0 = m.base_channels;
    stem_ = register_module("stem", ConvBn(conv_options(3, c0, {3, 3}, {2, 2}), m));
    blocks_ = build_stages<ShiftBlock>(*this, m, channels_);
    build_classifier();
  }
  NetValue apply_features(NetBackend& b, const NetValue& clips) const override {
    NetValue x = b.conv_bn("stem", *stem_, b.frames_of(clips), true);
    for (const auto& [name, block] : blocks_) x = block->apply(b, name, x);
    return b.pool(x);
  }
  int64_t feature_channels() const override { return channels_; }

 private:
  ConvBn stem_{nullptr};
  std::vector<std::pair<std::string, ShiftBlock>> blocks_;
  int64_t channels_ = 0;
};

}  // namespace

std::shared_ptr<SlimmableNet> build_r2plus1d(const ModelOptions& options) {
  return std::make_shared<R2Plus1dNet>(options);
}

std::shared_ptr<SlimmableNet> build_tsm_mobile(const ModelOptions& options) {
  return std::make_shared<TsmMobileNet>(options);
}

}  // namespace adaptive
