// The backends every network runs on (models/net_backend.h): the leaf
// operations, one body per backend, side by side in net_backends.cpp.
#pragma once

#include "models/net_backend.h"
#include "models/script_builder.h"

namespace adaptive {

// Runs the ops on tensors at the context's width: training (autograd, batch
// statistics), evaluation, and FLOPs counting (context().cost).
class EagerBackend : public NetBackend {
 public:
  // `frames`: T of the clips it will be given.
  EagerBackend(ForwardContext context, int64_t frames) : NetBackend(context, frames) {}
  // A value of this backend: `layout` says what the tensor holds.
  static NetValue value(at::Tensor tensor, NetValue::Layout layout = NetValue::Layout::kClip);

  NetValue fold_frames(const NetValue& clip, bool motion) override;
  NetValue with_motion(const NetValue& clip) override;
  NetValue frames_of(const NetValue& clip) override;
  NetValue conv_bn(const std::string& name, const ConvBnImpl& layer, const NetValue& x,
                   bool relu) override;
  NetValue add_relu(const NetValue& y, const NetValue& residual) override;
  NetValue temporal_shift(const NetValue& frames, double fraction) override;
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
  NetValue temporal_shift(const NetValue& frames, double fraction) override;
  NetValue pool(const NetValue& x) override;
  NetValue dropout(const NetValue& x, double p) override;
  NetValue linear(const std::string& name, const SlimLinearImpl& layer, const NetValue& x) override;

 private:
  NetValue let(const std::string& expr, int64_t channels, NetValue::Layout layout);
  ScriptBuilder& s_;
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
at::Tensor temporal_shift(const at::Tensor& x, int64_t frames, double fraction);
// Frames [N*T, C, H, W] averaged over space and time: features [N, C].
at::Tensor pool_frames(const at::Tensor& frames, int64_t frames_per_clip);

}  // namespace adaptive
