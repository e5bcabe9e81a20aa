#include "infer/engine.h"

#include <algorithm>
#include <chrono>
#include <fstream>

#include <torch/torch.h>

namespace adaptive {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

double read_battery_file(const std::string& path) {
  std::ifstream in(path);
  double pct = -1;
  if (!in || !(in >> pct) || pct < 0 || pct > 100) {
    throw std::runtime_error(path + ": not a battery capacity file (expected a percentage 0..100)");
  }
  return pct;
}

RunSummary run_inference(const ModelArtifact& model, const std::string& input,
                         const InferOptions& options, const WindowCallback& on_window) {
  return run_inference(model, open_frame_source(input, options.reader.folder_fps), options,
                       on_window);
}

RunSummary run_inference(const ModelArtifact& model, std::unique_ptr<FrameSource> source,
                         const InferOptions& options, const WindowCallback& on_window) {
  const ArtifactMetadata& meta = model.metadata();
  std::vector<double> widths, mflops;
  for (const auto& w : meta.widths) widths.push_back(w.width), mflops.push_back(w.mflops);
  if (options.throttle.policy == PolicyKind::kGate && !meta.has_gate) {
    throw std::invalid_argument(model.path() +
                                ": the gate policy needs a gated model (this one has no gate)");
  }
  Throttle throttle(options.throttle, widths, mflops);
  const auto idle_it = std::find(meta.labels.begin(), meta.labels.end(), options.idle_label);
  const int idle_index =
      idle_it == meta.labels.end() ? -1 : static_cast<int>(idle_it - meta.labels.begin());

  double battery = options.battery_pct;
  Clock::time_point battery_read;
  if (!options.battery_file.empty()) {
    battery = read_battery_file(options.battery_file);
    battery_read = Clock::now();
  }

  const auto t0 = Clock::now();
  WindowReader reader(std::move(source), meta.input, options.reader);
  c10::InferenceMode inference;
  RunSummary s;
  s.windows_per_width.assign(widths.size(), 0);
  std::vector<double> latencies;
  double width_sum = 0, mflops_sum = 0;
  while (auto window = reader.next()) {
    if (!options.battery_file.empty() && ms_since(battery_read) >= 1000) {
      try {  // a file being rewritten may read badly for a moment: keep the last level
        battery = read_battery_file(options.battery_file);
      } catch (const std::runtime_error&) {
      }
      battery_read = Clock::now();
    }
    WindowSignals signals;
    signals.start_s = window->start_s;
    signals.battery_pct = battery;
    signals.luma = window->quality.luma;
    signals.sharpness = window->quality.sharpness;
    signals.motion = window->quality.motion;

    const auto start = Clock::now();
    WindowResult r;
    at::Tensor logits, probs;  // probs: calibrated, of the final pass
    if (options.throttle.policy == PolicyKind::kGate) {
      auto [scores, narrow_logits] = model.gate_with_logits(window->clip);
      signals.gate_choice = static_cast<int>(scores.argmax(1).item<int64_t>());
      r.mflops += mflops[0] + meta.gate_mflops;
      Plan plan = throttle.begin(signals);
      r.decision = plan.decision;
      r.width_index = plan.index;
      if (plan.index == 0) {
        logits = narrow_logits;
      } else {
        logits = model.forward_at(window->clip, plan.index);
        r.mflops += mflops[plan.index];
      }
      r.passes = plan.index == 0 ? 1 : 2;
    } else {
      Plan plan = throttle.begin(signals);
      r.decision = plan.decision;
      while (true) {
        logits = model.forward_at(window->clip, plan.index);
        r.mflops += mflops[plan.index];
        ++r.passes;
        r.width_index = plan.index;
        probs = model.probabilities(logits, plan.index)[0];
        const auto wider = throttle.after(plan.index, probs.max().item<double>());
        if (!wider) break;
        plan = *wider;
        r.decision = plan.decision;
      }
    }
    if (!probs.defined()) probs = model.probabilities(logits, r.width_index)[0];  // gate policy
    r.label_index = static_cast<int>(probs.argmax().item<int64_t>());
    r.confidence = probs[r.label_index].item<double>();
    r.latency_ms = ms_since(start);
    throttle.finish(r.width_index, r.confidence, r.label_index == idle_index, r.mflops);

    r.index = window->index;
    r.start_frame = window->start_frame;
    r.end_frame = window->end_frame;
    r.start_s = window->start_s;
    r.end_s = window->end_s;
    r.width = widths[r.width_index];
    r.label = meta.labels.at(r.label_index);
    r.quality = window->quality;
    r.battery_pct = battery;
    ++s.windows;
    ++s.windows_per_width[r.width_index];
    width_sum += r.width;
    mflops_sum += r.mflops;
    latencies.push_back(r.latency_ms);
    if (on_window) on_window(r, *window);
  }
  const ReaderEnd& end = reader.end();
  s.wall_s = ms_since(t0) / 1e3;
  s.frames = end.frames;
  s.duration_s = end.source_fps > 0 ? static_cast<double>(end.frames) / end.source_fps : 0;
  s.mean_width = s.windows ? width_sum / static_cast<double>(s.windows) : 0;
  s.gflops = mflops_sum / 1e3;
  s.gflops_full_width = static_cast<double>(s.windows) * mflops.back() / 1e3;
  s.compute_saving = s.gflops_full_width > 0 ? 1 - s.gflops / s.gflops_full_width : 0;
  s.fps = s.wall_s > 0 ? static_cast<double>(s.frames) / s.wall_s : 0;
  s.latency_p50 = percentile(latencies, 0.5);
  s.latency_p95 = percentile(latencies, 0.95);
  s.latency_max = latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end());
  s.error = end.error;
  s.warning = end.warning;
  return s;
}

nlohmann::json window_json(const WindowResult& r) {
  return {{"type", "window"},
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
          {"decision", r.decision},
          {"passes", r.passes},
          {"quality",
           {{"luma", r.quality.luma},
            {"sharpness", r.quality.sharpness},
            {"motion", r.quality.motion}}}};
}

nlohmann::json summary_json(const RunSummary& s, const ModelArtifact& model) {
  nlohmann::json per_width = nlohmann::json::object();
  for (size_t i = 0; i < s.windows_per_width.size(); ++i) {
    std::ostringstream key;
    key << model.metadata().widths[i].width;
    per_width[key.str()] = s.windows_per_width[i];
  }
  nlohmann::json j = {
      {"type", "summary"},
      {"frames", s.frames},
      {"windows", s.windows},
      {"duration_s", s.duration_s},
      {"mean_width", s.mean_width},
      {"gflops", s.gflops},
      {"gflops_full_width", s.gflops_full_width},
      {"compute_saving", s.compute_saving},
      {"fps", s.fps},
      {"wall_s", s.wall_s},
      {"latency_ms", {{"p50", s.latency_p50}, {"p95", s.latency_p95}, {"max", s.latency_max}}},
      {"windows_per_width", per_width}};
  if (!s.error.empty()) j["error"] = s.error;
  if (!s.warning.empty()) j["warning"] = s.warning;
  if (s.truth) {
    const TruthScore& t = *s.truth;
    j["truth"] = {{"segments", t.segments},
                  {"segments_correct", t.segments_correct},
                  {"segment_accuracy", t.segment_accuracy},
                  {"missed", t.missed},
                  {"idle_windows", t.idle_windows},
                  {"false_alarms", t.false_alarms},
                  {"false_alarm_rate", t.false_alarm_rate},
                  {"mean_delay_s", t.mean_delay_s}};
  }
  return j;
}

}  // namespace adaptive
