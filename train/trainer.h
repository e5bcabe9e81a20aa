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
//
// The pieces live beside it: the run directory (train/run_directory.h),
// evaluation and calibration (train/evaluation.h), the gate
// (train/gate_training.h), the optimizer and schedule (train/optimizer.h)
// and the collectives of a distributed run (train/distributed.h).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "train/train_config.h"
#include "train/train_report.h"

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

}  // namespace adaptive
