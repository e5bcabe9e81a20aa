// The model passes a window's throttle asks for, in the run's mode:
//
//   windowed   a pass runs the window's clip through a width (forward_at,
//              forward_and_gate, gate_with_logits): input.frames frames.
//   streaming  a causal model (ModelArtifact::step): each width keeps a
//              stream state, and a pass steps it through the window's frames
//              it has not seen, usually the `stride` new ones. A width whose
//              state has never run, or has fallen more than a window behind
//              (it was not used meanwhile, or windows were dropped), is
//              rebuilt from the window's frames in one batched pass
//              (ModelArtifact::prefill): the windowed model's answer for
//              that window, and the state input.frames steps would leave.
//
// Either way a pass returns the logits of the window ending on its last
// frame, and says what it cost.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/enum_names.h"
#include "infer/model_artifact.h"
#include "infer/window_reader.h"

namespace adaptive {

enum class StreamingMode { kAuto, kOn, kOff };
const NameTable<StreamingMode>& streaming_mode_names();  // "auto" | "on" | "off"

struct PassResult {
  at::Tensor logits;   // [1, classes]
  at::Tensor scores;   // the gate head's that read this pass (when asked for)
  double mflops = 0;   // every frame computed, and the gate head
  int64_t frames = 0;  // model frames computed (a stream: the steps)
};

class ModelPasses {
 public:
  // `streaming`: kAuto streams when the model can; kOn throws
  // std::invalid_argument naming the file when it cannot. `stride`: model
  // frames between window starts (WindowReaderOptions::stride).
  ModelPasses(const ModelArtifact& model, StreamingMode streaming, int64_t stride);

  bool streaming() const { return streaming_; }
  // Width `index` for window `w`; `with_gate`: with the scores of the gate
  // head that reads it (a gate per width: ModelArtifact::gates_every_width).
  PassResult run(const Window& w, int index, bool with_gate);
  // The narrowest width and the scores of its gate head (gate_with_logits).
  PassResult probe(const Window& w);
  // What one window costs at width `index` in this mode, in MFLOPs: a
  // window's (windowed), or `stride` steps' (streaming). The throttle's
  // budget and deadline read it.
  double window_mflops(int index) const;

 private:
  struct Stream {
    ModelArtifact::StreamState state;
    int64_t last_frame = -1;    // model frame it last stepped (-1: none)
    at::Tensor logits, scores;  // of that step
  };
  const ModelArtifact& model_;
  bool streaming_;
  int64_t stride_;
  std::vector<Stream> streams_;  // per width
};

}  // namespace adaptive
