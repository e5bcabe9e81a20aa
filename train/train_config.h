// The training config: every key of a JSON config file, with its type,
// default, range and help, declared once in visit(). See configs/*.json.
#pragma once

#include <string>
#include <vector>

#include "datasets/data_loader.h"
#include "datasets/synth_gestures.h"
#include "models/slimmable_net.h"
#include "train/config_schema.h"

namespace adaptive {

constexpr int kConfigSchemaVersion = 1;

struct DataConfig {
  std::string root = "data/synth";  // dataset folder; relative paths below are inside it
  std::string train = "train.csv";  // manifest (.csv) or folder-per-class
  std::string val = "val.csv";
  std::string classes = "classes.txt";  // class list; "" = from the training data
  // Rendered into `root` when no dataset is there yet (the built-in data).
  bool synthesize = true;
  uint64_t synth_seed = 1;
  int synth_train_per_class = 120, synth_val_per_class = 30, synth_test_per_class = 30;
  int frames = 8;
  double frame_stride = 2;
  double target_fps = 0;
  std::string short_video = "loop";
  int short_side = 72;
  int crop = 64;
  double brightness = 0.2, contrast = 0.2;
  bool horizontal_flip = false;
  std::string flip_pairs = "swipe_left:swipe_right,rotate_cw:rotate_ccw";
  std::vector<double> mean = {0.485, 0.456, 0.406};
  std::vector<double> std = {0.229, 0.224, 0.225};
  int workers = 2;
  int prefetch = 4;
  int cache_mb = 2048;
  std::string on_bad_sample = "skip";
  bool allow_outside_root = false;
  int eval_clips = 1;
  double folder_fps = 12;
};

struct ModelConfig {
  std::string name = "r2plus1d";
  std::vector<double> widths = {0.25, 0.5, 0.75, 1.0};
  std::string width_mode = "discrete";
  int channel_multiple = 8;
  int base_channels = 16;
  std::vector<int> blocks = {1, 1, 1, 1};
  int temporal_kernel = 3;
  bool factorized = true;
  double shift_fraction = 0.25;
  double dropout = 0.2;
  bool motion_input = true;
  int bn_calibration_batches = 20;
};

struct OptimConfig {
  int epochs = 20;
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
  double grad_clip = 5.0;
  std::string sampling = "sandwich";
  int random_widths = 2;
  bool distill = true;
  double distill_temperature = 1.0;
  uint64_t seed = 0;
  int threads = 0;
  int log_every = 10;
  int checkpoint_every = 0;
  int keep_checkpoints = 2;
  std::string best_metric = "top1_max";
};

struct GateConfig {
  bool enabled = true;
  int epochs = 60;
  double lr = 3e-3;
  int hidden = 64;
  double margin = 0.2;
  double cost_weight = 0.3;
};

struct CalibrationConfig {
  bool enabled = true;
  int bins = 15;
};

struct TrainConfig {
  int schema_version = kConfigSchemaVersion;
  DataConfig data;
  ModelConfig model;
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

// Derived options for the library pieces.
ModelOptions model_options(const TrainConfig& c, int64_t num_classes);
VideoClipDatasetOptions clip_dataset_options(const TrainConfig& c,
                                             const std::vector<std::string>& classes);
DataLoaderOptions loader_options(const TrainConfig& c, bool train);
SynthOptions synth_options(const TrainConfig& c);

}  // namespace adaptive
