// What a training run reports: per width (validation accuracy, cost,
// calibration), the gate, and the run's throughput. Printed by
// adaptive-train and written as report.json in the run directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace adaptive {

struct WidthReport {
  double width = 0;
  double top1 = 0, loss = 0;  // on the split evaluated (training: validation)
  double top5 = 0;            // the label among the 5 highest scores (every class when fewer)
  // Top-1 of each class (NaN, written null, for a class the split lacks) and
  // their mean over the classes present.
  std::vector<double> class_accuracy;
  double mean_class_accuracy = 0;
  std::vector<std::vector<int64_t>> confusion;  // [label][prediction] counts
  double mflops = 0;
  int64_t params = 0;
  // Softmax temperature; expected calibration error at 1 and at it, on data
  // the temperature was not fitted on (train/evaluation.h).
  double temperature = 1, ece_before = 0, ece_after = 0;
};

// One head of the gate on val (models/width_gate.h): its choices from a pass
// at `width`, each costing what its use costs (head 0: the probe of a clip
// seen alone; head w >= 1: a stream window's one pass).
struct GateHeadReport {
  double width = 0;
  double top1 = 0;             // validation top-1 at the widths it chose
  double compute = 0;          // mean cost of its choices, a share of the widest width's
  double target_accuracy = 0;  // share of validation clips where it picks the target width
  double cost_bias = 0;        // fitted on val to gate.target_compute
  std::vector<double> share;   // share of validation clips sent to each width
};

struct GateReport {
  bool trained = false;
  double gate_mflops = 0;             // the largest head's
  double target_compute = 0;          // gate.target_compute
  std::vector<GateHeadReport> heads;  // per width; head 0 is the probe of a clip seen alone
  int64_t held_out_clips = 0;         // training clips the network did not see, the targets' source
                                      // (0: the targets came from the training clips)
};

// Where a run's wall time went, in this process (a resumed run counts from
// its resumption).
struct RunTimes {
  double setup_s = 0;       // data, model and optimizer, before the first step
  double preload_s = 0;     // decoding the videos into the cache, before the first step
  double steps_s = 0;       // the training steps, data waits included
  double epoch_ends_s = 0;  // validation and checkpoints after each epoch
  double final_s = 0;       // final evaluation, calibration, gate, final checkpoint and export
};

// What a run trained and validated on.
struct DataReport {
  std::string layout;  // datasets/dataset_layouts.h
  std::vector<std::string> classes;
  int64_t train_clips = 0;  // the network's (without the gate's)
  int64_t gate_clips = 0;   // held out of training for the gate (gate.holdout)
  int64_t val_clips = 0;
};

// Where the weights started (train.init_from).
struct InitReport {
  std::string checkpoint;
  bool classifier_reset = false;  // the classes differed
  bool channels_sorted = false;   // a plain network's channels, sorted for the narrower widths
};

struct TrainReport {
  DataReport data;
  std::optional<InitReport> init_from;
  std::vector<WidthReport> widths;
  GateReport gate;
  int64_t epochs_run = 0;
  int64_t steps = 0;  // optimizer steps (train.min_steps may have raised the epochs)
  int64_t best_epoch = -1;
  double clips_per_s = 0;  // training throughput over the run
  double data_share = 0;   // share of step time spent waiting for data
  // The training thread's CPU time over the wall time of its model steps: below
  // 1 when the compute threads sleep between ops (common/threads.h).
  double compute_busy = 0;
  double seconds = 0;  // the whole run; `times` splits all but its bookkeeping
  RunTimes times;
  bool finished = false;        // false when stopped early (stop_after_steps, stop_requested)
  bool interrupted = false;     // stopped by stop_requested; last.pt holds the position
  int64_t skipped_samples = 0;  // bad videos skipped (data.on_bad_sample: skip), each counted once
};

// The report as an aligned text table.
std::string format_report(const TrainReport& report);
// Its per-width part: width, top-1, MFLOPs, params, temperature, ECE
// before and after calibration.
std::string format_widths(const std::vector<WidthReport>& widths);

// The `count` classes of lowest top-1 at one width, with what they were
// taken for most: "weakest classes at 1x: b 40% (6/15; taken for c 5), ...".
std::string format_weakest_classes(const WidthReport& width,
                                   const std::vector<std::string>& classes, size_t count);

// report.json of a finished run.
nlohmann::json report_json(const TrainReport& report);
// Its "widths" array; the accuracy and loss keys carry the split's name
// ("val_top1", "val_loss"; "top1", "loss" when `split` is empty).
nlohmann::json widths_json(const std::vector<WidthReport>& widths, const std::string& split);

}  // namespace adaptive
