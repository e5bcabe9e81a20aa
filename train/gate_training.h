// Training the width gate (models/width_gate.h) on the frozen network's
// outputs: targets per clip, the cost of each choice, Adam over cached
// features; then its validation accuracy, compute and choices.
#pragma once

#include <cstdint>
#include <functional>

#include <nlohmann/json.hpp>

#include "models/width_gate.h"
#include "train/evaluation.h"
#include "train/train_config.h"
#include "train/train_report.h"

namespace adaptive {

// Trains every head of `gate` on `train` (cross-entropy to gate_targets from
// its width's pass), then fits each head's cost bias on `val` so that its
// choices there cost `config.target_compute` of the widest width (or as
// close below as the choices allow), and reports on `val`. `widths` holds
// each width's MFLOPs and temperature. What a choice costs: for head 0 (the
// probe of a clip seen alone) the narrowest pass always runs and a wider
// choice runs again at its width; for head w >= 1 (which reads a stream's
// previous window) the chosen width's one pass. `log` receives a loss line
// per head five times over its training.
GateReport train_gate(WidthGate& gate, const SplitOutputs& train, const SplitOutputs& val,
                      const std::vector<WidthReport>& widths, const GateConfig& config,
                      uint64_t seed, const std::function<void(const nlohmann::json&)>& log);

}  // namespace adaptive
