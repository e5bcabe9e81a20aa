// The training config: every key of a JSON config file, with its type,
// default, range and help, declared once in visit(). See configs/*.json.
#pragma once

#include <string>
#include <vector>

#include "datasets/data_loader.h"
#include "datasets/dataset_layouts.h"
#include "datasets/synth_gestures.h"
#include "models/slimmable_net.h"
#include "train/sandwich.h"

namespace adaptive {

// The most epochs a run takes: train.epochs, or what train.min_steps raises it to.
inline constexpr int kMaxEpochs = 100000;

constexpr int kConfigSchemaVersion = 1;

// The "data" section. The clip and transform keys are the library's own
// options (datasets/clip_sampler.h, datasets/clip_transform.h), declared by
// them under "data."; the defaults below that mirror a library's are taken
// from it.
struct DataConfig {
  std::string root = "data/synth";  // dataset folder; relative paths below are inside it
  // How root is laid out (datasets/dataset_layouts.h): auto detects it.
  DatasetLayout layout = DatasetLayout::kAuto;
  // Each split's annotation file or folder in root; "" = the layout's
  // published name (csv: train.csv, val.csv, test.csv).
  std::string train, val, test;
  std::string classes;  // class list; "" = the layout's own (csv: classes.txt when present)
  int fold = 1;         // UCF101's split
  // A folder in root of long videos with timelines beside them whose
  // segments are training samples too (datasets/stream_samples.h); "" = none.
  std::string train_streams;
  // Rendered into `root` when no dataset is there yet (the built-in data).
  bool synthesize = true;
  uint64_t synth_seed = SynthOptions{}.seed;
  int synth_train_per_class = SynthOptions{}.train_per_class;
  int synth_val_per_class = SynthOptions{}.val_per_class;
  int synth_test_per_class = SynthOptions{}.test_per_class;
  ClipSamplerOptions clip;  // data.frames, frame_stride, target_fps, short_video, past_frames
  ClipTransformOptions transform;  // data.short_side, crop, brightness, contrast, mean, std, ...
  std::string flip_pairs;          // "a:b,c:d": classes that swap under a horizontal flip
  int workers = DataLoaderOptions{}.workers;
  int prefetch = DataLoaderOptions{}.prefetch;
  int cache_mb = 2048;  // the library's default is off; training caches
  BadSamplePolicy on_bad_sample = DataLoaderOptions{}.on_bad_sample;
  bool allow_outside_root = false;
  int eval_clips = 1;
  double folder_fps = VideoClipDatasetOptions{}.folder_fps;

  void visit(ConfigVisitor& v);
};

// The "train" section: optimisation and the run.
struct OptimConfig {
  int epochs = 20;  // at most kMaxEpochs
  // The fewest optimizer steps a run takes: a small dataset, whose epochs
  // are a few steps each, trains more epochs to reach them (0 = off).
  int64_t min_steps = 0;
  int batch_size = 16;
  int accumulate = 1;
  int dist_timeout_s = 120;
  std::string optimizer = "sgd";
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 5e-4;
  double warmup_epochs = 1;
  double min_lr = 0;
  double label_smoothing = 0.1;
  bool balance_classes = false;  // each epoch draws classes uniformly (DataLoaderOptions)
  double balance_power = 1.0;    // how far towards uniform (DataLoaderOptions)
  double grad_clip = 5.0;
  WidthSampling sampling = WidthSampling::kSandwich;
  int random_widths = 2;
  bool distill = true;
  double distill_temperature = 1.0;
  double narrow_weight = SandwichOptions{}.narrow_weight;
  // Epochs at the start that train the widest width alone (then `sampling`):
  // the shared weights first learn as the plain network would.
  int widest_first_epochs = 0;
  // Another run's checkpoint to start from (train/init_from.h): its
  // weights, not its optimizer, schedule or epoch.
  std::string init_from;
  uint64_t seed = 0;
  int threads = 0;
  int log_every = 10;
  int checkpoint_every = 0;
  int keep_checkpoints = 2;
  std::string best_metric = "top1_max";
  // Also write model.onnx beside model.pt at the end of the run: about a
  // second for gestures-112's 2 GFLOPs model, against minutes of training.
  bool export_onnx = true;
  // Universal mode: training batches that recalibrate BN per width (the key
  // is model.bn_calibration_batches).
  int bn_calibration_batches = 20;
};

struct GateConfig {
  bool enabled = true;
  int epochs = 60;
  double lr = 3e-3;
  int hidden = 64;
  double margin = 0.2;
  double target_compute = 0.4;  // mean compute of the gate's choices, a share of the widest width's
  double holdout = 0.1;  // share of each class's training clips kept from the network for the gate
};

struct CalibrationConfig {
  bool enabled = true;
  int bins = 15;
};

struct TrainConfig {
  int schema_version = kConfigSchemaVersion;
  DataConfig data;
  ModelOptions model;  // the library's options; num_classes comes from the data
  OptimConfig train;
  GateConfig gate;
  CalibrationConfig calibration;

  void visit(ConfigVisitor& v);
};

// Reads a config file with `--set key.path=value` overrides applied in order,
// validated. Throws ConfigError (file, line and column, or JSON path).
TrainConfig load_train_config(const std::string& path,
                              const std::vector<std::string>& overrides = {});
// Same from JSON already parsed (tests, checkpoints).
TrainConfig train_config_from_json(const nlohmann::json& j);

// Options for the library pieces. The model's: config.model with num_classes.
ModelOptions model_options(const TrainConfig& c, int64_t num_classes);
VideoClipDatasetOptions clip_dataset_options(const TrainConfig& c,
                                             const std::vector<std::string>& classes);
DataLoaderOptions loader_options(const TrainConfig& c, bool train);
SynthOptions synth_options(const TrainConfig& c);

}  // namespace adaptive
