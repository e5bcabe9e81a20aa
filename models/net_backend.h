// A network's structure is written once, over this interface; what runs it
// is a backend. A block's apply() wires leaf operations (conv + batch norm,
// add + ReLU, the temporal shift, folding a clip into frames, motion frames,
// pooling, the classifier) by calling the backend, so the wiring lives in one
// place whatever it is lowered to:
//
//   EagerBackend   runs the ops on tensors now: training, evaluation, FLOPs
//                  counting (narrowed weights, switchable batch norm).
//   ScriptBackend  writes the ops as TorchScript source for one width (batch
//                  norm folded into the convs): the exported model.
//
// Both live in models/net_backends.h, each op's two bodies side by side, and
// tests/models/net_backends_test.cpp compares them op by op. A new lowering
// (ONNX, a state-carrying streaming model) is a new NetBackend, not a copy of
// the networks: docs/adding-a-backbone.md.
#pragma once

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>

#include "models/slimmable_layers.h"

namespace adaptive {

class ConvBnImpl;

// A value flowing through a network: a tensor for a backend that computes
// (EagerBackend), the name of a variable for one that writes code
// (ScriptBackend), with what every backend knows statically.
struct NetValue {
  enum class Layout {
    kClip,        // [N, C, T, H, W]
    kFrames,      // [N*T, C, H, W]: the frames of a network of 2D convs
    kFoldedClip,  // a clip held as frames [N*T, C, H, W] in channels-last
                  // memory: a (1, kh, kw) 3D conv runs on it as a 2D conv of
                  // every frame, a (kt, 1, 1) one as a 2D conv over a view
                  // [N, C, T, H*W] of the same memory, with no copy between
  };
  at::Tensor tensor;  // computing backends
  std::string name;   // code-writing backends: the variable holding it
  int64_t channels = 0;
  Layout layout = Layout::kClip;
  // Features [N, C] (after pool()) are kClip too: no op reads their layout.
};

// The leaf operations a network is made of. Every op takes and returns
// values of this backend. Names ("stage1_1_conv1_spatial") identify a
// layer's weights to backends that store them.
class NetBackend {
 public:
  NetBackend(ForwardContext context, int64_t frames) : context_(context), frames_(frames) {}
  virtual ~NetBackend() = default;

  // Clip -> kFoldedClip; `motion`: with the frame differences as C more channels
  // (frame t's is x[t] - x[t - 1], frame 0's zero).
  virtual NetValue fold_frames(const NetValue& clip, bool motion) = 0;
  // Clip [N, C, T, H, W] -> clip [N, 2C, T, H, W]: the frame differences
  // appended (the same rule), for networks of full 3D convs.
  virtual NetValue with_motion(const NetValue& clip) = 0;
  // Clip -> kFrames, contiguous (a network of 2D convs).
  virtual NetValue frames_of(const NetValue& clip) = 0;

  // `layer`'s conv and batch norm at this backend's width, then ReLU when
  // `relu`.
  virtual NetValue conv_bn(const std::string& name, const ConvBnImpl& layer, const NetValue& x,
                           bool relu) = 0;
  // relu(y + residual), same shapes.
  virtual NetValue add_relu(const NetValue& y, const NetValue& residual) = 0;
  // kFrames: `fraction` of the channels shifted in time, the
  // first half one frame forward, the second half one frame back,
  // zero-filled at the ends (TSM); `causal`: both halves one frame forward,
  // so frame t sees t - 1, never t + 1 (TSM's online shift).
  virtual NetValue temporal_shift(const NetValue& frames, double fraction, bool causal) = 0;
  // Mean over space and the last pooled_frames() frames, any layout ->
  // features [N, C].
  virtual NetValue pool(const NetValue& x) = 0;
  // Dropout with probability p (training only; the identity otherwise).
  virtual NetValue dropout(const NetValue& x, double p) = 0;
  // `layer` at this backend's width: features [N, C] -> [N, out].
  virtual NetValue linear(const std::string& name, const SlimLinearImpl& layer,
                          const NetValue& x) = 0;

  const ForwardContext& context() const { return context_; }
  int64_t frames() const { return frames_; }  // clip length T
  // The frames pool() averages, the clip's last
  // (ForwardContext::frames_pooled).
  int64_t pooled_frames() const { return context_.frames_pooled(frames_); }

 protected:
  ForwardContext context_;
  int64_t frames_;
};

}  // namespace adaptive
