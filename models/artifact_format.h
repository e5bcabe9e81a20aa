// The model artifact's format, in one place: the constants, the metadata
// that adaptive.json holds, and the methods the TorchScript module must have
// (docs/artifact.md). The exporter (train/exporter.h) fills ArtifactMetadata
// and writes it with to_json; the loader (infer/model_artifact.h) reads it
// with parse_artifact_metadata.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace adaptive {

inline constexpr const char* kArtifactFormat = "adaptive-torchscript";
inline constexpr int kArtifactFormatVersion = 1;
inline constexpr const char* kArtifactMetadataFile = "adaptive.json";
// The ONNX form (models/onnx_export.h): the format adaptive.json names, held
// in the model's metadata_props under kArtifactMetadataFile, and the graph's
// input and output names.
inline constexpr const char* kOnnxArtifactFormat = "adaptive-onnx";
inline constexpr const char* kOnnxClipInput = "clip";
inline constexpr const char* kOnnxWidthInput = "width_index";
inline constexpr const char* kOnnxLogitsOutput = "logits";
inline constexpr const char* kOnnxGateOutput = "gate_scores";
inline constexpr const char* kOnnxWidthCheckNode = "width_index_check";
inline constexpr int kOnnxOpset = 13;
inline constexpr int kOnnxIrVersion = 7;  // the IR version of opset 13

// A model file that cannot be used: the message names the file and what is wrong.
struct ModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// adaptive.json "input": what one clip must be.
struct ArtifactInput {
  int64_t frames = 0, height = 0, width = 0, channels = 3;
  std::vector<double> mean, std;  // per RGB channel, applied to pixels in [0, 1]
  double fps = 0;                 // rate of the frames in a clip (0: unknown)
  int64_t short_side = 0;         // resize the short side to this, then centre-crop
};

// One width of the file, with its cost, calibration and validation accuracy.
struct ArtifactWidth {
  double width = 0;
  double mflops = 0;  // one clip
  int64_t params = 0;
  double temperature = 1;
  std::optional<double> val_top1;  // a final checkpoint's; absent otherwise
  double step_mflops = 0;          // one frame of a stream (streams only)
};

struct ArtifactMetadata;
// A number of the training config a file carries (ArtifactMetadata::config)
// at JSON `pointer` ("/data/eval_clips"), or `otherwise` when the file does
// not say.
double config_number(const ArtifactMetadata& meta, const std::string& pointer, double otherwise);

struct ArtifactMetadata {
  int format_version = kArtifactFormatVersion;
  std::vector<std::string> labels;
  ArtifactInput input;
  std::vector<ArtifactWidth> widths;  // ascending; index = the artifact's width index
  int default_width_index = 0;
  bool calibrated = false;
  bool has_gate = false;
  double gate_mflops = 0;
  // A causal model: init_state / step / prefill (and step_and_gate,
  // prefill_and_gate with a gate) take a video a frame at a time
  // (adaptive.json "stream").
  bool streams = false;
  // A stream's temporal reach (frames before a frame its features see), the
  // frames its logits pool, and whether every step gives exactly the windowed
  // forward_at of the window ending on it (models/slimmable_net.h,
  // streams_exactly). Files before these fields: reach and pooled 0, not exact.
  int64_t stream_reach_frames = 0;
  int64_t stream_pooled_frames = 0;
  bool stream_exact = false;
  // Provenance, written as given: producer {name, version}, source
  // {checkpoint, step}, and the training config.
  nlohmann::json producer, source, config;
  nlohmann::json json;  // the whole adaptive.json, as read (parse_artifact_metadata)

  std::vector<double> width_values() const;
  // The artifact's index of `width` (equal within 1e-6), or nothing.
  std::optional<int> width_index(double width) const;
};

// adaptive.json's text for `m` (format and format_version from the constants).
nlohmann::json to_json(const ArtifactMetadata& m);

// The same for the ONNX form (models/onnx_export.h): format
// kOnnxArtifactFormat, the graph's inputs and outputs in "onnx", the gate's
// output, and no stream methods ("stream" null).
nlohmann::json to_onnx_json(const ArtifactMetadata& m);

// Parses and checks adaptive.json. Throws ModelError naming `origin` (the
// file), e.g. "PATH: adaptive.json has no '/input/fps'".
ArtifactMetadata parse_artifact_metadata(const std::string& text, const std::string& origin);

// The methods a module must have: forward, forward_at, set_width,
// get_width, widths; with a gate also gate and forward_gated; a stream
// init_state, step and prefill (and step_and_gate, prefill_and_gate with a
// gate).
std::vector<std::string> required_methods(bool has_gate, bool streams);

// The index of `width` in `widths` (equal within 1e-6), or nothing.
std::optional<int> find_width_index(const std::vector<double>& widths, double width);

}  // namespace adaptive
