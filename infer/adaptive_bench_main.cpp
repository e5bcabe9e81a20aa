// adaptive-bench: what the width knob of an exported model buys on this
// machine. Per width: MFLOPs, batch-1 latency (median after warm-up, fixed
// threads), achieved GFLOP/s against the machine's measured fp32 matrix
// product peak, and latency and FLOPs relative to the widest width; with
// --plain, the same figures for single-width files ("plain" networks of that
// width's channels) timed in alternation with the adaptive file. --gap-ms
// idles before each timed pass, as the windows of a live source arrive: what
// a pass costs when the machine has been idle since the last one.
//
//   adaptive-bench --model model.pt [--plain 0.25=plain_025.pt ...]
//                  [--threads 1] [--runs 200] [--warmup 30] [--gap-ms 0]
//                  [--json out.json]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include <torch/torch.h>

#include "common/atomic_file.h"
#include "common/cli.h"
#include "common/clock.h"
#include "infer/model_artifact.h"
#include "models/device.h"

namespace {

using adaptive::Clock;
using adaptive::ModelArtifact;
using adaptive::seconds_since;

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
};

// Batch-1 latency of each (file, width index) in `targets`, timed in
// round-robin so that drift of the machine affects all alike; each timed
// pass after `gap_ms` idle.
std::vector<Timing> time_round_robin(
    const std::vector<std::pair<const ModelArtifact*, int>>& targets, const at::Tensor& clip,
    int warmup, int runs, double gap_ms) {
  std::vector<std::vector<double>> ms(targets.size());
  for (int r = -warmup; r < runs; ++r) {
    for (size_t k = 0; k < targets.size(); ++k) {
      const ModelArtifact* model = targets[k].first;
      const int index = targets[k].second;  // (C++17 lambdas cannot capture structured bindings)
      if (r >= 0 && gap_ms > 0)
        std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(gap_ms));
      const double s = seconds([&] { model->forward_at(clip, index); });
      if (r >= 0) ms[k].push_back(1e3 * s);
    }
  }
  std::vector<Timing> out;
  for (auto& v : ms) {
    std::sort(v.begin(), v.end());
    out.push_back({v[v.size() / 2], v[v.size() * 9 / 10]});
  }
  return out;
}

int run(int argc, char** argv) {
  cxxopts::Options cli("adaptive-bench", "Latency and throughput of an exported model per width.");
  cli.add_options()("model", "exported model (.pt)", cxxopts::value<std::string>())(
      "plain", "W=FILE: a single-width file to compare width W with (repeatable)",
      cxxopts::value<std::vector<std::string>>())("threads", "intra-op threads",
                                                  cxxopts::value<int>()->default_value("1"))(
      "runs", "timed runs per width", cxxopts::value<int>()->default_value("200"))(
      "warmup", "untimed runs per width first", cxxopts::value<int>()->default_value("30"))(
      "gap-ms",
      "idle before each timed run, as between the windows of a live source (0: back to back)",
      cxxopts::value<double>()->default_value("0"))("json", "also write the figures to this file",
                                                    cxxopts::value<std::string>())(
      "h,help", "show this help");
  const auto args = cli.parse(argc, argv);
  if (args.count("help") || !args.count("model")) {
    std::cout << cli.help() << "\n";
    return args.count("help") ? 0 : 2;
  }
  const int threads = adaptive::set_compute_threads(args["threads"].as<int>());
  adaptive::keep_freed_memory();  // as adaptive-infer runs
  const double gap_ms = args["gap-ms"].as<double>();
  if (gap_ms < 0) throw std::invalid_argument("--gap-ms must be >= 0");
  c10::InferenceMode inference;

  const ModelArtifact model = ModelArtifact::load(args["model"].as<std::string>());
  const auto& meta = model.metadata();
  std::map<int, ModelArtifact> plain;  // width index -> single-width file
  if (args.count("plain")) {
    for (const auto& spec : args["plain"].as<std::vector<std::string>>()) {
      const auto eq = spec.find('=');
      if (eq == std::string::npos)
        throw std::invalid_argument("--plain expects W=FILE, got " + spec);
      const double w = std::stod(spec.substr(0, eq));
      const std::optional<int> index = meta.width_index(w);
      if (!index)
        throw std::invalid_argument("--plain: width " + spec.substr(0, eq) +
                                    " is not in the model");
      ModelArtifact p = ModelArtifact::load(spec.substr(eq + 1));
      if (p.num_widths() != 1 || !p.metadata().width_index(w))
        throw std::invalid_argument("--plain: " + spec.substr(eq + 1) +
                                    " is not a single-width file of width " + spec.substr(0, eq));
      plain.emplace(*index, std::move(p));
    }
  }

  // The peak with every thread on the matrix product; the model then with
  // LibTorch's threads alone (OpenBLAS at 1: it would compete with them).
  adaptive::set_blas_threads(threads);
  const double peak = matmul_peak();
  const bool blas_pinned = adaptive::set_blas_threads(1);
  const auto& in = meta.input;
  const at::Tensor clip = torch::randn({1, in.channels, in.frames, in.height, in.width});
  std::vector<std::pair<const ModelArtifact*, int>> targets;
  for (int i = 0; i < model.num_widths(); ++i) {
    targets.emplace_back(&model, i);
    if (plain.count(i)) targets.emplace_back(&plain.at(i), 0);
  }
  const auto timings =
      time_round_robin(targets, clip, args["warmup"].as<int>(), args["runs"].as<int>(), gap_ms);

  std::printf(
      "%s: input [1, %lld, %lld, %lld, %lld], %d thread(s), %d runs per width after %d warm-up, "
      "%g ms idle before each\n",
      model.path().c_str(), static_cast<long long>(in.channels), static_cast<long long>(in.frames),
      static_cast<long long>(in.height), static_cast<long long>(in.width), threads,
      args["runs"].as<int>(), args["warmup"].as<int>(), gap_ms);
  std::printf("fp32 matrix product peak (2048x2048 torch::mm, %d thread(s)): %.1f GFLOP/s%s\n",
              threads, peak, blas_pinned ? "" : " (BLAS threads not controlled: not OpenBLAS)");
  std::printf("%-6s %8s %9s %8s %8s %7s %8s %9s %9s %8s\n", "width", "MFLOPs", "lat ms", "p90 ms",
              "GFLOP/s", "%peak", "lat/1.0", "mflop/1.0", "plain ms", "knob");
  nlohmann::json rows = nlohmann::json::array();
  const double full_mflops = meta.widths.back().mflops;
  size_t k = 0;
  std::vector<Timing> adaptive_t(model.num_widths());
  std::vector<double> plain_ms(model.num_widths(), 0);
  for (int i = 0; i < model.num_widths(); ++i) {
    adaptive_t[i] = timings[k++];
    if (plain.count(i)) plain_ms[i] = timings[k++].median_ms;
  }
  const double full_ms = adaptive_t.back().median_ms;
  for (int i = 0; i < model.num_widths(); ++i) {
    const auto& w = meta.widths[i];
    const Timing& t = adaptive_t[i];
    const double gflops = w.mflops / t.median_ms;  // MFLOP per ms = GFLOP/s
    char plain_col[32] = "-", knob_col[32] = "-";
    if (plain_ms[i] > 0) {
      std::snprintf(plain_col, sizeof plain_col, "%.3f", plain_ms[i]);
      std::snprintf(knob_col, sizeof knob_col, "%+.1f%%", 100 * (t.median_ms / plain_ms[i] - 1));
    }
    std::printf("%-6.3g %8.1f %9.3f %8.3f %8.1f %6.1f%% %8.3f %9.3f %9s %8s\n", w.width, w.mflops,
                t.median_ms, t.p90_ms, gflops, 100 * gflops / peak, t.median_ms / full_ms,
                w.mflops / full_mflops, plain_col, knob_col);
    rows.push_back(
        {{"width", w.width},
         {"mflops", w.mflops},
         {"latency_ms", t.median_ms},
         {"latency_p90_ms", t.p90_ms},
         {"gflops_per_s", gflops},
         {"latency_ratio", t.median_ms / full_ms},
         {"mflops_ratio", w.mflops / full_mflops},
         {"plain_latency_ms", plain_ms[i] > 0 ? nlohmann::json(plain_ms[i]) : nlohmann::json()}});
  }
  std::printf("narrowest width: %.2fx faster than the widest (%.2fx fewer FLOPs)\n",
              full_ms / adaptive_t.front().median_ms, full_mflops / meta.widths.front().mflops);
  if (args.count("json")) {
    adaptive::write_file_atomically(args["json"].as<std::string>(),
                                    nlohmann::json{{"threads", threads},
                                                   {"gap_ms", gap_ms},
                                                   {"matmul_gflops_per_s", peak},
                                                   {"widths", rows}}
                                            .dump(2) +
                                        "\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return adaptive::run_tool("adaptive-bench", [&] { return run(argc, argv); });
}
