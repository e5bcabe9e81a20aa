// The training run behind adaptive-train:
//
//   1. data: the configured dataset (the synthetic one is rendered into
//      data.root first when it is not there yet)
//   2. the slimmable network, trained with the sandwich rule (train/sandwich.h),
//      evaluated at every width each epoch; checkpoints/last.pt after every
//      epoch (and every train.checkpoint_every steps), checkpoints/best.pt by
//      train.best_metric, epoch_NNNN.pt for the last train.keep_checkpoints epochs
//   3. from the best weights: BN recalibration (universal mode), a softmax
//      temperature per width fitted on validation, expected calibration error
//      before and after
//   4. the width gate, trained on frozen features (models/width_gate.h)
//   5. checkpoints/final.pt (weights, gate, temperatures, costs), model.pt
//      (the deployable TorchScript artifact, train/exporter.h) and
//      report.json, plus metrics.jsonl and config.json along the way
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <torch/optim/optimizer.h>

#include "train/train_config.h"

namespace adaptive {

class ProcessGroup;

struct TrainerOptions {
  std::string out_dir;  // the run directory
  std::string
      resume;  // "": new run; "auto": continue from out_dir's last checkpoint; or a checkpoint path
  std::string device = "cpu";  // see models/device.h
  bool progress = true;        // progress on stderr
  int64_t stop_after_steps =
      -1;  // > 0: checkpoint and stop after this many optimizer steps (tests)
  // Data-parallel run (train/distributed.h): each rank trains on its shard
  // of every global batch; gradients and BN statistics are averaged across
  // ranks; the learning rate scales with the number of ranks; rank 0 alone
  // writes logs, checkpoints, the report and the model. Null: a run alone.
  std::shared_ptr<ProcessGroup> group;
  // Checked after every step: when it turns true (e.g. set by a SIGINT or
  // SIGTERM handler), the run writes checkpoints/last.pt and stops
  // (TrainReport::interrupted). In a distributed run any rank's request
  // stops them all at the same step.
  const std::atomic<bool>* stop_requested = nullptr;
};

struct WidthReport {
  double width = 0;
  double top1 = 0, loss = 0;  // validation
  double mflops = 0;
  int64_t params = 0;
  double temperature = 1, ece_before = 0, ece_after = 0;
};

struct GateReport {
  bool trained = false;
  double top1 = 0;         // validation top-1 with the gate choosing the width
  double mean_mflops = 0;  // narrowest pass + gate + chosen width when wider
  double gate_mflops = 0;
  double target_accuracy = 0;  // share of validation clips where the gate picks its target width
  std::vector<double> share;   // share of validation clips sent to each width
};

struct TrainReport {
  std::vector<WidthReport> widths;
  GateReport gate;
  int64_t epochs_run = 0;
  int64_t best_epoch = -1;
  double clips_per_s = 0;  // training throughput over the run
  double data_share = 0;   // share of step time spent waiting for data
  double seconds = 0;
  bool finished = false;        // false when stopped early (stop_after_steps, stop_requested)
  bool interrupted = false;     // stopped by stop_requested; last.pt holds the position
  int64_t skipped_samples = 0;  // bad videos skipped (data.on_bad_sample: skip), each counted once
};

class Trainer {
 public:
  // Prepares the run: dataset, model, optimizer, run directory, resume.
  // Throws ConfigError (bad config), DataError (bad data) or
  // std::runtime_error (I/O, a run directory already used without --resume).
  Trainer(TrainConfig config, TrainerOptions options);
  ~Trainer();

  TrainReport run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The optimizer of a run: SGD (momentum, Nesterov) or AdamW, with weight decay
// on conv and linear weights only (not on BN parameters and biases).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& model,
                                                        const OptimConfig& config);

// The report as an aligned text table.
std::string format_report(const TrainReport& report);

}  // namespace adaptive
