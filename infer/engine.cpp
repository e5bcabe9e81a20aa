#include "infer/engine.h"

#include <algorithm>
#include <fstream>
#include <tuple>

#include <torch/torch.h>

#include "common/clock.h"
#include "common/cpu_time.h"
#include "infer/compute_threads.h"
#include "infer/model_passes.h"
#include "models/width_gate.h"

namespace adaptive {

Percentiles percentiles(std::vector<double> values) {
  Percentiles p;
  if (values.empty()) return p;
  std::sort(values.begin(), values.end());
  auto at = [&](double q) {
    return values[std::min(values.size() - 1,
                           static_cast<size_t>(q * static_cast<double>(values.size())))];
  };
  p.p50 = at(0.5);
  p.p95 = at(0.95);
  p.max = values.back();
  return p;
}

double read_battery_file(const std::string& path) {
  std::ifstream in(path);
  double pct = -1;
  if (!in || !(in >> pct) || pct < 0 || pct > 100) {
    throw std::runtime_error(path + ": not a battery capacity file (expected a percentage 0..100)");
  }
  return pct;
}

void InferOptions::validate() const {
  throttle.validate();
  if (reader.stride < 1)
    throw std::invalid_argument("stride must be >= 1, got " + std::to_string(reader.stride));
  if (!(battery_pct < 0 || battery_pct <= 100))
    throw std::invalid_argument("battery level must be in [0, 100], got " +
                                std::to_string(battery_pct));
  const LiveSourceOptions& live = input.live;
  if (!(live.connect_timeout_s > 0)) throw std::invalid_argument("connect timeout must be > 0");
  if (!(live.read_timeout_s > 0)) throw std::invalid_argument("read timeout must be > 0");
  if (live.reconnect < 0) throw std::invalid_argument("reconnect attempts must be >= 0");
}

namespace {

// The battery level: fixed, or read from a capacity file and re-read at most
// once a second (a file being rewritten may read badly for a moment: the
// last level is kept).
class BatteryGauge {
 public:
  BatteryGauge(double fixed_pct, std::string file) : level_(fixed_pct), file_(std::move(file)) {
    if (file_.empty()) return;
    level_ = read_battery_file(file_);
    read_at_ = Clock::now();
  }
  double level() {
    if (!file_.empty() && ms_since(read_at_) >= 1000) {
      try {
        level_ = read_battery_file(file_);
      } catch (const std::runtime_error&) {
      }
      read_at_ = Clock::now();
    }
    return level_;
  }

 private:
  double level_;
  std::string file_;
  Clock::time_point read_at_;
};

// The gate's operating point: the choice is the argmax of the gate's scores
// less `bias` times what each choice costs, as training fitted it
// (models/width_gate.h, gate_choice_cost). What was chosen is the gate
// policy's state (infer/width_policy.h).
struct GateChooser {
  double bias = 0;
  std::vector<std::vector<double>> choice_cost;  // per head: gate_choice_cost

  // The choice of the head that read width `head`'s pass.
  int choose(const at::Tensor& scores, int head) const {
    return static_cast<int>(gate_choice(scores, bias, choice_cost.at(head))[0].item<int64_t>());
  }
};

// The model passes of a run: each runs on its width's threads (a live run's
// ThreadPlan), and its wall time feeds the throttle's time per width (the
// deadline), the plan and the run's cost (DeviceCost::pass_ms, model_s).
struct PassLog {
  PassLog(size_t widths, ThreadPlan plan)
      : total_ms(widths, 0), count(widths, 0), frames(widths, 0), threads(std::move(plan)) {}
  void before(int index) const { threads.before_pass(index); }
  // A pass at `index` took `pass_ms` and computed `frames` model frames.
  void add(Throttle& throttle, int index, double pass_ms, int64_t frames) {
    throttle.observe_pass(index, pass_ms);
    threads.after_pass(index, pass_ms);
    total_ms.at(static_cast<size_t>(index)) += pass_ms;
    ++count.at(static_cast<size_t>(index));
    this->frames.at(static_cast<size_t>(index)) += frames;
  }
  // Width `index`'s mean pass (0: none ran).
  double mean_ms(size_t index) const {
    return count[index] ? total_ms[index] / static_cast<double>(count[index]) : 0;
  }
  // Width `index`'s mean time per model frame computed (0: none).
  double frame_ms(size_t index) const {
    return frames[index] ? total_ms[index] / static_cast<double>(frames[index]) : 0;
  }
  std::vector<double> total_ms;  // per width
  std::vector<int64_t> count;    // per width
  std::vector<int64_t> frames;   // per width
  ThreadPlan threads;
};

// The window's span and quality in its result.
void place(WindowResult& r, const Window& window) {
  r.index = window.index;
  r.start_frame = window.start_frame;
  r.end_frame = window.end_frame;
  r.start_s = window.start_s;
  r.end_s = window.end_s;
  r.quality = window.quality;
}

// One window through the model at the widths the throttle plans, each pass
// windowed or streamed (infer/model_passes.h). Gate: after a run's first
// window, the width the previous window's pass chose, in one pass whose gate
// head chooses the next (models/width_gate.h); the first window runs at the
// narrowest, or probes when the policy wants it
// (ThrottleOptions::gate_probe_first), as does every window of a model whose
// gate reads only the narrowest width: one narrowest pass (whose logits
// serve when it picks the narrowest), then the chosen width. Confidence:
// passes widening while the throttle asks. Fills the width, label,
// confidence, cost, passes and decision.
WindowResult classify_window(const ModelArtifact& model, ModelPasses& model_passes,
                             Throttle& throttle, const Window& window, WindowSignals signals,
                             PolicyKind policy, int idle_index, const GateChooser& gate,
                             PassLog& passes) {
  const ArtifactMetadata& meta = model.metadata();
  const auto start = Clock::now();
  WindowResult r;
  at::Tensor logits, probs;  // probs: calibrated, of the final pass
  int next_gate_choice = -1;
  const auto outcome = [idle_index](int index, const at::Tensor& p) {
    const int label = static_cast<int>(p.argmax().item<int64_t>());
    return PassOutcome{index, p[label].item<double>(), label, label == idle_index};
  };
  // One pass at `index` (nothing: the gate's probe), timed and counted.
  const auto pass = [&](std::optional<int> index, bool with_gate) {
    const int width = index.value_or(0);
    passes.before(width);
    const auto pass_start = Clock::now();
    PassResult p = index ? model_passes.run(window, *index, with_gate) : model_passes.probe(window);
    passes.add(throttle, width, ms_since(pass_start), p.frames);
    r.mflops += p.mflops;
    r.frames_computed += p.frames;
    ++r.passes;
    return p;
  };
  if (policy == PolicyKind::kGate) {
    const bool every_width = model.gates_every_width();
    const bool probe = throttle.wants_gate_probe(every_width);
    at::Tensor scores, narrow_logits;  // scores: the gate's, from the pass that ran last
    if (probe) {                       // one narrowest pass, whose head chooses
      const PassResult p = pass(std::nullopt, true);
      scores = p.scores;
      narrow_logits = p.logits;
      signals.gate_choice = gate.choose(scores, 0);
    }  // else the width the previous window's pass chose (none first: the narrowest)
    const Plan plan = throttle.begin(signals);
    r.decision = plan.decision;
    r.width_index = plan.index;
    if (probe && plan.index == 0) {
      logits = narrow_logits;
    } else {  // the chosen width, whose head (when it has one) chooses the next window's
      const PassResult p = pass(plan.index, every_width);
      logits = p.logits;
      if (every_width) scores = p.scores;
    }
    probs = model.probabilities(logits, r.width_index)[0];
    // Head plan.index read the pass that served (head 0: the probe's).
    if (every_width) next_gate_choice = gate.choose(scores, plan.index);
  } else {
    Plan plan = throttle.begin(signals);
    r.decision = plan.decision;
    while (true) {
      logits = pass(plan.index, false).logits;
      r.width_index = plan.index;
      probs = model.probabilities(logits, plan.index)[0];
      const auto wider = throttle.after(outcome(plan.index, probs));
      if (!wider) break;
      plan = *wider;
      r.decision = plan.decision;
    }
  }
  PassOutcome final_pass = outcome(r.width_index, probs);
  final_pass.gate_choice = next_gate_choice;
  r.label_index = final_pass.label;
  r.confidence = final_pass.confidence;
  r.logits = logits[0] / meta.widths[r.width_index].temperature;
  r.latency_ms = ms_since(start);
  throttle.finish(final_pass, r.mflops);

  r.width = meta.widths[r.width_index].width;
  r.label = meta.labels.at(r.label_index);
  place(r, window);
  return r;
}

// A window the throttle skips (ThrottleOptions::idle_stride): the last
// window's answer, no pass.
WindowResult skipped_window(const WindowResult& last, const Window& window) {
  WindowResult r;
  r.width_index = last.width_index;
  r.width = last.width;
  r.label_index = last.label_index;
  r.label = last.label;
  r.confidence = last.confidence;
  r.logits = last.logits;
  r.decision = Decision::kSkip;
  place(r, window);
  return r;
}

// The run's totals, window by window.
class SummaryTally {
 public:
  explicit SummaryTally(size_t widths) { s_.windows_per_width.assign(widths, 0); }

  void add(const WindowResult& r) {
    if (r.delay_ms >= 0) delays_.push_back(r.delay_ms);
    ++s_.windows;
    if (r.decision == Decision::kSkip) {
      ++s_.windows_skipped;
      return;
    }
    ++s_.windows_per_width[r.width_index];
    width_sum_ += r.width;
    mflops_sum_ += r.mflops;
    latencies_.push_back(r.latency_ms);
  }

  // `full_width_mflops`: what a fixed widest run would have computed.
  RunSummary finish(const ReaderEnd& end, double wall_s, double full_width_mflops) {
    RunSummary s = s_;
    s.wall_s = wall_s;
    s.frames = end.frames;
    s.duration_s = end.source_fps > 0 ? static_cast<double>(end.frames) / end.source_fps : 0;
    const int64_t run = s.windows - s.windows_skipped;
    s.mean_width = run ? width_sum_ / static_cast<double>(run) : 0;
    s.gflops = mflops_sum_ / 1e3;
    s.gflops_full_width = full_width_mflops / 1e3;
    s.compute_saving = s.gflops_full_width > 0 ? 1 - s.gflops / s.gflops_full_width : 0;
    s.fps = s.wall_s > 0 ? static_cast<double>(s.frames) / s.wall_s : 0;
    s.latency_ms = percentiles(latencies_);
    s.error = end.error;
    s.warning = end.warning;
    if (end.live) {
      LiveSummary live;
      live.deadline_ms = deadline_ms;
      live.missed_deadlines =
          std::count_if(delays_.begin(), delays_.end(), [&](double d) { return d > deadline_ms; });
      live.dropped_frames = end.dropped_frames;
      live.dropped_windows = end.dropped_windows;
      live.reconnects = end.reconnects;
      live.delay_ms = percentiles(delays_);
      s.live = live;
    }
    return s;
  }

  double deadline_ms = 0;

 private:
  RunSummary s_;
  double width_sum_ = 0, mflops_sum_ = 0;
  std::vector<double> latencies_, delays_;
};

// The TorchScript executor profiles and optimises a method's graph over its
// first calls, and each width is a branch of its own: on this project's
// machine a width's first 4 passes take 10-50 ms where a warm one of the demo
// model takes 1-2 ms (docs/benchmarks.md#live-streams). On a live source a
// cold pass would count against its window's deadline and, through the
// throttle's time per width, cap the windows after it. So before the first
// window, every width runs this many times on a blank clip, through the
// methods the policy calls.
constexpr int kWarmUpRounds = 5;

// Passes that time the widest width after a run that never used it (their
// median: the first may be cold).
constexpr int kWidestTimingPasses = 3;

// A live window's deadline after its last frame: the option, or else the
// time between two windows (0: unknown before the source opens).
double live_deadline_ms(const InferOptions& o, double model_fps) {
  if (o.throttle.max_latency_ms > 0) return o.throttle.max_latency_ms;
  return model_fps > 0 ? 1000.0 * static_cast<double>(o.reader.stride) / model_fps : 0;
}

}  // namespace

RunStart start_run(const ModelArtifact& model, const InferOptions& options, bool live) {
  const auto start = Clock::now();
  const auto& in = model.metadata().input;
  // Blank windows, each width's a window after its last: a stream's pass
  // then steps `stride` new frames, as on the source.
  Window blank;
  blank.frames.assign(static_cast<size_t>(in.frames),
                      torch::zeros({in.channels, in.height, in.width}));
  ModelPasses passes(model, options.streaming, options.reader.stride);
  std::vector<int64_t> next_index(static_cast<size_t>(model.num_widths()), 0);
  const bool gate = options.throttle.policy == PolicyKind::kGate;
  const auto pass = [&](int i) {
    blank.index = next_index[static_cast<size_t>(i)]++;
    passes.run(blank, i, gate && model.gates_every_width());
  };
  c10::InferenceMode inference;
  for (int round = 0; round < kWarmUpRounds; ++round) {
    if (gate) {
      blank.index = next_index[0]++;
      passes.probe(blank);
    }
    for (int i = 0; i < model.num_widths(); ++i) {
      pass(i);
      if (passes.streaming()) {  // and a rebuild (a prefill): a window far from its last
        next_index[static_cast<size_t>(i)] += in.frames;
        pass(i);
      }
    }
  }
  RunStart run;
  if (options.choose_threads) {
    double deadline_ms = 0, gap_ms = 0;  // a file: passes back to back, no deadline
    if (live) {
      deadline_ms = live_deadline_ms(options, in.fps);
      gap_ms = deadline_ms > 0 ? std::min(deadline_ms, 50.0) : 50.0;
    }
    run.threads =
        choose_thread_plan(pass, model.num_widths(), at::get_num_threads(), deadline_ms, gap_ms);
  }
  run.seconds = seconds_since(start);
  return run;
}

namespace {

// The index of `options.idle_label` among the model's labels, or -1.
int idle_label_index(const ArtifactMetadata& meta, const InferOptions& options) {
  const auto it = std::find(meta.labels.begin(), meta.labels.end(), options.idle_label);
  return it == meta.labels.end() ? -1 : static_cast<int>(it - meta.labels.begin());
}

// The gate's choice rule for windows costing `mflops` per width.
GateChooser gate_chooser(const InferOptions& options, const std::vector<double>& mflops) {
  GateChooser gate;
  gate.bias = options.throttle.gate_bias;
  for (int head = 0; head < static_cast<int>(mflops.size()); ++head)
    gate.choice_cost.push_back(gate_choice_cost(mflops, head));
  return gate;
}

void require_gate(const ModelArtifact& model, const InferOptions& options) {
  if (options.throttle.policy == PolicyKind::kGate && !model.metadata().has_gate) {
    throw std::invalid_argument(model.path() +
                                ": the gate policy needs a gated model (this one has no gate)");
  }
}

// Runs over `source` with options already validated.
RunSummary run_windows(const ModelArtifact& model, std::unique_ptr<FrameSource> source,
                       const InferOptions& options, const WindowCallback& on_window,
                       ThreadPlan threads) {
  const ArtifactMetadata& meta = model.metadata();
  const std::vector<double> widths = meta.width_values();
  require_gate(model, options);
  ModelPasses model_passes(model, options.streaming, options.reader.stride);
  std::vector<double> mflops;  // a window's, in this mode
  for (int i = 0; i < model.num_widths(); ++i) mflops.push_back(model_passes.window_mflops(i));
  const bool live = source->live();
  ThrottleOptions throttle_options = options.throttle;
  if (live)  // keep up: one window per window interval
    throttle_options.max_latency_ms =
        live_deadline_ms(options, meta.input.fps > 0 ? meta.input.fps : source->fps());
  // A stream's state steps every frame: a skipped window's would be stepped
  // by the next pass, which saves nothing.
  if (model_passes.streaming()) throttle_options.idle_stride = 1;
  Throttle throttle(throttle_options, widths, mflops);
  const int idle_index = idle_label_index(meta, options);
  BatteryGauge battery(options.battery_pct, options.battery_file);

  const auto t0 = Clock::now();
  const double cpu_at_start = process_cpu_s(), energy_at_start = package_energy_j();
  WindowReader reader(std::move(source), meta.input, options.reader);
  c10::InferenceMode inference;
  SummaryTally tally(widths.size());
  const GateChooser gate = gate_chooser(options, mflops);
  tally.deadline_ms = throttle_options.max_latency_ms;
  PassLog passes(widths.size(), std::move(threads));
  double model_cpu_s = 0, output_cpu_s = 0;
  // Model frames a fixed widest run would have computed for these windows.
  int64_t full_width_frames = 0, previous_index = -1;
  std::optional<Window> last_window;
  std::optional<WindowResult> last_result;
  while (auto window = reader.next(options.stop)) {
    const int64_t frames = meta.input.frames;
    full_width_frames +=
        !model_passes.streaming() || previous_index < 0
            ? frames
            : std::min(frames, (window->index - previous_index) * options.reader.stride);
    previous_index = window->index;
    WindowSignals signals;
    signals.start_s = window->start_s;
    // A file waits for the run; a live window's wait counts against its deadline.
    if (live) signals.waited_ms = ms_since(window->arrived);
    signals.battery_pct = battery.level();
    signals.luma = window->quality.luma;
    signals.sharpness = window->quality.sharpness;
    signals.motion = window->quality.motion;
    WindowResult r;
    if (last_result && throttle.skip()) {
      r = skipped_window(*last_result, *window);
    } else {
      // The model's CPU: the process's over the passes, less the reading
      // thread's meanwhile.
      const double process_before = process_cpu_s(), reader_before = reader.thread_cpu_s();
      r = classify_window(model, model_passes, throttle, *window, signals, options.throttle.policy,
                          idle_index, gate, passes);
      const double reader_after = reader.thread_cpu_s();
      model_cpu_s += process_cpu_s() - process_before -
                     (reader_before >= 0 && reader_after >= 0 ? reader_after - reader_before : 0);
    }
    r.battery_pct = signals.battery_pct;
    if (live) {
      r.delay_ms = ms_since(window->arrived);
      r.dropped_before = window->dropped_before;
    }
    tally.add(r);
    const double output_before = thread_cpu_s();
    if (on_window) on_window(r, *window);
    output_cpu_s += thread_cpu_s() - output_before;
    window->new_frames.clear();
    last_window = std::move(window);
    last_result = std::move(r);
  }
  reader.close();
  const double cpu_s = process_cpu_s() - cpu_at_start;
  const double energy_j = energy_between(energy_at_start, package_energy_j());
  const ArtifactWidth& widest_width = meta.widths.back();
  RunSummary summary = tally.finish(
      reader.end(), ms_since(t0) / 1e3,
      model_passes.streaming()
          ? static_cast<double>(full_width_frames) * widest_width.step_mflops
          : static_cast<double>(full_width_frames / meta.input.frames) * widest_width.mflops);
  summary.stopped = options.stop && options.stop->load();

  DeviceCost& cost = summary.cost;
  cost.cpu_s = cpu_s;
  cost.startup_cpu_s = cpu_at_start;
  cost.energy_j = energy_j;
  cost.cpu_per_video_s = summary.duration_s > 0 ? cpu_s / summary.duration_s : 0;
  cost.decode_cpu_s = reader.end().decode_cpu_s;
  cost.preprocess_cpu_s = reader.end().preprocess_cpu_s;
  cost.model_cpu_s = model_cpu_s;
  cost.output_cpu_s = output_cpu_s;
  cost.other_cpu_s =
      std::max(0.0, cpu_s - cost.decode_cpu_s - cost.preprocess_cpu_s - model_cpu_s - output_cpu_s);
  // The mean pass: full_width_model_s of a fixed widest run is its model_s.
  for (size_t i = 0; i < widths.size(); ++i) {
    cost.model_s += passes.total_ms[i] / 1e3;
    cost.pass_ms.push_back(passes.mean_ms(i));
  }
  const size_t widest = widths.size() - 1;
  double widest_frame_ms = passes.frame_ms(widest);
  if (widest_frame_ms == 0 && last_window) {  // the widest never ran: time it now
    passes.before(static_cast<int>(widest));  // on the threads it would have run on
    std::vector<double> frame_ms;
    for (int i = 0; i < kWidestTimingPasses; ++i) {
      ModelPasses fresh(model, options.streaming, options.reader.stride);
      Window window = *last_window;
      if (fresh.streaming()) {  // a stream at full width steps: time a step, after a rebuild
        fresh.run(window, static_cast<int>(widest), false);
        ++window.index;
      }
      const auto start = Clock::now();
      const PassResult p = fresh.run(window, static_cast<int>(widest), false);
      frame_ms.push_back(ms_since(start) / static_cast<double>(p.frames));
    }
    widest_frame_ms = percentiles(frame_ms).p50;
    cost.pass_ms.back() = widest_frame_ms * static_cast<double>(full_width_frames) /
                          static_cast<double>(std::max<int64_t>(1, summary.windows));
  }
  cost.full_width_model_s = static_cast<double>(full_width_frames) * widest_frame_ms / 1e3;
  summary.streaming = model_passes.streaming();
  summary.stream_exact = summary.streaming && model.metadata().stream_exact;
  summary.idle_stride = throttle.idle_stride();
  if (throttle_options.policy == PolicyKind::kConfidence) summary.climb = throttle_options.climb;
  for (int64_t f : passes.frames) summary.frames_computed += f;
  cost.time_saving = cost.full_width_model_s > 0 ? 1 - cost.model_s / cost.full_width_model_s : 0;
  summary.threads_per_width = passes.threads.per_width();
  return summary;
}

}  // namespace

std::vector<WindowResult> classify_windows(const ModelArtifact& model,
                                           const std::vector<Window>& windows,
                                           const InferOptions& options) {
  options.validate();
  require_gate(model, options);
  ModelPasses model_passes(model, StreamingMode::kOff, options.reader.stride);
  std::vector<double> mflops;
  for (int i = 0; i < model.num_widths(); ++i) mflops.push_back(model_passes.window_mflops(i));
  Throttle throttle(options.throttle, model.metadata().width_values(), mflops);
  const GateChooser gate = gate_chooser(options, mflops);
  const int idle_index = idle_label_index(model.metadata(), options);
  PassLog passes(mflops.size(), ThreadPlan());
  c10::InferenceMode inference;
  std::vector<WindowResult> results;
  for (const Window& w : windows) {
    WindowSignals signals;
    signals.start_s = w.start_s;
    results.push_back(classify_window(model, model_passes, throttle, w, signals,
                                      options.throttle.policy, idle_index, gate, passes));
  }
  return results;
}

RunSummary run_inference(const ModelArtifact& model, std::unique_ptr<FrameSource> source,
                         const InferOptions& options, const WindowCallback& on_window) {
  options.validate();
  return run_windows(model, std::move(source), options, on_window, ThreadPlan());
}

namespace {

nlohmann::json percentiles_json(const Percentiles& p) {
  return {{"p50", p.p50}, {"p95", p.p95}, {"max", p.max}};
}

// A per-width object's key: the width as printed ("0.25").
std::string width_key(const ModelArtifact& model, size_t index) {
  std::ostringstream key;
  key << model.metadata().widths.at(index).width;
  return key.str();
}

}  // namespace

nlohmann::json window_json(const WindowResult& r) {
  nlohmann::json j = {{"type", "window"},
                      {"index", r.index},
                      {"start_frame", r.start_frame},
                      {"end_frame", r.end_frame},
                      {"start_s", r.start_s},
                      {"end_s", r.end_s},
                      {"width", r.width},
                      {"width_index", r.width_index},
                      {"label", r.label},
                      {"label_index", r.label_index},
                      {"confidence", r.confidence},
                      {"mflops", r.mflops},
                      {"latency_ms", r.latency_ms},
                      {"decision", decision_names().name(r.decision)},
                      {"passes", r.passes},
                      {"frames_computed", r.frames_computed},
                      {"quality",
                       {{"luma", r.quality.luma},
                        {"sharpness", r.quality.sharpness},
                        {"motion", r.quality.motion}}}};
  if (r.delay_ms >= 0) {
    j["delay_ms"] = r.delay_ms;
    j["dropped_before"] = r.dropped_before;
  }
  return j;
}

RunSummary run_inference(const ModelArtifact& model, const std::string& input,
                         const InferOptions& options, const WindowCallback& on_window,
                         const RunStart* start) {
  options.validate();
  // Started before the source opens, so that no live frame waits for it.
  const RunStart own =
      start ? RunStart() : start_run(model, options, opens_live(input, options.input));
  if (!start) start = &own;
  InputOptions input_options = options.input;
  input_options.live.stop = options.stop;
  RunSummary summary =
      run_windows(model, open_input(input, input_options), options, on_window, start->threads);
  summary.warmup_s = start->seconds;
  return summary;
}

nlohmann::json summary_json(const RunSummary& s, const ModelArtifact& model) {
  nlohmann::json per_width = nlohmann::json::object();
  for (size_t i = 0; i < s.windows_per_width.size(); ++i)
    per_width[width_key(model, i)] = s.windows_per_width[i];
  nlohmann::json j = {{"type", "summary"},
                      {"mode", s.streaming ? "streaming" : "windowed"},
                      {"stream_exact", s.stream_exact},
                      {"frames", s.frames},
                      {"windows", s.windows},
                      {"duration_s", s.duration_s},
                      {"mean_width", s.mean_width},
                      {"gflops", s.gflops},
                      {"gflops_full_width", s.gflops_full_width},
                      {"compute_saving", s.compute_saving},
                      {"fps", s.fps},
                      {"wall_s", s.wall_s},
                      {"latency_ms", percentiles_json(s.latency_ms)},
                      {"windows_per_width", per_width},
                      {"windows_skipped", s.windows_skipped},
                      {"idle_stride", s.idle_stride},
                      {"frames_computed", s.frames_computed}};
  const DeviceCost& c = s.cost;
  nlohmann::json pass_ms = nlohmann::json::object();
  for (size_t i = 0; i < c.pass_ms.size(); ++i) pass_ms[width_key(model, i)] = c.pass_ms[i];
  j["cpu_s"] = c.cpu_s;
  j["startup_cpu_s"] = c.startup_cpu_s;
  j["cpu_per_video_s"] = c.cpu_per_video_s;
  j["cpu_split_s"] = {{"decode", c.decode_cpu_s},
                      {"preprocess", c.preprocess_cpu_s},
                      {"model", c.model_cpu_s},
                      {"output", c.output_cpu_s},
                      {"other", c.other_cpu_s}};
  j["model_s"] = c.model_s;
  j["full_width_model_s"] = c.full_width_model_s;
  j["time_saving"] = c.time_saving;
  j["pass_ms"] = pass_ms;
  if (c.energy_j >= 0) j["energy_j"] = c.energy_j;
  j["warmup_s"] = s.warmup_s;
  if (s.climb) j["climb"] = climb_names().name(*s.climb);
  if (!s.threads_per_width.empty()) j["threads_per_width"] = s.threads_per_width;
  if (!s.error.empty()) j["error"] = s.error;
  if (!s.warning.empty()) j["warning"] = s.warning;
  if (s.stopped) j["stopped"] = true;
  if (s.live) {
    const LiveSummary& l = *s.live;
    j["live"] = {{"deadline_ms", l.deadline_ms},       {"missed_deadlines", l.missed_deadlines},
                 {"dropped_frames", l.dropped_frames}, {"dropped_windows", l.dropped_windows},
                 {"reconnects", l.reconnects},         {"delay_ms", percentiles_json(l.delay_ms)}};
  }
  if (s.truth) {
    const TruthScore& t = *s.truth;
    j["truth"] = {{"segments", t.segments},
                  {"segments_correct", t.segments_correct},
                  {"segment_accuracy", t.segment_accuracy},
                  {"missed", t.missed},
                  {"idle_windows", t.idle_windows},
                  {"false_alarms", t.false_alarms},
                  {"false_alarm_rate", t.false_alarm_rate},
                  {"false_alarms_after_gesture", t.false_alarms_after_gesture},
                  {"mean_delay_s", t.mean_delay_s},
                  {"mean_release_s", t.mean_release_s},
                  {"releases", t.releases}};
  }
  return j;
}

}  // namespace adaptive
