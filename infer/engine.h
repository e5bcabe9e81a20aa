// Adaptive inference over one video: windows from a WindowReader, widths
// from a Throttle, logits from a ModelArtifact; one result per window and a
// summary (docs/inference-output.md).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infer/model_artifact.h"
#include "infer/scoring.h"
#include "infer/throttle.h"
#include "infer/window_reader.h"

namespace adaptive {

struct InferOptions {
  ThrottleOptions throttle;
  WindowReaderOptions reader;
  double battery_pct = -1;                // fixed battery level (< 0: none)
  std::string battery_file;               // sysfs-style capacity file, re-read while running
  std::string idle_label = "no_gesture";  // the label of "nothing happening" (if the model has it)
};

struct WindowResult {
  int64_t index = 0, start_frame = 0, end_frame = 0;
  double start_s = 0, end_s = 0;
  int width_index = 0;
  double width = 0;
  int label_index = 0;
  std::string label;
  double confidence = 0;  // calibrated
  double mflops = 0;      // every pass of this window (and the gate's)
  double latency_ms = 0;  // model time of this window
  std::string decision;
  int passes = 0;
  WindowQuality quality;
  double battery_pct = -1;
};

struct RunSummary {
  int64_t frames = 0, windows = 0;
  double duration_s = 0, mean_width = 0, gflops = 0, gflops_full_width = 0, compute_saving = 0;
  double fps = 0;  // source frames per second of wall time
  double wall_s = 0;
  double latency_p50 = 0, latency_p95 = 0, latency_max = 0;
  std::vector<int64_t> windows_per_width;
  std::string error, warning;  // error: the run stopped early (results so far are kept)
  std::optional<TruthScore> truth;
};

using WindowCallback = std::function<void(const WindowResult&, const Window&)>;

// Runs the model over `input` (video file or frame folder). Throws
// BadSampleError when the input cannot be opened, std::runtime_error for an
// unreadable battery file; a decoding failure mid-file ends the run with
// RunSummary::error set.
RunSummary run_inference(const ModelArtifact& model, const std::string& input,
                         const InferOptions& options, const WindowCallback& on_window);
// The same over any frame source (tests).
RunSummary run_inference(const ModelArtifact& model, std::unique_ptr<FrameSource> source,
                         const InferOptions& options, const WindowCallback& on_window);

// Reads a battery capacity file (a number, percent). Throws std::runtime_error.
double read_battery_file(const std::string& path);

// The JSON objects of docs/inference-output.md: a window line and the summary.
nlohmann::json window_json(const WindowResult& r);
nlohmann::json summary_json(const RunSummary& s, const ModelArtifact& model);

}  // namespace adaptive
