// adaptive-bench: what the width knob of an exported model buys on this
// machine (infer/width_bench.h). Per width: MFLOPs, batch-1 latency (median
// after warm-up, fixed threads), achieved GFLOP/s against the machine's
// measured fp32 matrix product peak, and latency and FLOPs relative to the
// widest width; with --plain, the same figures for single-width files timed
// in alternation with the adaptive file; for a model that streams, a step's
// and a rebuild's time per width. --gap-ms idles before each timed pass, as
// the windows of a live source arrive.
//
//   adaptive-bench --model model.pt [--plain 0.25=plain_025.pt ...]
//                  [--threads 1] [--runs 200] [--warmup 30] [--gap-ms 0]
//                  [--json out.json]
#include <iostream>

#include <cxxopts.hpp>

#include "common/atomic_file.h"
#include "common/cli.h"
#include "common/process.h"
#include "infer/width_bench.h"

namespace {

using namespace adaptive;

int run(int argc, char** argv) {
  const WidthBenchOptions d;  // the library's defaults
  cxxopts::Options cli("adaptive-bench", "Latency and throughput of an exported model per width.");
  cli.add_options()("model", "exported model (.pt)", cxxopts::value<std::string>())(
      "plain", "W=FILE: a single-width file to compare width W with (repeatable)",
      cxxopts::value<std::vector<std::string>>())("threads", "intra-op threads",
                                                  cxxopts::value<int>()->default_value("1"))(
      "runs", "timed runs per width", cxxopts::value<int>()->default_value(std::to_string(d.runs)))(
      "warmup", "untimed runs per width first",
      cxxopts::value<int>()->default_value(std::to_string(d.warmup)))(
      "gap-ms",
      "idle after each run, so each timed run follows an idle gap, as the windows of a live source "
      "do (0: back to back)",
      cxxopts::value<double>()->default_value("0"))("json", "also write the figures to this file",
                                                    cxxopts::value<std::string>())(
      "h,help", "show this help");
  const auto args = cli.parse(argc, argv);
  if (args.count("help") || !args.count("model")) {
    std::cout << cli.help() << "\n";
    return args.count("help") ? 0 : 2;
  }
  WidthBenchOptions options;
  options.runs = args["runs"].as<int>();
  options.warmup = args["warmup"].as<int>();
  options.gap_ms = args["gap-ms"].as<double>();
  options.validate();
  set_compute_threads(args["threads"].as<int>());
  keep_freed_memory();           // as adaptive-infer runs
  disable_graph_optimisation();  // as adaptive-infer runs

  const ModelArtifact model = ModelArtifact::load(args["model"].as<std::string>());
  std::map<int, ModelArtifact> plain;  // width index -> single-width file
  if (args.count("plain")) {
    for (const auto& spec : args["plain"].as<std::vector<std::string>>())
      plain.insert(load_plain_model(model, spec));
  }
  const WidthBenchReport report = bench_widths(model, plain, options);
  std::cout << format_width_bench(report, model) << std::flush;
  if (args.count("json"))
    write_file_atomically(args["json"].as<std::string>(), width_bench_json(report).dump(2) + "\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return adaptive::run_tool("adaptive-bench", [&] { return run(argc, argv); });
}
