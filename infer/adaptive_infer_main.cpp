// adaptive-infer: adaptive inference on a video file, frame folder, network
// stream, camera, or manifest of labelled clips.
//
//   adaptive-infer --model model.pt --input VIDEO|URL|CAMERA [--policy fixed|confidence|gate]
//
// Prints one JSON line per window, as it is decided, and a summary
// (docs/inference-output.md), or CSV / text. Exit codes: 0 ok, 1 runtime
// failure (bad model, video or stream; a decoding error mid-file with
// --strict, after printing what was processed), 2 usage, 128 + N when signal
// N stopped the run (after the summary and the overlay are written).
#include <cstdio>
#include <iostream>

#include <cxxopts.hpp>

#include "common/cli.h"
#include "common/process.h"
#include "common/stop_signals.h"
#include "datasets/dataset_index.h"
#include "datasets/frame_source.h"
#include "datasets/live_source.h"
#include "infer/engine.h"
#include "infer/manifest_run.h"
#include "infer/result_format.h"
#include "infer/video_run.h"

namespace {

using namespace adaptive;

std::string text(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

cxxopts::Options command_line() {
  const InferOptions d;  // every default below is the library's
  const ThrottleOptions& t = d.throttle;
  cxxopts::Options cli("adaptive-infer",
                       "Adaptive inference on a video: narrow when it can, wider when it must.");
  cli.add_options()("model", "exported model (.pt)", cxxopts::value<std::string>())(
      "input",
      "video file, frame folder, stream URL (http://, rtsp://, udp://, ...), camera "
      "(/dev/videoN or N), or a .csv manifest of labelled clips",
      cxxopts::value<std::string>())(
      "realtime", "deliver a file at its own frame rate, as a camera would (live sources are)")(
      "max-latency-ms",
      "live: deadline of a window after its last frame; caps the width (default: the time "
      "between two windows)",
      cxxopts::value<double>())(
      "connect-timeout", "seconds to open a stream or camera before giving up",
      cxxopts::value<double>()->default_value(text(d.input.live.connect_timeout_s)))(
      "read-timeout", "seconds without a frame after which a stream has stopped",
      cxxopts::value<double>()->default_value(text(d.input.live.read_timeout_s)))(
      "reconnect", "attempts to reopen a stream that stopped (waits double from 0.5 s)",
      cxxopts::value<int>()->default_value(std::to_string(d.input.live.reconnect)))(
      "allow-outside-root", "a manifest may list paths outside its folder")(
      "folder-fps",
      "frame folders: their frame rate (default: the rate the model was trained with, "
      "data.folder_fps of its config; " +
          text(d.input.folder_fps) + " for a model without one)",
      cxxopts::value<double>())(
      "policy", "fixed, confidence or gate",
      cxxopts::value<std::string>()->default_value(policy_names().name(t.policy)))(
      "width", "fixed policy: the width (default: widest)", cxxopts::value<double>())(
      "batch", "a manifest input: windows per forward pass, at a fixed width (throughput mode)",
      cxxopts::value<int>()->default_value("1"))(
      "clips",
      "a manifest input: evaluation clips per video, as adaptive-train evaluate takes them "
      "(default: the model's data.eval_clips)",
      cxxopts::value<int>())("threshold",
                             "confidence policy: calibrated confidence that counts as sure",
                             cxxopts::value<double>()->default_value(text(t.threshold)))(
      "escalate", "next (wider from the next window) or rerun (the same window wider at once)",
      cxxopts::value<std::string>()->default_value(t.rerun ? "rerun" : "next"))(
      "climb",
      "confidence policy: step (one width at a time) or jump (unsure: straight to the widest "
      "allowed; stepping down: straight to the narrowest; cheaper when streaming, where each "
      "width left behind is rebuilt at a window's cost)",
      cxxopts::value<std::string>()->default_value(climb_names().name(t.climb)))(
      "dwell", "confident windows before stepping down",
      cxxopts::value<int>()->default_value(std::to_string(t.dwell)))(
      "hysteresis", "stepping down needs threshold + this",
      cxxopts::value<double>()->default_value(text(t.hysteresis)))(
      "futility-gain",
      "a climb to the widest allowed width that ends unsure and less than this surer than where "
      "it began is given up until the input changes (0: never)",
      cxxopts::value<double>()->default_value(text(t.futility_gain)))(
      "futility-hold", "windows a given-up climb stays given up at most",
      cxxopts::value<int>()->default_value(std::to_string(t.futility_hold)))(
      "gate-bias",
      "gate policy: cost added to its scores per share of full-width compute, on top of the "
      "operating point fitted at training (> 0: narrower widths, < 0: wider)",
      cxxopts::value<double>()->default_value(text(t.gate_bias)))(
      "disagree-hold",
      "windows held at a wider width after a narrower one, sure, named another gesture than it "
      "just did (0: never go back up for that)",
      cxxopts::value<int>()->default_value(std::to_string(t.disagree_hold)))(
      "idle-stride",
      "while sure nothing happens, run one window in this many; the others repeat its answer "
      "(decision skip; confidence and gate policies, windowed passes; 1: every window)",
      cxxopts::value<int>()->default_value(std::to_string(t.idle_stride)))(
      "stride", "model frames between windows",
      cxxopts::value<int>()->default_value(std::to_string(d.reader.stride)))(
      "streaming",
      "auto: a causal model computes each new frame once, carrying state (docs/artifact.md); "
      "on: the same, an error for a model that cannot; off: every window computed whole",
      cxxopts::value<std::string>()->default_value(streaming_mode_names().name(d.streaming)))(
      "battery", "battery level in percent (caps the width)", cxxopts::value<double>())(
      "battery-file", "sysfs-style capacity file, re-read every second",
      cxxopts::value<std::string>())(
      "battery-curve", "PERCENT:WIDTH,...: widest width at or below each level",
      cxxopts::value<std::string>()->default_value(format_battery_curve(t.battery_curve)))(
      "budget-mflops-per-s", "compute budget per second of video (0: none)",
      cxxopts::value<double>()->default_value(text(t.budget_mflops_per_s)))(
      "quality", "on/off: too dark or blurry windows run narrowest",
      cxxopts::value<std::string>()->default_value(t.quality.enabled ? "on" : "off"))(
      "dark-below", "mean luma in [0, 1] below which a window is too dark",
      cxxopts::value<double>()->default_value(text(t.quality.dark_below)))(
      "blur-below", "Laplacian variance below which a window has no detail",
      cxxopts::value<double>()->default_value(text(t.quality.blur_below)))(
      "still-below", "mean frame difference in [0, 1] below which a window is idle (0: off)",
      cxxopts::value<double>()->default_value(text(t.quality.still_below)))(
      "idle-label", "the label meaning nothing happens",
      cxxopts::value<std::string>()->default_value(d.idle_label))(
      "format", "jsonl, csv or text", cxxopts::value<std::string>()->default_value("jsonl"))(
      "output", "write results to this file instead of stdout", cxxopts::value<std::string>())(
      "overlay", "write the annotated video here (.avi)", cxxopts::value<std::string>())(
      "truth", "ground-truth timeline (JSON) to score the run against",
      cxxopts::value<std::string>())("threads",
                                     "compute threads (0: each width on 1 or all cores, whichever "
                                     "spends less CPU and keeps up, measured at warm-up)",
                                     cxxopts::value<int>()->default_value("0"))(
      "strict",
      "a video that ends early or fails to decode mid-way is an error (default: the windows "
      "decoded are kept, with a warning)")("quiet", "no progress on stderr")("h,help",
                                                                             "show this help");
  return cli;
}

// The inference options the command line asks for. Throws UsageError, or
// std::invalid_argument for a value out of range (InferOptions::validate).
InferOptions infer_options(const cxxopts::ParseResult& args) {
  InferOptions o;
  ThrottleOptions& t = o.throttle;
  t.policy = parse_policy(args["policy"].as<std::string>());
  t.threshold = args["threshold"].as<double>();
  const std::string escalate = args["escalate"].as<std::string>();
  if (escalate != "rerun" && escalate != "next")
    throw UsageError("--escalate: expected rerun or next, got '" + escalate + "'");
  t.rerun = escalate == "rerun";
  t.climb = climb_names().parse(args["climb"].as<std::string>());
  t.dwell = args["dwell"].as<int>();
  t.hysteresis = args["hysteresis"].as<double>();
  t.futility_gain = args["futility-gain"].as<double>();
  t.futility_hold = args["futility-hold"].as<int>();
  t.gate_bias = args["gate-bias"].as<double>();
  t.disagree_hold = args["disagree-hold"].as<int>();
  t.idle_stride = args["idle-stride"].as<int>();
  t.battery_curve = parse_battery_curve(args["battery-curve"].as<std::string>());
  t.budget_mflops_per_s = args["budget-mflops-per-s"].as<double>();
  t.quality.enabled = args["quality"].as<std::string>() != "off";
  t.quality.dark_below = args["dark-below"].as<double>();
  t.quality.blur_below = args["blur-below"].as<double>();
  t.quality.still_below = args["still-below"].as<double>();
  o.reader.stride = args["stride"].as<int>();
  o.streaming = streaming_mode_names().parse(args["streaming"].as<std::string>());
  o.reader.strict = args.count("strict") > 0;
  o.input.realtime = args.count("realtime") > 0;
  LiveSourceOptions& live = o.input.live;
  live.connect_timeout_s = args["connect-timeout"].as<double>();
  live.read_timeout_s = args["read-timeout"].as<double>();
  live.reconnect = args["reconnect"].as<int>();
  if (args.count("max-latency-ms")) {  // given, it is a deadline (0 would mean none)
    t.max_latency_ms = args["max-latency-ms"].as<double>();
    if (!(t.max_latency_ms > 0)) throw UsageError("--max-latency-ms must be > 0");
  }
  if (args.count("battery")) {  // given, it is a level (< 0 would mean none)
    o.battery_pct = args["battery"].as<double>();
    if (!(o.battery_pct >= 0 && o.battery_pct <= 100))
      throw UsageError("--battery must be in [0, 100]");
  }
  if (args.count("battery-file")) o.battery_file = args["battery-file"].as<std::string>();
  o.idle_label = args["idle-label"].as<std::string>();
  o.validate();
  return o;
}

// --width W as the artifact's width index. Throws UsageError listing the valid widths.
int fixed_width_index(const ModelArtifact& model, double w) {
  if (const auto i = model.metadata().width_index(w)) return *i;
  std::string valid;
  for (double x : model.metadata().width_values())
    valid += (valid.empty() ? "" : ", ") + std::to_string(x).substr(0, 4);
  throw UsageError("--width " + std::to_string(w).substr(0, 5) +
                   " is not in the model (valid: " + valid + ")");
}

// The frame rate the model's training gave frame folders (its config's
// data.folder_fps), or `otherwise` for a model whose file does not say.
double trained_folder_fps(const ModelArtifact& model, double otherwise) {
  return config_number(model.metadata(), "/data/folder_fps", otherwise);
}

// One video to the outputs asked for; the exit code.
int run_one_video(const ModelArtifact& model, const std::string& input, const InferOptions& o,
                  ResultFormat format, const cxxopts::ParseResult& args) {
  VideoOutputs outputs;
  outputs.format = format;
  if (args.count("output")) outputs.output = args["output"].as<std::string>();
  if (args.count("overlay")) outputs.overlay = args["overlay"].as<std::string>();
  if (args.count("truth")) outputs.truth = args["truth"].as<std::string>();
  outputs.progress = !args.count("quiet");
  const RunSummary summary = run_video(model, input, o, outputs);
  if (summary.stopped) {
    std::cerr << "adaptive-infer: stopped by signal " << stop_signal() << " after "
              << summary.windows << " windows (summary written)\n";
    return 128 + stop_signal();
  }
  if (is_live_input(input) && summary.error.empty() && summary.warning.empty())
    std::cerr << "adaptive-infer: " << input << ": the stream ended after " << summary.frames
              << " frames\n";
  if (!summary.error.empty()) {
    std::cerr << "adaptive-infer: " << input << ": " << summary.error << " (" << summary.windows
              << " windows processed, summary above)\n";
    return 1;
  }
  return 0;
}

int run(int argc, char** argv) {
  cxxopts::Options cli = command_line();
  auto args = cli.parse(argc, argv);
  if (args.count("help")) {
    std::cout << cli.help() << "\n";
    return 0;
  }
  if (!args.count("model") || !args.count("input"))
    throw UsageError("--model FILE and --input VIDEO are required (see --help)");
  const ResultFormat format = result_format_names().parse(args["format"].as<std::string>());
  set_compute_threads(args["threads"].as<int>());
  set_blas_threads(1);  // LibTorch's threads parallelise the convs; OpenBLAS's would compete
  keep_freed_memory();  // no page faults for the same tensors every window (common/process.h)
  disable_graph_optimisation();  // see infer/model_artifact.h

  InferOptions o = infer_options(args);
  o.choose_threads = args["threads"].as<int>() == 0;
  const ModelArtifact model = ModelArtifact::load(args["model"].as<std::string>());
  if (args.count("width"))
    o.throttle.fixed_index = fixed_width_index(model, args["width"].as<double>());
  o.input.folder_fps = args.count("folder-fps") ? args["folder-fps"].as<double>()
                                                : trained_folder_fps(model, o.input.folder_fps);
  if (!(o.input.folder_fps > 0))
    throw UsageError("--folder-fps must be > 0, got " + text(o.input.folder_fps));

  const std::string input = args["input"].as<std::string>();
  const int batch = args["batch"].as<int>();  // run_manifest checks it against the policy
  if ((batch != 1 || args.count("clips")) && !has_extension(input, {".csv"}))
    throw UsageError(
        "--batch and --clips are for a manifest input (.csv): a video's windows run one by one");
  if (!has_extension(input, {".csv"})) {
    o.stop = &install_stop_signals();  // SIGINT / SIGTERM end the run after its current window
    return run_one_video(model, input, o, format, args);
  }
  if (format != ResultFormat::kJsonl || args.count("overlay") || args.count("truth") ||
      o.input.realtime)
    throw UsageError(
        "a manifest input gives JSON lines per clip: no --format, --overlay, --truth or "
        "--realtime");
  ResultOutput out(args.count("output") ? args["output"].as<std::string>() : "");
  ManifestOptions m;
  m.batch = batch;
  m.clips = args.count("clips") ? args["clips"].as<int>() : 0;
  if (args.count("clips") && m.clips < 1)
    throw UsageError("--clips must be >= 1, got " + std::to_string(m.clips));
  m.folder_fps = o.input.folder_fps;
  m.rules.allow_outside_root = args.count("allow-outside-root") > 0;
  run_manifest(model, input, o, m, out.stream());
  out.commit();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return adaptive::run_tool("adaptive-infer", [&] { return run(argc, argv); });
}
