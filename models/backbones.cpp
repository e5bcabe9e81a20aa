#include "models/backbones.h"

#include <torch/torch.h>

namespace adaptive {
namespace {

SlimConvOptions conv_options(int64_t in, int64_t out, std::vector<int64_t> kernel,
                             std::vector<int64_t> stride, bool depthwise = false) {
  SlimConvOptions o;
  o.in_channels = in;
  o.out_channels = out;
  o.padding.resize(kernel.size());
  for (size_t i = 0; i < kernel.size(); ++i) o.padding[i] = kernel[i] / 2;
  o.kernel = std::move(kernel);
  o.stride = std::move(stride);
  o.depthwise = depthwise;
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
      blocks.emplace_back(name, net.register_module(name, Block(in, out, stride, m)));
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
          "temporal", ConvBn(conv_options(out, out, {kt, 1, 1}, {1, 1, 1}), m, zero_scale));
    } else {
      spatial = register_module(
          "conv", ConvBn(conv_options(in, out, {kt, 3, 3}, {1, spatial_stride, spatial_stride}), m,
                         zero_scale));
    }
  }
  at::Tensor forward(const at::Tensor& x, const ForwardContext& ctx, bool relu) {
    if (!temporal) return spatial->forward(x, ctx, relu);
    return temporal->forward(spatial->forward(x, ctx, true), ctx, relu);
  }
  ScriptValue lower(ScriptBuilder& s, const std::string& name, const ScriptValue& x,
                    const ForwardContext& ctx, bool relu) const {
    if (!temporal) return spatial->lower(s, name + "_conv", x, ctx, relu);
    return temporal->lower(s, name + "_temporal",
                           spatial->lower(s, name + "_spatial", x, ctx, true), ctx, relu);
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
  at::Tensor forward(const at::Tensor& x, const ForwardContext& ctx) {
    at::Tensor y = conv2->forward(conv1->forward(x, ctx, true), ctx, false);
    return at::relu(y + (shortcut ? shortcut->forward(x, ctx, false) : x));
  }
  ScriptValue lower(ScriptBuilder& s, const std::string& name, const ScriptValue& x,
                    const ForwardContext& ctx) const {
    const ScriptValue y = conv2->lower(s, name + "_conv2",
                                       conv1->lower(s, name + "_conv1", x, ctx, true), ctx, false);
    const ScriptValue r = shortcut ? shortcut->lower(s, name + "_shortcut", x, ctx, false) : x;
    return s.let("torch.relu_(" + y.name + ".add_(" + r.name + "))", y.channels, y.time_folded);
  }
  SpatioTemporal conv1{nullptr}, conv2{nullptr};
  ConvBn shortcut{nullptr};
};
TORCH_MODULE(BasicBlock3d);

class R2Plus1dNet : public SlimmableNet {
 public:
  explicit R2Plus1dNet(const ModelOptions& m)
      : SlimmableNet(m), motion_input_(m.motion_input), factorized_(m.factorized) {
    const int64_t c0 = m.base_channels;
    stem_ = register_module("stem", SpatioTemporal(m.motion_input ? 6 : 3, c0, 2, m));
    blocks_ = build_stages<BasicBlock3d>(*this, m, channels_);
    build_classifier();
  }
  at::Tensor features(const at::Tensor& clips, const ForwardContext& ctx) override {
    if (!factorized_) {
      at::Tensor x = stem_->forward(motion_input_ ? with_motion(clips) : clips, ctx, true);
      for (auto& [name, block] : blocks_) x = block->forward(x, ctx);
      return x.mean({2, 3, 4});
    }
    // (2+1)D runs as 2D convs over frames, as the export does (script_builder.h)
    ForwardContext folded = ctx;
    folded.folded_frames = clips.size(2);
    at::Tensor x = stem_->forward(
        motion_input_ ? fold_frames_with_motion(clips) : fold_frames(clips), folded, true);
    for (auto& [name, block] : blocks_) x = block->forward(x, folded);
    return pool_frames(x, folded.folded_frames);
  }
  ScriptValue lower_features(ScriptBuilder& s, const ScriptValue& clips,
                             const ForwardContext& ctx) const override {
    ScriptValue x = clips;
    const std::string& c = clips.name;
    if (factorized_ && motion_input_) {
      // fold_frames_with_motion(), written in place into one [N, T, H, W, 2C]
      // tensor: no temporaries (with them the Jester-scale narrowest's
      // working memory at batch 8 was 180 MiB, without 137)
      const std::string ch = std::to_string(clips.channels),
                        ch2 = std::to_string(2 * clips.channels);
      const std::string v = s.let(c + ".permute(0, 2, 3, 4, 1)");
      const std::string f =
          s.let("torch.empty([" + c + ".size(0), " + c + ".size(2), " + c + ".size(3), " + c +
                ".size(4), " + ch2 + "], dtype=" + c + ".dtype, device=" + c + ".device)");
      s.emit(f + "[:, :, :, :, :" + ch + "] = " + v);
      s.emit(f + "[:, :1, :, :, " + ch + ":] = 0.0");
      s.emit("torch.sub(" + v + "[:, 1:], " + v + "[:, :-1], out=" + f + "[:, 1:, :, :, " + ch +
             ":])");
      x = s.let(
          f + ".view(-1, " + c + ".size(3), " + c + ".size(4), " + ch2 + ").permute(0, 3, 1, 2)",
          2 * clips.channels, true);
    } else if (factorized_) {  // (2+1)D runs as 2D convs over frames (script_builder.h)
      x = s.let(c + ".permute(0, 2, 3, 4, 1).reshape(-1, " + c + ".size(3), " + c + ".size(4), " +
                    std::to_string(clips.channels) + ").permute(0, 3, 1, 2)",
                clips.channels, true);
    } else if (motion_input_) {  // with_motion(): frame differences, frame 0's zero
      x = s.let("torch.cat([" + c + ", torch.cat([torch.zeros_like(" + c + "[:, :, :1]), " + c +
                    "[:, :, 1:] - " + c + "[:, :, :-1]], 2)], 1)",
                2 * clips.channels);
    }
    x = stem_->lower(s, "stem", x, ctx, true);
    for (const auto& [name, block] : blocks_) x = block->lower(s, name, x, ctx);
    if (!factorized_) return s.let(x.name + ".mean([2, 3, 4])", x.channels);
    return s.let(x.name + ".mean([2, 3]).view(-1, " + std::to_string(s.frames()) + ", " +
                     std::to_string(x.channels) + ").mean(1)",
                 x.channels);
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
      : shift_(m.shift_fraction) {
    depthwise = register_module("depthwise",
                                ConvBn(conv_options(in, in, {3, 3}, {stride, stride}, true), m));
    pointwise = register_module(
        "pointwise", ConvBn(conv_options(in, out, {1, 1}, {1, 1}), m, /*zero_scale=*/true));
    if (stride != 1 || in != out) {
      shortcut =
          register_module("shortcut", ConvBn(conv_options(in, out, {1, 1}, {stride, stride}), m));
    }
  }
  at::Tensor forward(const at::Tensor& x, int64_t frames, const ForwardContext& ctx) {
    at::Tensor y = depthwise->forward(temporal_shift(x, frames, shift_), ctx, true);
    y = pointwise->forward(y, ctx, false);
    return at::relu(y + (shortcut ? shortcut->forward(x, ctx, false) : x));
  }
  ScriptValue lower(ScriptBuilder& s, const std::string& name, const ScriptValue& x,
                    const ForwardContext& ctx) const {
    ScriptValue y = depthwise->lower(s, name + "_depthwise", lower_shift(s, x), ctx, true);
    y = pointwise->lower(s, name + "_pointwise", y, ctx, false);
    const ScriptValue r = shortcut ? shortcut->lower(s, name + "_shortcut", x, ctx, false) : x;
    return s.let("torch.relu_(" + y.name + ".add_(" + r.name + "))", y.channels);
  }
  ConvBn depthwise{nullptr}, pointwise{nullptr}, shortcut{nullptr};

 private:
  // temporal_shift() as TorchScript: the same fold, zero-filled at the ends.
  ScriptValue lower_shift(ScriptBuilder& s, const ScriptValue& x) const {
    const int64_t fold = static_cast<int64_t>(x.channels * shift_ / 2);
    const int64_t t = s.frames();
    if (fold == 0 || t < 2) return x;
    const std::string v =
        s.let(x.name + ".view(-1, " + std::to_string(t) + ", " + std::to_string(x.channels) + ", " +
              x.name + ".size(2), " + x.name + ".size(3))");
    const std::string f = std::to_string(fold), f2 = std::to_string(2 * fold);
    const std::string forward = "torch.cat([torch.zeros_like(" + v + "[:, :1, :" + f + "]), " + v +
                                "[:, :-1, :" + f + "]], 1)";
    const std::string back = "torch.cat([" + v + "[:, 1:, " + f + ":" + f2 +
                             "], torch.zeros_like(" + v + "[:, :1, " + f + ":" + f2 + "])], 1)";
    return s.let("torch.cat([" + forward + ", " + back + ", " + v + "[:, :, " + f2 +
                     ":]], 2).view(" + x.name + ".size())",
                 x.channels);
  }
  double shift_;
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
  at::Tensor features(const at::Tensor& clips, const ForwardContext& ctx) override {
    const int64_t n = clips.size(0), t = clips.size(2);
    // [N, 3, T, H, W] -> frames [N*T, 3, H, W]
    at::Tensor x =
        clips.transpose(1, 2).reshape({n * t, clips.size(1), clips.size(3), clips.size(4)});
    x = stem_->forward(x, ctx);
    for (auto& [name, block] : blocks_) x = block->forward(x, t, ctx);
    return pool_frames(x, t);
  }
  ScriptValue lower_features(ScriptBuilder& s, const ScriptValue& clips,
                             const ForwardContext& ctx) const override {
    const std::string& c = clips.name;
    ScriptValue x = s.let(
        c + ".transpose(1, 2).reshape(-1, " + c + ".size(1), " + c + ".size(3), " + c + ".size(4))",
        clips.channels);
    x = stem_->lower(s, "stem", x, ctx, true);
    for (const auto& [name, block] : blocks_) x = block->lower(s, name, x, ctx);
    return s.let(x.name + ".mean([2, 3]).view(-1, " + std::to_string(s.frames()) + ", " +
                     std::to_string(x.channels) + ").mean(1)",
                 x.channels);
  }
  int64_t feature_channels() const override { return channels_; }

 private:
  ConvBn stem_{nullptr};
  std::vector<std::pair<std::string, ShiftBlock>> blocks_;
  int64_t channels_ = 0;
};

}  // namespace

namespace {

// Frame differences along `time`: frame t's is x[t] - x[t - 1], frame 0's zero.
at::Tensor frame_differences(const at::Tensor& x, int64_t time) {
  return torch::cat(
      {torch::zeros_like(x.narrow(time, 0, 1)), x.slice(time, 1) - x.slice(time, 0, -1)}, time);
}

}  // namespace

at::Tensor with_motion(const at::Tensor& clips) {
  return torch::cat({clips, frame_differences(clips, 2)}, 1);
}

at::Tensor fold_frames_with_motion(const at::Tensor& clips) {
  const at::Tensor v = clips.permute({0, 2, 3, 4, 1});  // [N, T, H, W, C]
  return torch::cat({v, frame_differences(v, 1)}, 4)
      .contiguous()
      .view({-1, clips.size(3), clips.size(4), 2 * clips.size(1)})
      .permute({0, 3, 1, 2});
}

at::Tensor temporal_shift(const at::Tensor& x, int64_t frames, double fraction) {
  const int64_t c = x.size(1);
  const int64_t fold = static_cast<int64_t>(c * fraction / 2);
  if (fold == 0 || frames < 2) return x;
  const at::Tensor v = x.view({x.size(0) / frames, frames, c, x.size(2), x.size(3)});
  at::Tensor out = torch::zeros_like(v);
  using torch::indexing::Slice;
  // Channels [0, fold): frame t takes frame t-1 (shift forward in time).
  out.index_put_({Slice(), Slice(1), Slice(0, fold)},
                 v.index({Slice(), Slice(0, -1), Slice(0, fold)}));
  // Channels [fold, 2*fold): frame t takes frame t+1.
  out.index_put_({Slice(), Slice(0, -1), Slice(fold, 2 * fold)},
                 v.index({Slice(), Slice(1), Slice(fold, 2 * fold)}));
  out.index_put_({Slice(), Slice(), Slice(2 * fold)}, v.index({Slice(), Slice(), Slice(2 * fold)}));
  return out.view_as(x);
}

std::shared_ptr<SlimmableNet> build_r2plus1d(const ModelOptions& options) {
  return std::make_shared<R2Plus1dNet>(options);
}

std::shared_ptr<SlimmableNet> build_tsm_mobile(const ModelOptions& options) {
  return std::make_shared<TsmMobileNet>(options);
}

}  // namespace adaptive
