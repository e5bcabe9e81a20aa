// adaptive-train: train a slimmable (and gated) video classifier from a JSON config.
//
//   adaptive-train --config FILE [--set key.path=value ...] [--out DIR]
//                  [--resume auto|PATH] [--threads N] [--device cpu|cuda] [--print-config]
//   adaptive-train export --checkpoint PATH --out model.pt [--widths 0.25,1.0] [--format onnx]
//   adaptive-train evaluate --checkpoint PATH --split data/synth/test.csv
//                           [--json FILE] [--png FILE]
//
// Exit codes: 0 ok, 1 runtime failure (data, I/O, divergence), 2 usage or config error.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <cxxopts.hpp>

#include "common/atomic_file.h"
#include "common/cli.h"
#include "common/process.h"
#include "common/stop_signals.h"
#include "models/device.h"
#include "train/confusion_image.h"
#include "train/distributed.h"
#include "train/evaluation.h"
#include "train/exporter.h"
#include "train/trainer.h"

namespace {

using adaptive::UsageError;

std::string rank_prefix;  // "rank N: " in a distributed run, in error messages

// Every value of a repeatable option, each whole as typed. cxxopts splits
// vector values at commas, which breaks values such as
// --set 'model.widths=[0.5,1.0]'.
std::vector<std::string> raw_values(const cxxopts::ParseResult& args, const std::string& name) {
  std::vector<std::string> values;
  for (const auto& kv : args.arguments())
    if (kv.key() == name) values.push_back(kv.value());
  return values;
}

// adaptive-train export: a checkpoint to the deployable file, TorchScript or ONNX.
int run_export(int argc, char** argv) {
  cxxopts::Options cli("adaptive-train export",
                       "Export a checkpoint to one model file with every width, a width knob and "
                       "adaptive.json metadata: TorchScript (model.pt) or ONNX (model.onnx).");
  cli.add_options()("checkpoint", "checkpoint of a run (checkpoints/final.pt is calibrated)",
                    cxxopts::value<std::string>())("out", "TorchScript file to write",
                                                   cxxopts::value<std::string>())(
      "widths", "widths to export, comma-separated (default: all)",
      cxxopts::value<std::vector<double>>())(
      "format",
      "torchscript or onnx (default: onnx for an --out ending in .onnx, else torchscript)",
      cxxopts::value<std::string>())("h,help", "show this help");
  auto args = cli.parse(argc, argv);
  if (args.count("help")) {
    std::cout << cli.help() << "\n";
    return 0;
  }
  if (!args.count("checkpoint") || !args.count("out"))
    throw UsageError("--checkpoint PATH and --out FILE are required (see --help)");
  adaptive::ExportOptions options;
  options.checkpoint = args["checkpoint"].as<std::string>();
  options.out = args["out"].as<std::string>();
  if (args.count("widths")) options.widths = args["widths"].as<std::vector<double>>();
  try {
    options.format = args.count("format")
                         ? adaptive::export_format_names().parse(args["format"].as<std::string>())
                         : adaptive::export_format_for(options.out);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--format: ") + e.what());
  }
  const adaptive::ExportSummary summary = adaptive::export_checkpoint(options);
  const auto& m = summary.metadata;
  std::cout << options.out << ": " << summary.bytes / 1024 << " KiB, " << m["labels"].size()
            << " classes, input " << m["input"]["frames"] << "x" << m["input"]["height"] << "x"
            << m["input"]["width"] << " at " << m["input"]["fps"].get<double>() << " fps"
            << (m["gate"].is_null() ? "" : ", gated") << "\n";
  for (const auto& c : m["cost"]) {
    std::cout << "  width " << c["width"].get<double>() << ": " << c["mflops"].get<double>()
              << " MFLOPs, " << c["params"] << " parameters\n";
  }
  return 0;
}

// adaptive-train evaluate: a checkpoint's accuracy and calibration per width
// on a labelled split, e.g. the test split that no choice was made on.
int run_evaluate(int argc, char** argv) {
  cxxopts::Options cli("adaptive-train evaluate",
                       "Evaluate a checkpoint at every width on a labelled split.");
  cli.add_options()("checkpoint", "checkpoint of a run (checkpoints/final.pt is calibrated)",
                    cxxopts::value<std::string>())(
      "split",
      "train, val or test (that split of the run's dataset), or a manifest (.csv) or "
      "folder-per-class, e.g. data/synth/test.csv",
      cxxopts::value<std::string>())("json", "also write the figures to this file",
                                     cxxopts::value<std::string>())(
      "png", "also draw the confusion matrices, a panel per width, into this PNG",
      cxxopts::value<std::string>())(
      "clips", "clips per video, averaged (default: the run's data.eval_clips)",
      cxxopts::value<int>()->default_value("0"))("threads", "compute threads (0: all cores)",
                                                 cxxopts::value<int>()->default_value("0"))(
      "h,help", "show this help");
  auto args = cli.parse(argc, argv);
  if (args.count("help")) {
    std::cout << cli.help() << "\n";
    return 0;
  }
  if (args["clips"].as<int>() < 0 || args["clips"].as<int>() > 64)
    throw UsageError("--clips must be 1 to 64, got " + std::to_string(args["clips"].as<int>()));
  if (!args.count("checkpoint") || !args.count("split"))
    throw UsageError("--checkpoint PATH and --split MANIFEST are required (see --help)");
  adaptive::set_compute_threads(args["threads"].as<int>());
  const adaptive::CheckpointEvaluation e =
      adaptive::evaluate_checkpoint(args["checkpoint"].as<std::string>(),
                                    args["split"].as<std::string>(), args["clips"].as<int>());
  std::cout << e.split << ": " << e.clips << " videos\n"
            << adaptive::format_widths(e.widths)
            << adaptive::format_weakest_classes(e.widths.back(), e.classes, 5);
  if (args.count("json")) {
    const nlohmann::json j = {{"checkpoint", args["checkpoint"].as<std::string>()},
                              {"split", e.split},
                              {"clips", e.clips},
                              {"classes", e.classes},
                              {"widths", adaptive::widths_json(e.widths, "")}};
    adaptive::write_file_atomically(args["json"].as<std::string>(), j.dump(2) + "\n");
  }
  if (args.count("png"))
    adaptive::write_confusion_png(args["png"].as<std::string>(), e.classes, e.widths);
  return 0;
}

// adaptive-train [--config ...]: a training run.
int run_train(int argc, char** argv) {
  cxxopts::Options cli("adaptive-train",
                       "Train a slimmable, gated video classifier from a JSON config.");
  cli.add_options()("config", "JSON config file (see configs/)", cxxopts::value<std::string>())(
      "set", "override a config key: key.path=value (repeatable)",
      cxxopts::value<std::vector<std::string>>())(
      "out", "run directory (default: runs/<config name>)", cxxopts::value<std::string>())(
      "resume", "continue a run: 'auto' (the run directory's last checkpoint) or a checkpoint path",
      cxxopts::value<std::string>())(
      "threads", "compute threads (overrides train.threads; 0 = all cores)", cxxopts::value<int>())(
      "device", "cpu or cuda", cxxopts::value<std::string>()->default_value("cpu"))(
      "print-config", "print the resolved config and exit")(
      "list-keys", "list every config key with its type, default and range, and exit")(
      "h,help", "show this help");
  cli.custom_help(
      "[options] | export --checkpoint PATH --out FILE [--widths W,...] | evaluate --checkpoint "
      "PATH --split MANIFEST");
  auto args = cli.parse(argc, argv);
  if (args.count("help")) {
    std::cout << cli.help() << "\n";
    return 0;
  }
  if (args.count("list-keys")) {
    std::cout << adaptive::describe_config<adaptive::TrainConfig>();
    return 0;
  }
  if (!args.count("config"))
    throw UsageError("--config FILE is required (see configs/, or --help)");
  const std::string config_path = args["config"].as<std::string>();
  std::vector<std::string> overrides;
  if (args.count("set")) overrides = raw_values(args, "set");
  if (args.count("threads"))
    overrides.push_back("train.threads=" + std::to_string(args["threads"].as<int>()));
  adaptive::TrainConfig config = adaptive::load_train_config(config_path, overrides);
  if (args.count("print-config")) {
    std::cout << adaptive::config_to_json(config).dump(2) << "\n";
    return 0;
  }
  // Threads first: LibTorch refuses to change them once parallel work has run.
  const int threads = adaptive::set_compute_threads(config.train.threads);
  adaptive::keep_freed_memory();  // no page faults for the same tensors every step

  adaptive::TrainerOptions options;
  options.out_dir = args.count("out")
                        ? args["out"].as<std::string>()
                        : "runs/" + std::filesystem::path(config_path).stem().string();
  if (args.count("resume")) options.resume = args["resume"].as<std::string>();
  options.device = args["device"].as<std::string>();
  // Launched by torchrun (or with its variables): join the process group.
  const auto env = adaptive::distributed_env([](const char* name) { return std::getenv(name); });
  if (env && env->world_size > 1) {
    if (options.device == "cuda") options.device = "cuda:" + std::to_string(env->local_rank);
    rank_prefix = "rank " + std::to_string(env->rank) + ": ";
    options.group = adaptive::make_process_group(*env, adaptive::select_device(options.device),
                                                 std::chrono::seconds(config.train.dist_timeout_s));
  }
  std::cerr << "adaptive-train: " << rank_prefix << config_path << " -> " << options.out_dir << " ("
            << threads << (threads == 1 ? " thread, " : " threads, ") << options.device << ")\n";
  // SIGINT / SIGTERM: the trainer checkpoints and stops after its current step.
  options.stop_requested = &adaptive::install_stop_signals();
  adaptive::Trainer trainer(config, options);
  const adaptive::TrainReport report = trainer.run();
  if (report.interrupted) {
    const int stop_signal = adaptive::stop_signal();
    if (rank_prefix.empty() || env->rank == 0) {
      std::string sets;
      for (const auto& o : overrides) sets += " --set '" + o + "'";
      std::cerr << "adaptive-train: stopped by "
                << (stop_signal ? "signal " + std::to_string(stop_signal) : "another rank's signal")
                << "; checkpoint written. Resume with:\n  adaptive-train --config " << config_path
                << sets << " --out " << options.out_dir << " --resume auto\n";
    }
    return 128 + (stop_signal ? stop_signal : SIGINT);
  }
  if (!rank_prefix.empty() && env->rank != 0) return 0;  // rank 0 reports
  std::cout << adaptive::format_report(report);
  std::cout << "run directory: " << options.out_dir
            << " (model.pt, model.onnx, config.json, metrics.jsonl, report.json, confusion.png, "
               "checkpoints/)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<adaptive::Subcommand> commands = {
      {"train", "train from a JSON config: adaptive-train --config FILE [options]", run_train,
       &rank_prefix},
      {"export", "a checkpoint to one model file with every width (TorchScript or ONNX)",
       run_export},
      {"evaluate", "a checkpoint's accuracy and calibration per width on a labelled split",
       run_evaluate},
  };
  return adaptive::run_subcommands("adaptive-train", argc, argv, commands, "train");
}
