// Checkpoints: everything needed to continue a run exactly where it stopped.
//
// A checkpoint file holds the model's parameters and buffers, the optimizer's
// state, the trainer's position (epoch, next batch, global step), the best
// metric so far, the torch random generator's state and the resolved config.
// Files are written atomically (common/atomic_file.h), so a crash while
// writing leaves the previous checkpoint intact.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

namespace adaptive {

struct TrainingState {
  int64_t epoch = 0;       // epoch to run next (or the one in progress)
  int64_t next_batch = 0;  // first batch of `epoch` still to run
  int64_t step = 0;        // optimizer steps so far
  double best_metric = -1;
  int64_t best_epoch = -1;
};

struct Checkpoint {
  TrainingState state;
  std::string config_json;                  // the resolved config of the run
  std::map<std::string, at::Tensor> extra;  // e.g. temperatures, costs
  std::vector<std::string> labels;          // class names, index = class id
  double clip_fps = 0;  // frame rate of the frames in a training clip (0: unknown)
};

// What a final checkpoint (checkpoints/final.pt) holds beyond a training
// one, in Checkpoint::extra: per width its softmax temperature, MFLOPs,
// parameters and validation top-1; whether a gate was trained, and its MFLOPs.
struct FinalModelInfo {
  std::vector<double> temperature, mflops, params, val_top1;
  bool gate_enabled = false;
  double gate_mflops = 0;
};
void set_final_info(Checkpoint& checkpoint, const FinalModelInfo& info);
// A final checkpoint's info (a list it lacks stays empty); nothing for a
// training checkpoint.
std::optional<FinalModelInfo> final_info(const Checkpoint& checkpoint);

// Saves model (+ optional gate module), optimizer (may be null) and checkpoint data.
void save_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::optim::Optimizer* optimizer, const Checkpoint& checkpoint,
                     torch::nn::Module* gate = nullptr);

// Loads into `model` (and `optimizer`, `gate` when given). Throws
// std::runtime_error naming the file when it is missing, unreadable, or its
// tensors do not match the model's (name or shape).
Checkpoint load_checkpoint(const std::string& path, torch::nn::Module& model,
                           torch::optim::Optimizer* optimizer, torch::nn::Module* gate = nullptr);

// The checkpoint's data without its tensors of model, gate and optimizer
// (e.g. to read the config a model must be built from). Same errors.
Checkpoint read_checkpoint(const std::string& path);

}  // namespace adaptive
