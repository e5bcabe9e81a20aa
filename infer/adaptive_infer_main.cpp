// adaptive-infer: adaptive inference on a video file or frame folder.
//
//   adaptive-infer --model model.pt --input VIDEO [--policy fixed|confidence|gate] [options]
//
// Prints one JSON line per window and a summary (Contract 2 in DESIGN.md),
// or CSV / text. Exit codes: 0 ok, 1 runtime failure (bad model or video; a
// decoding error mid-file after printing what was processed), 2 usage.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <ATen/Parallel.h>
#include <cxxopts.hpp>

#include "datasets/dataset_index.h"
#include "datasets/errors.h"
#include "datasets/frame_source.h"
#include "datasets/timeline.h"
#include "infer/engine.h"
#include "infer/overlay.h"
#include "models/device.h"
#include "train/checkpoint.h"

namespace {

using namespace adaptive;

struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Where results go: stdout, or a file written atomically at the end.
class Output {
 public:
  explicit Output(std::string path) : path_(std::move(path)) {}
  std::ostream& stream() { return path_.empty() ? std::cout : buffer_; }
  void commit() {
    if (!path_.empty()) write_file_atomically(path_, buffer_.str());
  }

 private:
  std::string path_;
  std::ostringstream buffer_;
};

std::string csv_header() {
  return "index,start_frame,end_frame,start_s,end_s,width,width_index,label,label_index,"
         "confidence,mflops,latency_ms,decision";
}

std::string csv_line(const WindowResult& r) {
  char line[512];
  std::snprintf(line, sizeof line, "%lld,%lld,%lld,%.3f,%.3f,%g,%d,%s,%d,%.4f,%.2f,%.3f,%s",
                static_cast<long long>(r.index), static_cast<long long>(r.start_frame),
                static_cast<long long>(r.end_frame), r.start_s, r.end_s, r.width, r.width_index,
                r.label.c_str(), r.label_index, r.confidence, r.mflops, r.latency_ms,
                r.decision.c_str());
  return line;
}

std::string text_line(const WindowResult& r) {
  char line[256];
  std::snprintf(line, sizeof line, "%7.2f-%7.2f s  width %-5g %-12s %5.1f%%  %7.1f MFLOPs  %s",
                r.start_s, r.end_s, r.width, r.label.c_str(), 100 * r.confidence, r.mflops,
                r.decision.c_str());
  return line;
}

std::string text_summary(const RunSummary& s) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "%lld frames (%.1f s), %lld windows: mean width %.2f, %.2f GFLOPs of %.2f at full "
                "width (%.0f%% saved), %.0f frames/s, latency p50 %.2f ms p95 %.2f ms",
                static_cast<long long>(s.frames), s.duration_s, static_cast<long long>(s.windows),
                s.mean_width, s.gflops, s.gflops_full_width, 100 * s.compute_saving, s.fps,
                s.latency_p50, s.latency_p95);
  std::string out = buf;
  if (s.truth) {
    std::snprintf(buf, sizeof buf,
                  "\ntruth: segment accuracy %.1f%% (%d/%d), false alarms %d of %d idle windows, "
                  "mean detection delay %.2f s",
                  100 * s.truth->segment_accuracy, s.truth->segments_correct, s.truth->segments,
                  s.truth->false_alarms, s.truth->idle_windows, s.truth->mean_delay_s);
    out += buf;
  }
  return out;
}

// A manifest of labelled clips (path,label CSV): each clip is run as a
// video of its own; a line per clip (its label = the most confident window's)
// and a summary with clip accuracy and compute.
int run_manifest(const ModelArtifact& model, const std::string& manifest, const InferOptions& o,
                 const ManifestRules& rules, Output& out) {
  const DatasetIndex index = open_dataset_index(manifest, model.metadata().labels, rules);
  int64_t clips = 0, correct = 0, windows = 0, failed = 0;
  double mflops = 0, width_sum = 0, wall = 0;
  for (const SampleEntry& sample : index.samples) {
    WindowResult best;
    best.confidence = -1;
    RunSummary s;
    try {
      s = run_inference(model, sample.path, o, [&](const WindowResult& r, const Window&) {
        if (r.confidence > best.confidence) best = r;
      });
    } catch (const BadSampleError& e) {
      std::cerr << "adaptive-infer: skipping " << e.what() << "\n";
      ++failed;
      continue;
    }
    ++clips;
    const std::string& truth = index.classes.at(sample.label);
    correct += best.label == truth;
    windows += s.windows;
    mflops += s.gflops * 1e3;
    width_sum += s.mean_width * static_cast<double>(s.windows);
    wall += s.wall_s;
    out.stream() << nlohmann::json{{"type", "clip"},
                                   {"path", sample.path},
                                   {"label", truth},
                                   {"predicted", best.label},
                                   {"confidence", best.confidence},
                                   {"windows", s.windows},
                                   {"mflops", s.gflops * 1e3},
                                   {"mean_width", s.mean_width}}
                        .dump()
                 << "\n";
  }
  out.stream() << nlohmann::json{{"type", "summary"},
                                 {"clips", clips},
                                 {"skipped", failed},
                                 {"clip_accuracy", clips ? double(correct) / clips : 0.0},
                                 {"windows", windows},
                                 {"mean_mflops_per_window", windows ? mflops / windows : 0.0},
                                 {"mean_width", windows ? width_sum / windows : 0.0},
                                 {"gflops", mflops / 1e3},
                                 {"wall_s", wall}}
                      .dump()
               << "\n";
  out.commit();
  return 0;
}

int run(int argc, char** argv) {
  cxxopts::Options cli("adaptive-infer",
                       "Adaptive inference on a video: narrow when it can, wider when it must.");
  cli.add_options()("model", "exported model (.pt)", cxxopts::value<std::string>())(
      "input", "video file, frame folder, or a .csv manifest of labelled clips",
      cxxopts::value<std::string>())("allow-outside-root",
                                     "a manifest may list paths outside its folder")(
      "policy", "fixed, confidence or gate",
      cxxopts::value<std::string>()->default_value("confidence"))(
      "width", "fixed policy: the width (default: widest)", cxxopts::value<double>())(
      "threshold", "confidence policy: calibrated confidence that counts as sure",
      cxxopts::value<double>()->default_value("0.6"))(
      "escalate", "next (wider from the next window) or rerun (the same window wider at once)",
      cxxopts::value<std::string>()->default_value("next"))(
      "dwell", "confident windows before stepping down a width",
      cxxopts::value<int>()->default_value("1"))("hysteresis",
                                                 "stepping down needs threshold + this",
                                                 cxxopts::value<double>()->default_value("0.05"))(
      "stride", "model frames between windows", cxxopts::value<int>()->default_value("1"))(
      "battery", "battery level in percent (caps the width)", cxxopts::value<double>())(
      "battery-file", "sysfs-style capacity file, re-read every second",
      cxxopts::value<std::string>())(
      "battery-curve", "PERCENT:WIDTH,...: widest width at or below each level",
      cxxopts::value<std::string>()->default_value("50:0.75,30:0.5,15:0.25"))(
      "budget-mflops-per-s", "compute budget per second of video (0: none)",
      cxxopts::value<double>()->default_value("0"))(
      "quality", "on/off: too dark or blurry windows run narrowest",
      cxxopts::value<std::string>()->default_value("on"))(
      "dark-below", "mean luma in [0, 1] below which a window is too dark",
      cxxopts::value<double>()->default_value("0.06"))(
      "blur-below", "Laplacian variance below which a window has no detail",
      cxxopts::value<double>()->default_value("2"))(
      "still-below", "mean frame difference in [0, 1] below which a window is idle (0: off)",
      cxxopts::value<double>()->default_value("0"))(
      "idle-label", "the label meaning nothing happens",
      cxxopts::value<std::string>()->default_value("no_gesture"))(
      "format", "jsonl, csv or text", cxxopts::value<std::string>()->default_value("jsonl"))(
      "output", "write results to this file instead of stdout", cxxopts::value<std::string>())(
      "overlay", "write the annotated video here (.avi)", cxxopts::value<std::string>())(
      "truth", "ground-truth timeline (JSON) to score the run against",
      cxxopts::value<std::string>())("threads", "compute threads (0: all cores)",
                                     cxxopts::value<int>()->default_value("0"))(
      "quiet", "no progress on stderr")("h,help", "show this help");
  auto args = cli.parse(argc, argv);
  if (args.count("help")) {
    std::cout << cli.help() << "\n";
    return 0;
  }
  if (!args.count("model") || !args.count("input"))
    throw UsageError("--model FILE and --input VIDEO are required (see --help)");
  const std::string format = args["format"].as<std::string>();
  if (format != "jsonl" && format != "csv" && format != "text")
    throw UsageError("--format: expected jsonl, csv or text, got '" + format + "'");
  const int threads = args["threads"].as<int>() > 0
                          ? args["threads"].as<int>()
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  at::set_num_interop_threads(1);
  set_blas_threads(1);  // LibTorch's threads parallelise the convs; OpenBLAS's would compete

  InferOptions o;
  ThrottleOptions& t = o.throttle;
  t.policy = parse_policy(args["policy"].as<std::string>());
  t.threshold = args["threshold"].as<double>();
  const std::string escalate = args["escalate"].as<std::string>();
  if (escalate != "rerun" && escalate != "next")
    throw UsageError("--escalate: expected rerun or next, got '" + escalate + "'");
  t.rerun = escalate == "rerun";
  t.dwell = args["dwell"].as<int>();
  t.hysteresis = args["hysteresis"].as<double>();
  t.battery_curve = parse_battery_curve(args["battery-curve"].as<std::string>());
  t.budget_mflops_per_s = args["budget-mflops-per-s"].as<double>();
  t.quality.enabled = args["quality"].as<std::string>() != "off";
  t.quality.dark_below = args["dark-below"].as<double>();
  t.quality.blur_below = args["blur-below"].as<double>();
  t.quality.still_below = args["still-below"].as<double>();
  if (t.threshold <= 0 || t.threshold > 1) throw UsageError("--threshold must be in (0, 1]");
  if (t.dwell < 1) throw UsageError("--dwell must be >= 1");
  if (t.budget_mflops_per_s < 0) throw UsageError("--budget-mflops-per-s must be >= 0");
  o.reader.stride = args["stride"].as<int>();
  if (o.reader.stride < 1) throw UsageError("--stride must be >= 1");
  if (args.count("battery")) {
    o.battery_pct = args["battery"].as<double>();
    if (o.battery_pct < 0 || o.battery_pct > 100) throw UsageError("--battery must be in [0, 100]");
  }
  if (args.count("battery-file")) o.battery_file = args["battery-file"].as<std::string>();
  o.idle_label = args["idle-label"].as<std::string>();
  std::vector<TimelineSegment> truth;
  if (args.count("truth")) truth = read_timeline(args["truth"].as<std::string>());

  const ModelArtifact model = ModelArtifact::load(args["model"].as<std::string>());
  const auto& meta = model.metadata();
  if (args.count("width")) {
    const double w = args["width"].as<double>();
    t.fixed_index = -2;
    for (int i = 0; i < model.num_widths(); ++i)
      if (std::abs(meta.widths[i].width - w) < 1e-6) t.fixed_index = i;
    if (t.fixed_index < 0) {
      std::string valid;
      for (const auto& x : meta.widths)
        valid += (valid.empty() ? "" : ", ") + std::to_string(x.width).substr(0, 4);
      throw UsageError("--width " + std::to_string(w).substr(0, 5) +
                       " is not in the model (valid: " + valid + ")");
    }
  }
  std::vector<double> widths;
  for (const auto& w : meta.widths) widths.push_back(w.width);

  const std::string input = args["input"].as<std::string>();
  if (has_extension(input, {".csv"})) {
    if (format != "jsonl" || args.count("overlay") || args.count("truth"))
      throw UsageError(
          "a manifest input gives JSON lines per clip: no --format, --overlay or --truth");
    Output out(args.count("output") ? args["output"].as<std::string>() : "");
    return run_manifest(model, input, o, ManifestRules{args.count("allow-outside-root") > 0}, out);
  }
  std::unique_ptr<OverlayWriter> overlay;
  if (args.count("overlay")) {
    o.reader.keep_frames = true;
  }
  Output out(args.count("output") ? args["output"].as<std::string>() : "");
  if (format == "csv") out.stream() << csv_header() << "\n";
  std::vector<TimedPrediction> predictions;
  const bool progress = !args.count("quiet");
  auto last_progress = std::chrono::steady_clock::now();
  const auto started = last_progress;
  RunSummary summary = run_inference(model, input, o, [&](const WindowResult& r, const Window& w) {
    if (format == "jsonl") out.stream() << window_json(r).dump() << "\n";
    if (format == "csv") out.stream() << csv_line(r) << "\n";
    if (format == "text") out.stream() << text_line(r) << "\n";
    predictions.push_back({r.start_s, r.end_s, r.label});
    if (args.count("overlay")) {
      if (!overlay) {
        const double source_fps = static_cast<double>(r.end_frame + 1) / r.end_s;
        overlay =
            std::make_unique<OverlayWriter>(args["overlay"].as<std::string>(), source_fps, widths);
      }
      overlay->write(w.new_frames, r);
    }
    const auto now = std::chrono::steady_clock::now();
    if (progress && now - last_progress > std::chrono::seconds(2)) {
      std::fprintf(stderr, "adaptive-infer: %.1f s of video, %lld windows, %.0f s\n", r.end_s,
                   static_cast<long long>(r.index + 1),
                   std::chrono::duration<double>(now - started).count());
      last_progress = now;
    }
  });
  // An input that ends before its first window is as unreadable as a corrupt
  // file: an error, with no summary and no output written.
  if (!summary.error.empty() && summary.windows == 0)
    throw std::runtime_error(input + ": " + summary.error);
  if (!truth.empty()) summary.truth = score_timeline(predictions, truth, o.idle_label);
  if (!summary.warning.empty()) std::cerr << "adaptive-infer: warning: " << summary.warning << "\n";
  if (format == "text") {
    out.stream() << text_summary(summary) << "\n";
  } else if (format == "jsonl") {
    out.stream() << summary_json(summary, model).dump() << "\n";
  } else {
    std::cerr << text_summary(summary) << "\n";
  }
  out.commit();
  if (overlay) overlay->finish();
  if (!summary.error.empty()) {
    std::cerr << "adaptive-infer: " << input << ": " << summary.error << " (" << summary.windows
              << " windows processed, summary above)\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << "adaptive-infer: " << e.what() << "\n";
    return 2;
  } catch (const UsageError& e) {
    std::cerr << "adaptive-infer: " << e.what() << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "adaptive-infer: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "adaptive-infer: error: " << e.what() << "\n";
    return 1;
  }
}
