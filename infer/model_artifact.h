// Loading the toolkit's model artifact ("Contract 1" in DESIGN.md): a
// TorchScript file with every width and its adaptive.json metadata, as
// written by adaptive-train. What adaptive-infer and the benchmarks use.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

namespace torch::jit {
struct Module;
}

namespace adaptive {

// A model file that cannot be used: message names the file and what is wrong.
struct ModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ArtifactInput {
  int64_t frames = 0, height = 0, width = 0, channels = 3;
  std::vector<double> mean, std;  // per RGB channel, applied to pixels in [0, 1]
  double fps = 0;                 // rate of the frames in a clip (0: unknown)
  int64_t short_side = 0;         // resize the short side to this, then centre-crop
};

struct ArtifactWidth {
  double width = 0;
  double mflops = 0;  // one clip
  int64_t params = 0;
  double temperature = 1;
};

struct ArtifactMetadata {
  int format_version = 0;
  std::vector<std::string> labels;
  ArtifactInput input;
  std::vector<ArtifactWidth> widths;  // ascending
  int default_width_index = 0;
  bool has_gate = false;
  double gate_mflops = 0;
  nlohmann::json json;  // the whole adaptive.json
};

// Parses and checks adaptive.json; `origin` names the file in messages.
ArtifactMetadata parse_artifact_metadata(const std::string& text, const std::string& origin);

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
  // Calibrated probabilities softmax(logits / T_i).
  at::Tensor probabilities(const at::Tensor& logits, int width_index) const;

 private:
  std::string path_;
  ArtifactMetadata metadata_;
  std::shared_ptr<torch::jit::Module> module_;
};

}  // namespace adaptive
