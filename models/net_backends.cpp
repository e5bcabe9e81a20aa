// Each leaf op's bodies side by side: EagerBackend (tensors) first, then
// ScriptBackend (TorchScript source). A change to one body is a change to
// the other: tests/models/net_backends_test.cpp holds them to the same
// numbers.
#include "models/net_backends.h"

#include <algorithm>
#include <stdexcept>

#include <torch/torch.h>

#include "models/slimmable_net.h"

namespace adaptive {

using Layout = NetValue::Layout;

NetValue EagerBackend::value(at::Tensor tensor, Layout layout) {
  const int64_t channels = tensor.dim() >= 2 ? tensor.size(1) : 0;
  return {std::move(tensor), "", channels, layout};
}

NetValue ScriptBackend::argument(const std::string& name, int64_t channels, Layout layout) {
  return {at::Tensor(), name, channels, layout};
}

NetValue ScriptBackend::let(const std::string& expr, int64_t channels, Layout layout) {
  return {at::Tensor(), s_.let(expr), channels, layout};
}

// ------------------------------------------------------------ fold_frames

at::Tensor fold_frames(const at::Tensor& clips) {
  // [N, C, T, H, W] -> memory [N, T, H, W, C] -> [N*T, C, H, W] channels-last
  return clips.permute({0, 2, 3, 4, 1})
      .contiguous()
      .view({-1, clips.size(3), clips.size(4), clips.size(1)})
      .permute({0, 3, 1, 2});
}

at::Tensor fold_frames_with_motion(const at::Tensor& clips) {
  // Written with out= and in-place copies: clips never need a gradient.
  const int64_t n = clips.size(0), c = clips.size(1), t = clips.size(2);
  const at::Tensor v = clips.permute({0, 2, 3, 4, 1});  // [N, T, H, W, C]
  at::Tensor folded = at::empty({n, t, clips.size(3), clips.size(4), 2 * c}, clips.options());
  folded.narrow(4, 0, c).copy_(v);
  at::Tensor differences = folded.narrow(4, c, c);
  differences.narrow(1, 0, 1).zero_();
  at::Tensor later = differences.narrow(1, 1, t - 1);
  at::sub_out(later, v.narrow(1, 1, t - 1), v.narrow(1, 0, t - 1));
  return folded.view({-1, clips.size(3), clips.size(4), 2 * c}).permute({0, 3, 1, 2});
}

NetValue EagerBackend::fold_frames(const NetValue& clip, bool motion) {
  return value(motion ? fold_frames_with_motion(clip.tensor) : adaptive::fold_frames(clip.tensor),
               Layout::kFoldedClip);
}

NetValue ScriptBackend::fold_frames(const NetValue& clip, bool motion) {
  const std::string& c = clip.name;
  const std::string ch = std::to_string(clip.channels);
  if (!motion) {
    return let(c + ".permute(0, 2, 3, 4, 1).reshape(-1, " + c + ".size(3), " + c + ".size(4), " +
                   ch + ").permute(0, 3, 1, 2)",
               clip.channels, Layout::kFoldedClip);
  }
  const std::string ch2 = std::to_string(2 * clip.channels);
  const std::string v = s_.let(c + ".permute(0, 2, 3, 4, 1)");
  const std::string f =
      s_.let("torch.empty([" + c + ".size(0), " + c + ".size(2), " + c + ".size(3), " + c +
             ".size(4), " + ch2 + "], dtype=" + c + ".dtype, device=" + c + ".device)");
  s_.emit(f + "[:, :, :, :, :" + ch + "] = " + v);
  s_.emit(f + "[:, :1, :, :, " + ch + ":] = 0.0");
  s_.emit("torch.sub(" + v + "[:, 1:], " + v + "[:, :-1], out=" + f + "[:, 1:, :, :, " + ch +
          ":])");
  return let(f + ".view(-1, " + c + ".size(3), " + c + ".size(4), " + ch2 + ").permute(0, 3, 1, 2)",
             2 * clip.channels, Layout::kFoldedClip);
}

// The step's motion input: clip [N, C, 1, H, W] and its difference from the
// previous frame (none before the first: zero, as in a clip's first frame).
NetValue StepScriptBackend::with_frame_difference(const NetValue& clip) {
  const std::string& c = clip.name;
  const std::string previous = slot(c);
  new_slots_.push_back(c + ".clone()");  // the caller may reuse its frame's memory
  return let("torch.cat([" + c + ", " + c + " - " + previous + "], 1)", 2 * clip.channels,
             Layout::kClip);
}

NetValue StepScriptBackend::fold_frames(const NetValue& clip, bool motion) {
  return ScriptBackend::fold_frames(motion ? with_frame_difference(clip) : clip, false);
}

NetValue PrefillScriptBackend::fold_frames(const NetValue& clip, bool motion) {
  if (motion) slots_.push_back(clip.name + "[:, :, " + std::to_string(frames_ - 1) + ":].clone()");
  return ScriptBackend::fold_frames(clip, motion);
}

// ------------------------------------------------------------ with_motion

at::Tensor with_motion(const at::Tensor& clips) {
  const at::Tensor differences = torch::cat(
      {torch::zeros_like(clips.narrow(2, 0, 1)), clips.slice(2, 1) - clips.slice(2, 0, -1)}, 2);
  return torch::cat({clips, differences}, 1);
}

NetValue EagerBackend::with_motion(const NetValue& clip) {
  return value(adaptive::with_motion(clip.tensor), Layout::kClip);
}

NetValue ScriptBackend::with_motion(const NetValue& clip) {
  const std::string& c = clip.name;
  return let("torch.cat([" + c + ", torch.cat([torch.zeros_like(" + c + "[:, :, :1]), " + c +
                 "[:, :, 1:] - " + c + "[:, :, :-1]], 2)], 1)",
             2 * clip.channels, Layout::kClip);
}

NetValue StepScriptBackend::with_motion(const NetValue& clip) {
  return with_frame_difference(clip);
}

NetValue PrefillScriptBackend::with_motion(const NetValue& clip) {
  slots_.push_back(clip.name + "[:, :, " + std::to_string(frames_ - 1) + ":].clone()");
  return ScriptBackend::with_motion(clip);
}

// -------------------------------------------------------------- frames_of

NetValue EagerBackend::frames_of(const NetValue& clip) {
  const at::Tensor& c = clip.tensor;
  return value(c.transpose(1, 2).reshape({-1, c.size(1), c.size(3), c.size(4)}), Layout::kFrames);
}

NetValue ScriptBackend::frames_of(const NetValue& clip) {
  const std::string& c = clip.name;
  return let(
      c + ".transpose(1, 2).reshape(-1, " + c + ".size(1), " + c + ".size(3), " + c + ".size(4))",
      clip.channels, Layout::kFrames);
}

// ---------------------------------------------------------------- conv_bn

NetValue EagerBackend::conv_bn(const std::string& /*name*/, const ConvBnImpl& layer,
                               const NetValue& x, bool relu) {
  ForwardContext ctx = context_;
  ctx.folded_frames = x.layout == Layout::kFoldedClip ? frames_ : 0;
  return value(layer.forward(x.tensor, ctx, relu), x.layout);
}

std::string ScriptBackend::conv_call(const std::string& name, const ConvBnImpl& layer,
                                     const NetValue& x, const FoldedConvBn& folded,
                                     const std::string& input, const at::Tensor& weight,
                                     const std::vector<int64_t>& stride,
                                     const std::vector<int64_t>& padding, at::MemoryFormat memory,
                                     bool relu) {
  const bool conv3d = weight.dim() == 5;
  const std::string c = std::string(conv3d ? "torch.conv3d(" : "torch.conv2d(") + input + ", " +
                        s_.tensor(name + "_weight", weight, memory) + ", " +
                        s_.tensor(name + "_bias", folded.bias) + ", " + script_list(stride) + ", " +
                        script_list(padding) + ", " + (conv3d ? "[1, 1, 1]" : "[1, 1]") + ", " +
                        std::to_string(layer.conv->options().depthwise ? x.channels : 1) + ")";
  return relu ? "torch.relu_(" + c + ")" : c;
}

NetValue ScriptBackend::conv_bn(const std::string& name, const ConvBnImpl& layer, const NetValue& x,
                                bool relu) {
  const SlimConvOptions& o = layer.conv->options();
  const FoldedConvBn folded = layer.folded(name, x.channels, context_);
  const int64_t c_out = folded.weight.size(0);
  const bool is3d = o.kernel.size() == 3;
  const auto call = [&](const std::string& input, const at::Tensor& weight,
                        const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                        at::MemoryFormat memory) {
    return conv_call(name, layer, x, folded, input, weight, stride, padding, memory, relu);
  };
  // A causal conv's input of `rank` dims, time on axis 2, padded kt - 1
  // frames into the past (pad_past()).
  const auto past_padded = [&](const std::string& input, int64_t rank) {
    if (!o.causal) return input;
    std::vector<int64_t> pad(2 * (rank - 2), 0);  // (before, after) from the last axis back
    pad[pad.size() - 2] = o.kernel[0] - 1;
    return s_.let("torch.constant_pad_nd(" + input + ", " + script_list(pad) + ")");
  };
  if (x.layout != Layout::kFoldedClip) {
    return let(call(is3d ? past_padded(x.name, 5) : x.name, folded.weight, o.stride, o.padding,
                    at::MemoryFormat::Contiguous),
               c_out, x.layout);
  }
  if (!is3d) throw std::logic_error("ConvBn: " + name + ": a 2D conv on a folded clip");
  const auto& st = o.stride;
  const auto& p = o.padding;
  const std::optional<FrameConv> kind = frame_conv_kind(o.kernel, st, p);
  if (kind == FrameConv::kSpatial) {  // a 2D conv of every frame
    return let(call(x.name, folded.weight.squeeze(2), {st[1], st[2]}, {p[1], p[2]},
                    at::MemoryFormat::ChannelsLast),
               c_out, Layout::kFoldedClip);
  }
  if (kind == FrameConv::kTemporal) {
    // [N*T, C, H, W] -> [N, C, T, H*W] and back, views of channels-last memory
    const std::string& v = x.name;
    const std::string clip = s_.let(
        v + ".permute(0, 2, 3, 1).reshape(-1, " + std::to_string(frames_) + ", " + v +
        ".size(2) * " + v + ".size(3), " + std::to_string(x.channels) + ").permute(0, 3, 1, 2)");
    const std::string y = s_.let(call(past_padded(clip, 4), folded.weight.squeeze(-1), {1, 1},
                                      {p[0], 0}, at::MemoryFormat::ChannelsLast));
    return let(y + ".permute(0, 2, 3, 1).reshape(-1, " + v + ".size(2), " + v + ".size(3), " +
                   std::to_string(c_out) + ").permute(0, 3, 1, 2)",
               c_out, Layout::kFoldedClip);
  }
  throw std::logic_error("ConvBn: " + name + ": kernel " + script_list(o.kernel) +
                         " is neither spatial nor temporal, so a folded clip can't take it");
}

NetValue StepScriptBackend::conv_bn(const std::string& name, const ConvBnImpl& layer,
                                    const NetValue& x, bool relu) {
  const SlimConvOptions& o = layer.conv->options();
  if (o.kernel.size() != 3 || o.kernel[0] == 1) return ScriptBackend::conv_bn(name, layer, x, relu);
  if (!o.causal) {
    throw std::logic_error("ConvBn: " + name + ": a conv over " + std::to_string(o.kernel[0]) +
                           " frames that sees the future cannot stream (model.causal)");
  }
  const FoldedConvBn folded = layer.folded(name, x.channels, context_);
  const int64_t c_out = folded.weight.size(0), past = o.kernel[0] - 1;
  const std::string ch = std::to_string(x.channels);
  const std::string& v = x.name;
  if (x.layout == Layout::kClip) {  // a full 3D conv of [N, C, 1, H, W]: the last kt frames
    const std::string w =
        s_.let("torch.cat([" +
               slot("torch.zeros([" + v + ".size(0), " + ch + ", " + std::to_string(past) + ", " +
                    v + ".size(3), " + v + ".size(4)], dtype=" + v + ".dtype)") +
               ", " + v + "], 2)");
    new_slots_.push_back(w + "[:, :, 1:]");
    return let(conv_call(name, layer, x, folded, w, folded.weight, o.stride,
                         {0, o.padding[1], o.padding[2]}, at::MemoryFormat::Contiguous, relu),
               c_out, Layout::kClip);
  }
  if (frame_conv_kind(o.kernel, o.stride, o.padding) != FrameConv::kTemporal) {
    throw std::logic_error("ConvBn: " + name + ": kernel " + script_list(o.kernel) +
                           " is neither spatial nor temporal, so a folded clip can't take it");
  }
  // One output frame of a (kt, 1, 1) conv is a 1x1 conv of the last kt
  // frames stacked on the channels (oldest first): the frames [N, C, H, W]
  // stay in their channels-last layout, and the weight is the windowed one's
  // memory seen as [C_out, kt * C, 1, 1].
  if (o.depthwise) throw std::logic_error("ConvBn: " + name + ": a depthwise temporal conv");
  const std::string weight_name = name + "_weight";
  s_.tensor(weight_name, folded.weight.squeeze(-1), at::MemoryFormat::ChannelsLast);
  const std::string weight = s_.alias(name + "_frames_weight", weight_name,
                                      s_.registered(weight_name)
                                          .permute({0, 2, 3, 1})
                                          .reshape({c_out, o.kernel[0] * x.channels, 1, 1}));
  const std::string w = s_.let("torch.cat([" +
                               slot("torch.zeros([" + v + ".size(0), " + v + ".size(2), " + v +
                                    ".size(3), " + std::to_string(past * x.channels) +
                                    "], dtype=" + v + ".dtype).permute(0, 3, 1, 2)") +
                               ", " + v + "], 1)");
  new_slots_.push_back(w + "[:, " + ch + ":]");
  const std::string y =
      "torch.conv2d(" + w + ", " + weight + ", " + s_.tensor(name + "_bias", folded.bias) + ")";
  return let(relu ? "torch.relu_(" + y + ")" : y, c_out, Layout::kFoldedClip);
}

std::string StepScriptBackend::slot(const std::string& empty_value) {
  const std::string s =
      s_.let("state[" + std::to_string(new_slots_.size() + 1) + "]");  // after the header
  s_.emit("if " + s + ".numel() == 0:");
  s_.emit("    " + s + " = " + empty_value);
  return s;
}

std::string PrefillScriptBackend::last_frames(const std::string& x, int64_t rank, int64_t axis,
                                              int64_t count) {
  std::string v = x;
  if (frames_ < count) {  // padded into the past, as the windowed conv pads it
    std::vector<int64_t> pad(2 * static_cast<size_t>(rank), 0);  // from the last axis back
    pad[2 * static_cast<size_t>(rank - 1 - axis)] = count - frames_;
    v = s_.let("torch.constant_pad_nd(" + x + ", " + script_list(pad) + ")");
  }
  const int64_t from = std::max<int64_t>(frames_, count) - count;
  return v + "[" + std::string(axis == 1 ? ":, " : ":, :, ") + std::to_string(from) + ":]";
}

NetValue PrefillScriptBackend::conv_bn(const std::string& name, const ConvBnImpl& layer,
                                       const NetValue& x, bool relu) {
  const SlimConvOptions& o = layer.conv->options();
  if (o.kernel.size() == 3 && o.kernel[0] > 1) {  // where a step keeps the last kt - 1 inputs
    const int64_t past = o.kernel[0] - 1;
    const std::string& v = x.name;
    if (x.layout == Layout::kClip) {
      slots_.push_back(last_frames(v, 5, 2, past));
    } else {  // frames [N*T, C, H, W] -> the last kt - 1 stacked on the channels, oldest first
      const std::string frames =
          s_.let(v + ".permute(0, 2, 3, 1).reshape(-1, " + std::to_string(frames_) + ", " + v +
                 ".size(2), " + v + ".size(3), " + std::to_string(x.channels) + ")");
      slots_.push_back(last_frames(frames, 5, 1, past) + ".permute(0, 2, 3, 1, 4).reshape(-1, " +
                       v + ".size(2), " + v + ".size(3), " + std::to_string(past * x.channels) +
                       ").permute(0, 3, 1, 2)");
    }
  }
  return ScriptBackend::conv_bn(name, layer, x, relu);
}

// --------------------------------------------------------------- add_relu

NetValue EagerBackend::add_relu(const NetValue& y, const NetValue& residual) {
  // Out of place: autograd keeps what the ops before saved.
  return value(at::relu(y.tensor + residual.tensor), y.layout);
}

NetValue ScriptBackend::add_relu(const NetValue& y, const NetValue& residual) {
  return let("torch.relu_(" + y.name + ".add_(" + residual.name + "))", y.channels, y.layout);
}

// --------------------------------------------------------- temporal_shift

at::Tensor temporal_shift(const at::Tensor& x, int64_t frames, double fraction, bool causal) {
  const int64_t c = x.size(1);
  const int64_t fold = static_cast<int64_t>(c * fraction / 2);
  // One frame: nothing to exchange, but a causal shift still sees no past.
  if (fold == 0 || (frames < 2 && !causal)) return x;
  const at::Tensor v = x.view({-1, frames, c, x.size(2), x.size(3)});
  // Channels [0, fold) (causal: [0, 2 fold)): frame t takes frame t-1;
  // [fold, 2 fold) otherwise frame t+1.
  const int64_t ahead_channels = causal ? 2 * fold : fold;
  const at::Tensor ahead = v.narrow(2, 0, ahead_channels);
  std::vector<at::Tensor> parts = {
      torch::cat({torch::zeros_like(ahead.narrow(1, 0, 1)), ahead.narrow(1, 0, frames - 1)}, 1)};
  if (!causal) {
    const at::Tensor back = v.narrow(2, fold, fold);
    parts.push_back(
        torch::cat({back.narrow(1, 1, frames - 1), torch::zeros_like(back.narrow(1, 0, 1))}, 1));
  }
  parts.push_back(v.narrow(2, 2 * fold, c - 2 * fold));
  return torch::cat(parts, 2).view(x.sizes());
}

NetValue EagerBackend::temporal_shift(const NetValue& frames, double fraction, bool causal) {
  return value(adaptive::temporal_shift(frames.tensor, frames_, fraction, causal), frames.layout);
}

NetValue ScriptBackend::temporal_shift(const NetValue& x, double fraction, bool causal) {
  const int64_t fold = static_cast<int64_t>(x.channels * fraction / 2);
  if (fold == 0 || (frames_ < 2 && !causal)) return x;
  const std::string v =
      s_.let(x.name + ".view(-1, " + std::to_string(frames_) + ", " + std::to_string(x.channels) +
             ", " + x.name + ".size(2), " + x.name + ".size(3))");
  const std::string f = std::to_string(causal ? 2 * fold : fold), f2 = std::to_string(2 * fold);
  const std::string forward = "torch.cat([torch.zeros_like(" + v + "[:, :1, :" + f + "]), " + v +
                              "[:, :-1, :" + f + "]], 1)";
  const std::string back = causal ? std::string()
                                  : "torch.cat([" + v + "[:, 1:, " + f + ":" + f2 +
                                        "], torch.zeros_like(" + v + "[:, :1, " + f + ":" + f2 +
                                        "])], 1), ";
  return let("torch.cat([" + forward + ", " + back + v + "[:, :, " + f2 + ":]], 2).view(" + x.name +
                 ".size())",
             x.channels, x.layout);
}

NetValue StepScriptBackend::temporal_shift(const NetValue& x, double fraction, bool causal) {
  const int64_t fold = static_cast<int64_t>(x.channels * fraction / 2);
  if (fold == 0) return x;
  if (!causal) throw std::logic_error("temporal_shift: a shift from the next frame cannot stream");
  const std::string f2 = std::to_string(2 * fold);
  const std::string previous = slot("torch.zeros_like(" + x.name + "[:, :" + f2 + "])");
  new_slots_.push_back(x.name + "[:, :" + f2 + "].clone()");
  return let("torch.cat([" + previous + ", " + x.name + "[:, " + f2 + ":]], 1)", x.channels,
             x.layout);
}

NetValue PrefillScriptBackend::temporal_shift(const NetValue& x, double fraction, bool causal) {
  const int64_t fold = static_cast<int64_t>(x.channels * fraction / 2);
  if (fold > 0) {  // the last frame's shifted channels
    slots_.push_back(x.name + ".reshape(-1, " + std::to_string(frames_) + ", " +
                     std::to_string(x.channels) + ", " + x.name + ".size(2), " + x.name +
                     ".size(3))[:, " + std::to_string(frames_ - 1) +
                     ", :" + std::to_string(2 * fold) + "].clone()");
  }
  return ScriptBackend::temporal_shift(x, fraction, causal);
}

// ------------------------------------------------------------------- pool

at::Tensor pool_frames(const at::Tensor& frames, int64_t frames_per_clip, int64_t window) {
  const at::Tensor per_frame = frames.mean({2, 3}).view({-1, frames_per_clip, frames.size(1)});
  if (window <= 0 || window == frames_per_clip) return per_frame.mean(1);
  return per_frame.narrow(1, frames_per_clip - window, window).mean(1);
}

NetValue EagerBackend::pool(const NetValue& x) {
  const int64_t window = pooled_frames();
  if (x.layout == Layout::kClip) {
    return value(x.tensor.narrow(2, x.tensor.size(2) - window, window).mean({2, 3, 4}));
  }
  return value(pool_frames(x.tensor, frames_, window));
}

std::string ScriptBackend::pooled_frame_features(const NetValue& x) const {
  const int64_t from = frames_ - pooled_frames();
  return (x.layout == Layout::kClip ? x.name + ".mean([3, 4]).transpose(1, 2)"
                                    : x.name + ".mean([2, 3]).view(-1, " + std::to_string(frames_) +
                                          ", " + std::to_string(x.channels) + ")") +
         (from > 0 ? "[:, " + std::to_string(from) + ":]" : "");
}

NetValue ScriptBackend::pool(const NetValue& x) {
  return let(pooled_frame_features(x) + ".mean(1)", x.channels, Layout::kClip);
}

NetValue StepScriptBackend::pool(const NetValue& x) {
  const std::string& v = x.name;
  const std::string frame =
      s_.let(v + (x.layout == Layout::kClip ? ".mean([2, 3, 4])" : ".mean([2, 3])"));
  const std::string ring =
      s_.let("torch.cat([" +
             slot("torch.zeros([" + frame + ".size(0), " + std::to_string(pooled_frames()) + ", " +
                  std::to_string(x.channels) + "], dtype=" + frame + ".dtype)") +
             "[:, 1:], " + frame + ".unsqueeze(1)], 1)");
  new_slots_.push_back(ring);
  return let(ring + ".mean(1)", x.channels, Layout::kClip);
}

NetValue PrefillScriptBackend::pool(const NetValue& x) {
  const std::string ring = s_.let(pooled_frame_features(x));
  slots_.push_back(ring);
  return let(ring + ".mean(1)", x.channels, Layout::kClip);
}

// ---------------------------------------------------------------- dropout

NetValue EagerBackend::dropout(const NetValue& x, double p) {
  return value(at::dropout(x.tensor, p, /*train=*/true), x.layout);
}

NetValue ScriptBackend::dropout(const NetValue& x, double /*p*/) {
  return x;  // an exported model runs in eval mode
}

// ----------------------------------------------------------------- linear

NetValue EagerBackend::linear(const std::string& /*name*/, const SlimLinearImpl& layer,
                              const NetValue& x) {
  return value(layer.forward(x.tensor, context_));
}

NetValue ScriptBackend::linear(const std::string& name, const SlimLinearImpl& layer,
                               const NetValue& x) {
  const auto [weight, bias] = layer.at_width(context_.width, x.channels);
  const std::string w = s_.tensor(name + "_weight", weight), b = s_.tensor(name + "_bias", bias);
  return let("torch.linear(" + x.name + ", " + w + ", " + b + ")", weight.size(0), Layout::kClip);
}

}  // namespace adaptive
