#include "infer/width_bench.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <stdexcept>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "common/clock.h"
#include "common/process.h"
#include "infer/compute_threads.h"

namespace adaptive {
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class F>
double seconds(F&& f) {
  const auto t0 = Clock::now();
  f();
  return seconds_since(t0);
}

// fp32 GFLOP/s of a 2048 x 2048 matrix product (median of 10 after 3 warm-up).
double matmul_peak() {
  const int64_t n = 2048;
  const at::Tensor a = torch::randn({n, n}), b = torch::randn({n, n});
  std::vector<double> t;
  for (int i = 0; i < 13; ++i) {
    const double s = seconds([&] { torch::mm(a, b); });
    if (i >= 3) t.push_back(s);
  }
  return 2.0 * n * n * n / median(t) / 1e9;
}

struct Timing {
  double median_ms = 0, p90_ms = 0;
  double cpu_ms = 0;  // mean process CPU per pass, with the idle gap after it
};

// Batch-1 latency of each job, timed in round-robin so that drift of the
// machine affects all alike; each timed pass followed by `gap_ms` idle, whose
// CPU time (threads spinning before they sleep) counts to the pass.
std::vector<Timing> time_round_robin(const std::vector<std::function<void()>>& jobs,
                                     const WidthBenchOptions& o) {
  std::vector<std::vector<double>> ms(jobs.size());
  std::vector<double> cpu_ms(jobs.size(), 0);
  for (int r = -o.warmup; r < o.runs; ++r) {
    for (size_t k = 0; k < jobs.size(); ++k) {
      const PassCost cost = time_pass(jobs[k], o.gap_ms);
      if (r >= 0) ms[k].push_back(cost.ms), cpu_ms[k] += cost.cpu_ms;
    }
  }
  std::vector<Timing> out;
  for (size_t k = 0; k < ms.size(); ++k) {
    std::vector<double>& v = ms[k];
    std::sort(v.begin(), v.end());
    out.push_back({v[v.size() / 2], v[v.size() * 9 / 10], cpu_ms[k] / o.runs});
  }
  return out;
}

}  // namespace

void WidthBenchOptions::validate() const {
  if (runs < 1) throw std::invalid_argument("runs must be >= 1, got " + std::to_string(runs));
  if (warmup < 0) throw std::invalid_argument("warmup must be >= 0, got " + std::to_string(warmup));
  if (!(gap_ms >= 0))
    throw std::invalid_argument("gap_ms must be >= 0, got " + std::to_string(gap_ms));
}

std::pair<int, ModelArtifact> load_plain_model(const ModelArtifact& model,
                                               const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos) throw std::invalid_argument("--plain expects W=FILE, got " + spec);
  const std::string width_text = spec.substr(0, eq), file = spec.substr(eq + 1);
  double w = 0;
  try {
    w = std::stod(width_text);
  } catch (const std::exception&) {
    throw std::invalid_argument("--plain expects W=FILE with W a width, got " + spec);
  }
  const std::optional<int> index = model.metadata().width_index(w);
  if (!index) throw std::invalid_argument("--plain: width " + width_text + " is not in the model");
  ModelArtifact plain = ModelArtifact::load(file);
  if (plain.num_widths() != 1 || !plain.metadata().width_index(w))
    throw std::invalid_argument("--plain: " + file + " is not a single-width file of width " +
                                width_text);
  return {*index, std::move(plain)};
}

WidthBenchReport bench_widths(const ModelArtifact& model, const std::map<int, ModelArtifact>& plain,
                              const WidthBenchOptions& options) {
  options.validate();
  c10::InferenceMode inference;
  WidthBenchReport report;
  report.threads = at::get_num_threads();
  report.options = options;
  // The peak with every thread on the matrix product; the model then with
  // LibTorch's threads alone (OpenBLAS at 1: it would compete with them).
  set_blas_threads(report.threads);
  report.matmul_gflops_per_s = matmul_peak();
  report.blas_threads_pinned = set_blas_threads(1);

  const auto& meta = model.metadata();
  const auto& in = meta.input;
  const at::Tensor clip = torch::randn({1, in.channels, in.frames, in.height, in.width});
  const at::Tensor frame = clip.select(2, in.frames - 1).contiguous();
  // Per width: its pass, the plain file's, and a stream's step and rebuild,
  // each job's index in `jobs` kept to read its timing back.
  std::vector<std::function<void()>> jobs;
  struct Jobs {
    size_t pass = 0, plain = 0, step = 0, rebuild = 0;
  };
  std::vector<Jobs> index(static_cast<size_t>(model.num_widths()));
  std::vector<ModelArtifact::StreamState> states;
  if (meta.streams) {
    for (int i = 0; i < model.num_widths(); ++i) {
      states.push_back(model.init_state(i));
      model.prefill(clip, i, states.back());  // a state as full as a running stream's
    }
  }
  for (int i = 0; i < model.num_widths(); ++i) {
    Jobs& at = index[static_cast<size_t>(i)];
    at.pass = jobs.size();
    jobs.emplace_back([&model, &clip, i] { model.forward_at(clip, i); });
    if (plain.count(i)) {
      at.plain = jobs.size();
      jobs.emplace_back([p = &plain.at(i), &clip] { p->forward_at(clip, 0); });
    }
    if (meta.streams) {
      ModelArtifact::StreamState* state = &states[static_cast<size_t>(i)];
      at.step = jobs.size();
      jobs.emplace_back([&model, &frame, state] { model.step(frame, *state); });
      at.rebuild = jobs.size();
      jobs.emplace_back([&model, &clip, i] {
        ModelArtifact::StreamState rebuilt;
        model.prefill(clip, i, rebuilt);
      });
    }
  }
  const auto timings = time_round_robin(jobs, options);

  for (int i = 0; i < model.num_widths(); ++i) {
    const Jobs& at = index[static_cast<size_t>(i)];
    WidthBenchRow row;
    row.width = meta.widths[i].width;
    row.mflops = meta.widths[i].mflops;
    row.latency_ms = timings[at.pass].median_ms;
    row.latency_p90_ms = timings[at.pass].p90_ms;
    row.cpu_ms = timings[at.pass].cpu_ms;
    if (plain.count(i)) row.plain_latency_ms = timings[at.plain].median_ms;
    row.gflops_per_s = row.mflops / row.latency_ms;  // MFLOP per ms = GFLOP/s
    if (meta.streams) {
      StreamBenchRow stream;
      stream.step_mflops = meta.widths[i].step_mflops;
      stream.step_ms = timings[at.step].median_ms;
      stream.step_p90_ms = timings[at.step].p90_ms;
      stream.step_cpu_ms = timings[at.step].cpu_ms;
      stream.rebuild_ms = timings[at.rebuild].median_ms;
      row.stream = stream;
    }
    report.widths.push_back(row);
  }
  const WidthBenchRow widest = report.widths.back();
  for (auto& row : report.widths) {
    row.latency_ratio = row.latency_ms / widest.latency_ms;
    row.mflops_ratio = row.mflops / widest.mflops;
    if (row.stream) row.stream->step_ratio = row.stream->step_ms / widest.stream->step_ms;
  }
  return report;
}

std::string format_width_bench(const WidthBenchReport& r, const ModelArtifact& model) {
  const auto& in = model.metadata().input;
  std::string out;
  char line[256];
  const auto add = [&](int n) { out.append(line, static_cast<size_t>(std::max(0, n))); };
  add(std::snprintf(line, sizeof line,
                    "%s: input [1, %lld, %lld, %lld, %lld], %d thread(s), %d runs per width after "
                    "%d warm-up, %g ms idle before each\n",
                    model.path().c_str(), static_cast<long long>(in.channels),
                    static_cast<long long>(in.frames), static_cast<long long>(in.height),
                    static_cast<long long>(in.width), r.threads, r.options.runs, r.options.warmup,
                    r.options.gap_ms));
  add(std::snprintf(
      line, sizeof line,
      "fp32 matrix product peak (2048x2048 torch::mm, %d thread(s)): %.1f GFLOP/s%s\n", r.threads,
      r.matmul_gflops_per_s,
      r.blas_threads_pinned ? "" : " (BLAS threads not controlled: not OpenBLAS)"));
  add(std::snprintf(line, sizeof line, "%-6s %8s %9s %8s %8s %8s %7s %8s %9s %9s %8s\n", "width",
                    "MFLOPs", "lat ms", "p90 ms", "cpu ms", "GFLOP/s", "%peak", "lat/1.0",
                    "mflop/1.0", "plain ms", "knob"));
  for (const WidthBenchRow& w : r.widths) {
    char plain_col[32] = "-", knob_col[32] = "-";
    if (w.plain_latency_ms > 0) {
      std::snprintf(plain_col, sizeof plain_col, "%.3f", w.plain_latency_ms);
      std::snprintf(knob_col, sizeof knob_col, "%+.1f%%",
                    100 * (w.latency_ms / w.plain_latency_ms - 1));
    }
    add(std::snprintf(line, sizeof line,
                      "%-6.3g %8.1f %9.3f %8.3f %8.3f %8.1f %6.1f%% %8.3f %9.3f %9s %8s\n", w.width,
                      w.mflops, w.latency_ms, w.latency_p90_ms, w.cpu_ms, w.gflops_per_s,
                      100 * w.gflops_per_s / r.matmul_gflops_per_s, w.latency_ratio, w.mflops_ratio,
                      plain_col, knob_col));
  }
  add(std::snprintf(line, sizeof line,
                    "narrowest width: %.2fx faster than the widest (%.2fx fewer FLOPs)\n",
                    1 / r.widths.front().latency_ratio, 1 / r.widths.front().mflops_ratio));
  if (!r.widths.front().stream) return out;
  add(std::snprintf(line, sizeof line,
                    "streaming: a step takes one new frame, its state carried; a rebuild is a "
                    "window in one batched pass (a width the stream has not kept up)\n"));
  add(std::snprintf(line, sizeof line, "%-6s %8s %9s %8s %8s %8s %9s %10s %12s\n", "width",
                    "MFLOPs", "step ms", "p90 ms", "cpu ms", "step/1.0", "mflop/1.0", "rebuild ms",
                    "rebuild/step"));
  const double widest_step_mflops = r.widths.back().stream->step_mflops;
  for (const WidthBenchRow& w : r.widths) {
    const StreamBenchRow& s = *w.stream;
    add(std::snprintf(line, sizeof line,
                      "%-6.3g %8.1f %9.3f %8.3f %8.3f %8.3f %9.3f %10.3f %12.1f\n", w.width,
                      s.step_mflops, s.step_ms, s.step_p90_ms, s.step_cpu_ms, s.step_ratio,
                      s.step_mflops / widest_step_mflops, s.rebuild_ms, s.rebuild_ms / s.step_ms));
  }
  const StreamBenchRow& narrowest = *r.widths.front().stream;
  add(std::snprintf(line, sizeof line,
                    "narrowest step: %.2fx faster than the widest (%.2fx fewer FLOPs)\n",
                    1 / narrowest.step_ratio, widest_step_mflops / narrowest.step_mflops));
  return out;
}

nlohmann::json width_bench_json(const WidthBenchReport& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const WidthBenchRow& w : r.widths) {
    rows.push_back({{"width", w.width},
                    {"mflops", w.mflops},
                    {"latency_ms", w.latency_ms},
                    {"latency_p90_ms", w.latency_p90_ms},
                    {"cpu_ms", w.cpu_ms},
                    {"gflops_per_s", w.gflops_per_s},
                    {"latency_ratio", w.latency_ratio},
                    {"mflops_ratio", w.mflops_ratio},
                    {"plain_latency_ms", w.plain_latency_ms > 0 ? nlohmann::json(w.plain_latency_ms)
                                                                : nlohmann::json()},
                    {"stream", w.stream ? nlohmann::json{{"step_mflops", w.stream->step_mflops},
                                                         {"step_ms", w.stream->step_ms},
                                                         {"step_p90_ms", w.stream->step_p90_ms},
                                                         {"step_cpu_ms", w.stream->step_cpu_ms},
                                                         {"step_ratio", w.stream->step_ratio},
                                                         {"rebuild_ms", w.stream->rebuild_ms}}
                                        : nlohmann::json()}});
  }
  return {{"threads", r.threads},
          {"gap_ms", r.options.gap_ms},
          {"runs", r.options.runs},
          {"warmup", r.options.warmup},
          {"matmul_gflops_per_s", r.matmul_gflops_per_s},
          {"widths", rows}};
}

}  // namespace adaptive
