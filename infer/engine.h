// Adaptive inference over one video: windows from a WindowReader, widths
// from a Throttle, logits from a ModelArtifact; one result per window and a
// summary (docs/inference-output.md).
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/live_source.h"
#include "infer/compute_threads.h"
#include "infer/model_artifact.h"
#include "infer/model_passes.h"
#include "infer/scoring.h"
#include "infer/throttle.h"
#include "infer/window_reader.h"

namespace adaptive {

struct InferOptions {
  ThrottleOptions throttle;
  InputOptions input;  // how a named input is opened (live sources, --realtime)
  WindowReaderOptions reader;
  // Set (e.g. by SIGINT) to end the run after the current window; the
  // summary then says `stopped`.
  const std::atomic<bool>* stop = nullptr;
  double battery_pct = -1;                // fixed battery level (< 0: none)
  std::string battery_file;               // sysfs-style capacity file, re-read while running
  std::string idle_label = "no_gesture";  // the label of "nothing happening" (if the model has it)
  // Choose each width's compute threads at warm-up, up to the process's
  // (infer/compute_threads.h). Off: every pass on the process's.
  bool choose_threads = false;
  // Stream a causal model frame by frame (infer/model_passes.h): auto where
  // the model can, on (an error where it cannot), off: windowed passes.
  StreamingMode streaming = StreamingMode::kAuto;

  // Throws std::invalid_argument naming the first option out of its range
  // (the throttle's, the reader's stride, the battery level, the live
  // source's timeouts).
  void validate() const;
};

struct WindowResult {
  int64_t index = 0, start_frame = 0, end_frame = 0;
  double start_s = 0, end_s = 0;
  int width_index = 0;
  double width = 0;
  int label_index = 0;
  std::string label;
  double confidence = 0;        // calibrated
  at::Tensor logits;            // [classes], the final pass's over its width's temperature
  double mflops = 0;            // every pass of this window (and the gate's)
  int64_t frames_computed = 0;  // model frames its passes computed (a stream: the steps)
  double latency_ms = 0;        // model time of this window
  Decision decision = Decision::kStart;
  int passes = 0;
  WindowQuality quality;
  double battery_pct = -1;
  // Live sources: ms from the arrival of the window's last frame to its
  // decision (preprocessing, waiting, model), and source frames dropped
  // since the previous window because the run was behind.
  double delay_ms = -1;
  int64_t dropped_before = 0;
};

// p50, p95 and max of a run's per-window times, in ms (0 when no window).
struct Percentiles {
  double p50 = 0, p95 = 0, max = 0;
};
Percentiles percentiles(std::vector<double> values);

// What a run over a live source adds to its summary.
struct LiveSummary {
  double deadline_ms = 0;  // a window decided later than this after its last frame missed it
  int64_t missed_deadlines = 0;
  int64_t dropped_frames = 0, dropped_windows = 0;
  int64_t reconnects = 0;
  Percentiles delay_ms;
};

// What a run cost the device, in time and CPU time (the energy proxy), beside
// its FLOPs (docs/inference-output.md, "What the device paid").
struct DeviceCost {
  double cpu_s = 0;            // process CPU, user + system, from the first window to the summary
  double startup_cpu_s = 0;    // the process's CPU before: loading the model, warm-up, opening
  double cpu_per_video_s = 0;  // cpu_s per second of video
  // Where cpu_s went: the reading thread's demuxing and decoding, and its
  // resizing, normalising and quality measures; the model (the process
  // while a window's passes run, less the reading thread meanwhile: every
  // compute thread, and any other thread that ran then); writing results
  // (the window callback); the rest (the main loop, waiting, other threads).
  double decode_cpu_s = 0, preprocess_cpu_s = 0, model_cpu_s = 0, output_cpu_s = 0, other_cpu_s = 0;
  double model_s = 0;             // wall time of the model passes
  double full_width_model_s = 0;  // the same windows at the widest width, one pass each
  double time_saving = 0;         // 1 - model_s / full_width_model_s
  // Per width: the mean wall time of one pass in this run (ms; 0: none
  // ran). The widest's prices full_width_model_s: when the run never used
  // it, it is timed after the run on the last window (the median of 3
  // passes), outside cpu_s.
  std::vector<double> pass_ms;
  double energy_j = -1;  // package energy (RAPL), where the machine exposes it (< 0: no counter)
};

struct RunSummary {
  int64_t frames = 0, windows = 0;
  double duration_s = 0, mean_width = 0, gflops = 0, gflops_full_width = 0, compute_saving = 0;
  double fps = 0;  // source frames per second of wall time
  double wall_s = 0;
  Percentiles latency_ms;                  // model time per window
  std::vector<int64_t> windows_per_width;  // windows run, by their final width
  // Windows not run, the last answer repeated (ThrottleOptions::idle_stride),
  // and the stride in effect (1: the fixed policy, or a stream).
  int64_t windows_skipped = 0;
  int idle_stride = 1;
  std::string error, warning;  // error: the run stopped early (results so far are kept)
  bool stopped = false;        // InferOptions::stop ended it
  bool streaming = false;      // the passes streamed (infer/model_passes.h)
  // Streamed, and the model's stream gives exactly its windowed answers
  // (adaptive.json stream.exact).
  bool stream_exact = false;
  std::optional<Climb> climb;   // how the confidence policy climbed (ThrottleOptions::climb)
  int64_t frames_computed = 0;  // model frames the passes computed
  DeviceCost cost;
  double warmup_s = 0;  // warming every width up (and choosing threads) before the source opened
  // Compute threads of each width's passes at the end of the run
  // (InferOptions::choose_threads; empty: the process's, all widths).
  std::vector<int> threads_per_width;
  std::optional<LiveSummary> live;
  std::optional<TruthScore> truth;
};

using WindowCallback = std::function<void(const WindowResult&, const Window&)>;

// What a run does before its source opens: every width runs on a blank
// clip, through the methods the policy calls, so that no window pays the
// TorchScript executor's first, unoptimised passes; then, with
// InferOptions::choose_threads, each width's compute threads are chosen
// (infer/compute_threads.h), each pass followed by the idle gap a live
// source leaves (the time between windows, at most 50 ms; none for a file,
// whose windows run back to back).
struct RunStart {
  double seconds = 0;  // RunSummary::warmup_s
  ThreadPlan threads;
};
RunStart start_run(const ModelArtifact& model, const InferOptions& options, bool live);

// Runs the model over `input` (video file, frame folder, stream URL or
// camera: datasets/live_source.h open_input). Throws std::invalid_argument
// for options out of range (InferOptions::validate), BadSampleError when the
// input cannot be opened, std::runtime_error for an unreadable battery file;
// a decoding failure mid-file ends the run with RunSummary::error set.
//
// Live sources: windows run as their frames arrive; one the run was too
// late to take is dropped (Window::dropped_before). Each window has a
// deadline, ThrottleOptions::max_latency_ms or else the time between two
// windows: the throttle caps the width by it (decision `deadline`) and the
// summary counts the windows that missed it.
//
// Before the source is opened the run starts (start_run), unless `start`
// gives one made before for the same model and options (a manifest's clips
// share one).
RunSummary run_inference(const ModelArtifact& model, const std::string& input,
                         const InferOptions& options, const WindowCallback& on_window,
                         const RunStart* start = nullptr);
// The same over any frame source (tests; no warm-up).
RunSummary run_inference(const ModelArtifact& model, std::unique_ptr<FrameSource> source,
                         const InferOptions& options, const WindowCallback& on_window);

// Windows cut beforehand (a clip's evaluation clips: infer/manifest_run.h)
// through the policy as one run of their own, windowed, in order; one
// result each. Signals the windows do not carry (quality, battery, delay)
// are left neutral. Throws std::invalid_argument as run_inference does.
std::vector<WindowResult> classify_windows(const ModelArtifact& model,
                                           const std::vector<Window>& windows,
                                           const InferOptions& options);

// Reads a battery capacity file (a number, percent). Throws std::runtime_error.
double read_battery_file(const std::string& path);

// The JSON objects of docs/inference-output.md: a window line and the summary.
nlohmann::json window_json(const WindowResult& r);
nlohmann::json summary_json(const RunSummary& s, const ModelArtifact& model);

}  // namespace adaptive
