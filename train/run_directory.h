// The run directory of adaptive-train, and the only code that writes into it:
//
//   config.json      the resolved config (written when the run starts)
//   metrics.jsonl    one JSON line per logged step, evaluation and gate epoch
//   checkpoints/     last.pt (after every epoch, and every
//                    train.checkpoint_every steps), epoch_NNNN.pt (the last
//                    train.keep_checkpoints kept), best.pt, final.pt
//   report.json      the final report
//   confusion.png    its validation confusion matrices (train/confusion_image.h)
//   model.pt         the exported artifact (train/exporter.h)
//
// Every file is written atomically (common/atomic_file.h); last.pt and
// best.pt are hard links to an epoch checkpoint, swapped in by rename, and
// the folder is fsynced after each swap. In a distributed run only rank 0 is
// the writer: the other ranks' calls write nothing.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <nlohmann/json.hpp>

#include "train/checkpoint.h"
#include "train/train_report.h"

namespace adaptive {

class RunDirectory {
 public:
  RunDirectory(std::filesystem::path dir, bool writer);

  const std::filesystem::path& path() const { return dir_; }
  std::filesystem::path checkpoint(const std::string& name) const { return ckpt_dir_ / name; }
  bool writer() const { return writer_; }
  // Whether a run was started here before (checkpoints/last.pt exists).
  bool has_run() const;

  // Creates the folders; a fresh run (`step` 0) writes config.json and starts
  // metrics.jsonl anew, a resumed one appends to it. Throws
  // std::runtime_error naming the file that cannot be written.
  void open(const std::string& config_json, int64_t step);
  // Appends a line to metrics.jsonl and flushes it.
  void log(const nlohmann::json& line);

  void save_last(torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                 const Checkpoint& checkpoint);
  // epoch_NNNN.pt for the epoch just finished (checkpoint.state.epoch),
  // linked as last.pt (and best.pt); epoch checkpoints beyond the newest
  // `keep` are removed.
  void save_epoch(torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                  const Checkpoint& checkpoint, bool best, int keep);
  void write_report(const nlohmann::json& report);
  void write_confusion_image(const std::vector<std::string>& classes,
                             const std::vector<WidthReport>& widths);

 private:
  void link_as(const std::filesystem::path& target, const std::string& alias);

  std::filesystem::path dir_, ckpt_dir_;
  bool writer_;
  std::ofstream metrics_;
};

}  // namespace adaptive
