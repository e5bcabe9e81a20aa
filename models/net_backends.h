// The backends every network runs on (models/net_backend.h): the leaf
// operations, one body per backend, side by side in net_backends.cpp.
#pragma once

#include "models/net_backend.h"
#include "models/script_builder.h"

namespace adaptive {

struct FoldedConvBn;

// Runs the ops on tensors at the context's width: training (autograd, batch
// statistics), evaluation, and FLOPs counting (context().cost).
class EagerBackend : public NetBackend {
 public:
  // `frames`: T of the clips it will be given; pool() averages the last
  // context.pooled_frames of them (0: all).
  EagerBackend(ForwardContext context, int64_t frames) : NetBackend(context, frames) {}
  // A value of this backend: `layout` says what the tensor holds.
  static NetValue value(at::Tensor tensor, NetValue::Layout layout = NetValue::Layout::kClip);

  NetValue fold_frames(const NetValue& clip, bool motion) override;
  NetValue with_motion(const NetValue& clip) override;
  NetValue frames_of(const NetValue& clip) override;
  NetValue conv_bn(const std::string& name, const ConvBnImpl& layer, const NetValue& x,
                   bool relu) override;
  NetValue add_relu(const NetValue& y, const NetValue& residual) override;
  NetValue temporal_shift(const NetValue& frames, double fraction, bool causal) override;
  NetValue pool(const NetValue& x) override;
  NetValue dropout(const NetValue& x, double p) override;
  NetValue linear(const std::string& name, const SlimLinearImpl& layer, const NetValue& x) override;
};

// Writes the ops as straight-line TorchScript for the context's width into
// `builder` (eval mode: batch norm folded into the convs, dropout the
// identity). Layer weights become the module's parameters, named after the
// layer ("<scope>_<name>_weight").
class ScriptBackend : public NetBackend {
 public:
  ScriptBackend(ScriptBuilder& builder, ForwardContext context)
      : NetBackend(context, builder.frames()), s_(builder) {}
  // The method argument `name`, a tensor of `channels` channels.
  static NetValue argument(const std::string& name, int64_t channels,
                           NetValue::Layout layout = NetValue::Layout::kClip);

  NetValue fold_frames(const NetValue& clip, bool motion) override;
  NetValue with_motion(const NetValue& clip) override;
  NetValue frames_of(const NetValue& clip) override;
  NetValue conv_bn(const std::string& name, const ConvBnImpl& layer, const NetValue& x,
                   bool relu) override;
  NetValue add_relu(const NetValue& y, const NetValue& residual) override;
  NetValue temporal_shift(const NetValue& frames, double fraction, bool causal) override;
  NetValue pool(const NetValue& x) override;
  NetValue dropout(const NetValue& x, double p) override;
  NetValue linear(const std::string& name, const SlimLinearImpl& layer, const NetValue& x) override;

 protected:
  NetValue let(const std::string& expr, int64_t channels, NetValue::Layout layout);
  // The expression of the pooled frames' features of `x` (any layout),
  // averaged over space: [N, pooled_frames(), C].
  std::string pooled_frame_features(const NetValue& x) const;
  // torch.conv2d / conv3d of `input` by `layer`'s folded weight in the form
  // given, its bias, and ReLU when `relu`.
  std::string conv_call(const std::string& name, const ConvBnImpl& layer, const NetValue& x,
                        const FoldedConvBn& folded, const std::string& input,
                        const at::Tensor& weight, const std::vector<int64_t>& stride,
                        const std::vector<int64_t>& padding, at::MemoryFormat memory, bool relu);
  ScriptBuilder& s_;
};

// Writes one step of a causal network (ModelOptions::causal) as TorchScript
// for the context's width: the ops on one new frame, held as a clip [N, C, 1,
// H, W], and the state the previous steps left (docs/artifact.md,
// "Streaming"). Each op that reads other frames keeps what it needs in a
// slot of the state, a List[Tensor] named `state` whose item 0 is a header
// the backend does not touch:
//   the motion input   the previous input frame;
//   a conv over kt frames   its last kt - 1 input frames (a (kt, 1, 1) conv of
//                           frames: stacked on the channels, so the step is
//                           one 1x1 conv over the window);
//   the causal shift   the previous frame's shifted channels;
//   pool               the last pooled_frames() frames' pooled features: the
//                      running mean over them.
// Slots start empty (numel 0): the first step reads them as a clip's
// padding, zeros and no motion, so T steps from an empty state give the
// windowed model's features for those T frames, and every later step the
// causal model's over all frames so far, pooled over the last
// pooled_frames().
class StepScriptBackend : public ScriptBackend {
 public:
  // `builder.frames()`: T, the window the pool averages over.
  StepScriptBackend(ScriptBuilder& builder, ForwardContext context)
      : ScriptBackend(builder, context) {}

  NetValue fold_frames(const NetValue& clip, bool motion) override;
  NetValue with_motion(const NetValue& clip) override;
  NetValue conv_bn(const std::string& name, const ConvBnImpl& layer, const NetValue& x,
                   bool relu) override;
  NetValue temporal_shift(const NetValue& frames, double fraction, bool causal) override;
  NetValue pool(const NetValue& x) override;

  // The expressions of the new state's slots, in slot order (slot k is
  // state[k + 1]).
  const std::vector<std::string>& new_slots() const { return new_slots_; }

 private:
  // Reads the next slot; when it is empty, sets it to `empty_value`.
  std::string slot(const std::string& empty_value);
  NetValue with_frame_difference(const NetValue& clip);
  std::vector<std::string> new_slots_;
};

// Writes a causal network's windowed pass over a clip of T frames
// (ScriptBackend's ops) that also gives the state T steps from an empty
// state would leave: StepScriptBackend's slots, in its order, each taken
// from the clip's last frames. A stream starts, or is rebuilt at another
// width, in one batched pass instead of T steps of one frame (at batch 1 a
// small model's convs run several times slower per FLOP).
class PrefillScriptBackend : public ScriptBackend {
 public:
  PrefillScriptBackend(ScriptBuilder& builder, ForwardContext context)
      : ScriptBackend(builder, context) {}

  NetValue fold_frames(const NetValue& clip, bool motion) override;
  NetValue with_motion(const NetValue& clip) override;
  NetValue conv_bn(const std::string& name, const ConvBnImpl& layer, const NetValue& x,
                   bool relu) override;
  NetValue temporal_shift(const NetValue& frames, double fraction, bool causal) override;
  NetValue pool(const NetValue& x) override;

  // The expressions of the state's slots, in StepScriptBackend's order.
  const std::vector<std::string>& slots() const { return slots_; }

 private:
  // Time axis `axis` of `x`'s variable, its last `count` frames (zeros
  // before the first where the clip is shorter).
  std::string last_frames(const std::string& x, int64_t rank, int64_t axis, int64_t count);
  std::vector<std::string> slots_;
};

// The eager ops as plain functions, for tests and the data path.
//
// Clips [N, C, T, H, W] with their frame differences appended as C more
// channels ([N, 2C, T, H, W]; frame 0's difference is zero): motion made
// explicit at the input (RGB-difference modality).
at::Tensor with_motion(const at::Tensor& clips);
// A clip [N, C, T, H, W] as frames [N*T, C, H, W] in channels-last memory
// (one copy).
at::Tensor fold_frames(const at::Tensor& clips);
// fold_frames(with_motion(clips)), built in that layout with no temporaries:
// the permuted clip and its frame differences written into one [N, T, H, W,
// 2C] tensor. Folding after a concatenation gathers every value from 2C
// planes and took over a third of a Jester-scale narrowest width's time
// (docs/artifact.md); temporaries raised its working memory at batch 8 from
// 137 to 180 MiB.
at::Tensor fold_frames_with_motion(const at::Tensor& clips);
// Shifts `fraction` of the channels of frames x [N*T, C, H, W] in time (see
// NetBackend::temporal_shift).
at::Tensor temporal_shift(const at::Tensor& x, int64_t frames, double fraction,
                          bool causal = false);
// Frames [N*T, C, H, W] averaged over space and time (the last `window`
// frames of each clip when > 0): features [N, C].
at::Tensor pool_frames(const at::Tensor& frames, int64_t frames_per_clip, int64_t window = 0);

}  // namespace adaptive
