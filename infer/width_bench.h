// What the width knob of an exported model buys on this machine
// (adaptive-bench): per width, batch-1 latency (median and p90 after
// warm-up) and CPU time per pass, achieved GFLOP/s against the machine's
// fp32 matrix product peak, and latency and FLOPs relative to the widest
// width; optionally the same for single-width files ("plain" networks of a
// width's channels), timed in alternation with the adaptive file so that
// drift of the machine affects all alike. `gap_ms` idles after each pass,
// as between the windows of a live source: what a pass costs when the
// machine has been idle since the last one. A model that streams (a causal
// model) also gets, per width, what a stream pays: a step (one new frame,
// its state carried) and a rebuild (ModelArtifact::prefill: a window in one
// batched pass, what a stream pays for a width it has not kept up, as when
// the throttle climbs to it; infer/model_passes.h).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infer/model_artifact.h"

namespace adaptive {

struct WidthBenchOptions {
  int warmup = 30;    // untimed passes per target first
  int runs = 200;     // timed passes per target
  double gap_ms = 0;  // idle before each timed pass (0: back to back)

  // Throws std::invalid_argument naming the option (runs >= 1, warmup >= 0, gap_ms >= 0).
  void validate() const;
};

// A streaming model's costs at one width (WidthBenchRow::stream).
struct StreamBenchRow {
  double step_mflops = 0;
  double step_ms = 0, step_p90_ms = 0;  // median and p90 of the timed steps
  double step_cpu_ms = 0;               // as WidthBenchRow::cpu_ms
  double step_ratio = 0;                // step_ms to the widest width's
  double rebuild_ms = 0;                // median of the timed prefills
};

struct WidthBenchRow {
  double width = 0, mflops = 0;
  double latency_ms = 0, latency_p90_ms = 0;  // median and p90 of the timed passes
  // Process CPU time per pass, mean, with the idle gap after it (threads
  // that spin before they sleep burn it there).
  double cpu_ms = 0;
  double gflops_per_s = 0;                     // mflops / latency_ms
  double latency_ratio = 0, mflops_ratio = 0;  // to the widest width
  double plain_latency_ms = 0;                 // the plain file's median (0: none given)
  std::optional<StreamBenchRow> stream;        // a model that streams
};

struct WidthBenchReport {
  int threads = 0;  // LibTorch compute threads during the timing
  WidthBenchOptions options;
  double matmul_gflops_per_s = 0;     // peak: 2048 x 2048 torch::mm on every thread
  bool blas_threads_pinned = false;   // OpenBLAS held at 1 thread while the model ran
  std::vector<WidthBenchRow> widths;  // ascending widths
};

// Parses "W=FILE" and loads a single-width file of width W, one of `model`'s
// widths; returns the width index. Throws std::invalid_argument naming the
// spec, ModelError for a file that does not load.
std::pair<int, ModelArtifact> load_plain_model(const ModelArtifact& model, const std::string& spec);

// Times every width of `model` (and of each plain file, by width index) on a
// random clip of the model's input shape, and a model that streams also per
// step, on a frame of it, and per rebuild. Uses the compute threads already
// set (common/process.h); sets the BLAS threads to every thread for the
// peak, then to 1 for the model.
WidthBenchReport bench_widths(const ModelArtifact& model, const std::map<int, ModelArtifact>& plain,
                              const WidthBenchOptions& options);

// The report as the tool prints it (a table) and writes it (--json).
std::string format_width_bench(const WidthBenchReport& report, const ModelArtifact& model);
nlohmann::json width_bench_json(const WidthBenchReport& report);

}  // namespace adaptive
