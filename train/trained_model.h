// A network as a run left it in a checkpoint, rebuilt from the checkpoint's
// own config: what export and evaluate start from.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "models/width_gate.h"
#include "train/checkpoint.h"
#include "train/train_config.h"

namespace adaptive {

struct TrainedModel {
  Checkpoint checkpoint;  // its data: config, labels, clip rate, position
  TrainConfig config;
  std::optional<FinalModelInfo> final_model;  // a final checkpoint's extras
  std::shared_ptr<SlimmableNet> model;        // weights loaded, eval mode, on the CPU
  WidthGate gate{nullptr};  // loaded when a gate was trained and asked for, else null
};

// Loads `path`. `use` ("export", "evaluate") completes the advice in errors.
// Throws std::runtime_error naming the file: unreadable, no class labels (an
// older adaptive-train), or a universal-width checkpoint whose batch-norm
// statistics were not recalibrated per width (only final.pt has them).
// `with_gate` false leaves the gate unread (evaluation needs only the widths).
TrainedModel load_trained_model(const std::string& path, const std::string& use,
                                bool with_gate = true);

}  // namespace adaptive
