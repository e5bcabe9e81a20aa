// Loading the toolkit's model artifact (docs/artifact.md; the format is
// models/artifact_format.h): a TorchScript file with every width and its
// adaptive.json metadata, as written by adaptive-train. What adaptive-infer
// and the benchmarks use.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "models/artifact_format.h"

namespace torch::jit {
struct Module;
}

namespace adaptive {

// Turns the TorchScript graph executor's profiling and optimisation passes
// off, for the whole process (torch::jit::setGraphExecutorOptimize(false)).
// The artifact is straight-line code over builtin ops: on a CPU those passes
// find nothing to fuse, yet take ~0.5 s whenever they (re)specialise a
// method, which made each new video's first windows 100x slower.
// adaptive-infer and adaptive-bench call it before loading a model; a host
// program that loads artifacts chooses for itself (loading changes nothing).
void disable_graph_optimisation();

class ModelArtifact {
 public:
  // Loads `path` on the CPU. Throws ModelError: missing or unreadable file,
  // not TorchScript (truncated, corrupt), no adaptive.json, a format or
  // format_version this reader does not know, metadata that disagrees with
  // the module (widths, methods).
  static ModelArtifact load(const std::string& path);

  const ArtifactMetadata& metadata() const { return metadata_; }
  const std::string& path() const { return path_; }
  int num_widths() const { return static_cast<int>(metadata_.widths.size()); }

  // Logits [N, classes] at width index i; clips [N, 3, T, H, W] normalised.
  // Thread-safe (no state changes).
  at::Tensor forward_at(const at::Tensor& clips, int width_index) const;
  // Gated models: width scores [N, widths]; and logits with the chosen index.
  at::Tensor gate(const at::Tensor& clips) const;
  std::pair<at::Tensor, at::Tensor> forward_gated(const at::Tensor& clips) const;
  // Gate scores and the narrowest width's logits from one narrowest pass.
  std::pair<at::Tensor, at::Tensor> gate_with_logits(const at::Tensor& clips) const;
  // Whether the gate can read a pass at any width (forward_and_gate; files
  // exported before it have only the narrowest width's head).
  bool gates_every_width() const;
  // Logits at width index i and the scores of the gate head that reads that
  // pass: the next window's width on a stream. Needs gates_every_width().
  std::pair<at::Tensor, at::Tensor> forward_and_gate(const at::Tensor& clips,
                                                     int width_index) const;
  // Calibrated probabilities softmax(logits / T_i).
  at::Tensor probabilities(const at::Tensor& logits, int width_index) const;

  // A causal model's stream (metadata().streams; std::logic_error
  // otherwise). A state belongs to one width; init_state makes it empty.
  // step() takes one frame [N, 3, H, W], normalised, and returns the logits
  // of the window of input.frames frames ending on it, replacing `state` by
  // the next one; step_and_gate() adds the scores of the gate head reading
  // that width (a gated model).
  struct StreamState {
    int width_index = -1;
    std::vector<at::Tensor> tensors;  // the module's, opaque
  };
  StreamState init_state(int width_index) const;
  at::Tensor step(const at::Tensor& frame, StreamState& state) const;
  std::pair<at::Tensor, at::Tensor> step_and_gate(const at::Tensor& frame,
                                                  StreamState& state) const;
  // A clip [N, 3, T, H, W]'s logits at width_index, as forward_at gives
  // them, and in `state` what T steps from init_state would have left: a
  // stream started on a window in one batched pass. prefill_and_gate adds
  // the gate head's scores (a gated model).
  at::Tensor prefill(const at::Tensor& clip, int width_index, StreamState& state) const;
  std::pair<at::Tensor, at::Tensor> prefill_and_gate(const at::Tensor& clip, int width_index,
                                                     StreamState& state) const;

 private:
  void check_width_index(int width_index) const;  // throws std::out_of_range
  void check_streams() const;                     // throws std::logic_error
  void check_gate() const;                        // throws std::logic_error

  std::string path_;
  ArtifactMetadata metadata_;
  std::shared_ptr<torch::jit::Module> module_;
};

}  // namespace adaptive
