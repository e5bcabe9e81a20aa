// The last stage of a training run (train/trainer.h, step 3 to 5), from the
// best weights, as functions of explicit inputs: each width's validation
// figures, cost and calibration; the gate; the final checkpoint and the
// exported model.
#pragma once

#include <string>
#include <vector>

#include "models/width_gate.h"
#include "train/checkpoint.h"
#include "train/evaluation.h"
#include "train/run_directory.h"
#include "train/train_config.h"
#include "train/train_report.h"

namespace adaptive {

// Per width of `model` on `val` (its outputs at the best weights): top-1 and
// loss, MFLOPs and parameters of one clip of the configured shape
// (config.data), and the softmax temperature and calibration error
// (config.calibration).
std::vector<WidthReport> final_width_reports(SlimmableNet& model, const SplitOutputs& val,
                                             const TrainConfig& config);

// What checkpoints/final.pt records beside the weights: per width the
// temperature, MFLOPs, parameters and validation top-1; the gate's cost.
FinalModelInfo final_model_info(const std::vector<WidthReport>& widths, const GateReport& gate,
                                bool gate_enabled);

// Writes `run_dir`'s checkpoints/final.pt (`model`, `gate` when not null,
// `checkpoint` with `info`) and exports it as model.pt (train/exporter.h),
// and as model.onnx too when `onnx` (a failure there is reported in the
// returned text, not thrown). Returns the paths written.
std::string write_final_model(const RunDirectory& run_dir, SlimmableNet& model,
                              Checkpoint checkpoint, const FinalModelInfo& info,
                              WidthGateImpl* gate, bool onnx = false);

}  // namespace adaptive
