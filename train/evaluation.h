// Evaluation of a slimmable network: every width over a split, per video;
// accuracy and loss per width; BN recalibration (universal mode); softmax
// temperatures and calibration error per width.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "datasets/data_loader.h"
#include "models/slimmable_net.h"
#include "train/train_report.h"

namespace adaptive {

// A split seen through the frozen network, one row per video that decoded
// (the clips of a video averaged; videos skipped as bad samples have none).
struct SplitOutputs {
  std::vector<at::Tensor> features;    // per width, [N, C] pooled features
  std::vector<at::Tensor> logits;      // per width, [N, classes]
  at::Tensor labels;                   // [N]
  std::vector<std::string> bad_files;  // the videos skipped as bad samples
};

// Runs every width of `model` (eval mode, no grad) over `set`. Throws
// DataError when no video of the split decodes.
SplitOutputs collect_outputs(SlimmableNet& model, const std::shared_ptr<VideoClipDataset>& set,
                             const DataLoaderOptions& loader, c10::Device device);

// Top-5, the confusion matrix, per-class and mean class accuracy of one
// width's logits [N, classes] against labels [N] (fills those fields of `r`).
void score_classes(const at::Tensor& logits, const at::Tensor& labels, WidthReport& r);

// Top-1, loss and score_classes() per width.
std::vector<WidthReport> score_widths(const SplitOutputs& split, const std::vector<double>& widths);

// Universal mode: per-width BN statistics from `batches` shuffled training
// batches, in train mode; the model is left in eval mode. Nothing to do in
// discrete mode.
void recalibrate_bn(SlimmableNet& model, const std::shared_ptr<VideoClipDataset>& train_set,
                    const DataLoaderOptions& loader, int batches, c10::Device device);

// Per width: a softmax temperature fitted on one half of `split` (the even
// rows; 1 when `fit` is off), and the expected calibration error before and
// after it on the other half, which the fit never saw. Fills the reports'
// calibration fields.
void calibrate_confidence(const SplitOutputs& split, bool fit, int bins,
                          std::vector<WidthReport>& widths);

// ECE per width on `split` at the reports' temperatures (before: at 1).
void report_calibration(const SplitOutputs& split, int bins, std::vector<WidthReport>& widths);

struct CheckpointEvaluation {
  std::vector<WidthReport> widths;   // top-1, loss, MFLOPs, params, calibration on the split
  int64_t clips = 0;                 // videos of the split that decoded
  std::string split;                 // the file or folder read
  std::vector<std::string> classes;  // label order (the confusion matrix's)
};

// A checkpoint of adaptive-train evaluated on a labelled split (a manifest or
// folder-per-class, e.g. data/synth/test.csv, or `train`, `val` or `test`:
// that split of the run's dataset, data.layout) the way training validates:
// every width, the clips of a video averaged (`clips` of them; 0: the
// config's data.eval_clips), the checkpoint's temperatures (a final
// checkpoint's; 1 otherwise). Throws std::runtime_error naming the
// checkpoint (unreadable; universal mode whose BN was not recalibrated) or
// DataError naming the split.
CheckpointEvaluation evaluate_checkpoint(const std::string& checkpoint, const std::string& split,
                                         int clips = 0, c10::Device device = c10::kCPU);

// The validation metric that picks checkpoints/best.pt (train.best_metric):
// top1_max (the widest width's top-1), top1_mean or top1_min (the narrowest's).
double best_metric(const std::string& metric, const std::vector<WidthReport>& widths);

// Top-1 per width for a progress line: " 0.50x 61.0% 1.00x 72.3%".
std::string format_top1(const std::vector<WidthReport>& widths);

}  // namespace adaptive
