// The data of a training run: the configured dataset (the built-in synthetic
// one is rendered into data.root first when it is not there yet), its class
// list, the rate of the frames in a clip, and the training and validation
// splits as clip datasets.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "datasets/video_clip_dataset.h"
#include "train/train_config.h"

namespace adaptive {

struct TrainingData {
  DatasetLayout layout = DatasetLayout::kAuto;  // as resolved (never kAuto)
  std::vector<std::string> classes;             // label order
  double clip_fps = 0;  // frame rate of the frames in a clip (recorded for export)
  std::shared_ptr<VideoClipDataset> train, val;
  // Training clips held out of `train` for the gate (gate.holdout), or null.
  std::shared_ptr<VideoClipDataset> gate;
};

// Splits `index` into the clips a network trains on and, per class,
// round(share x that class's clips) held out (at least one clip is left to
// train on), chosen by `seed`. Order within each part is kept.
std::pair<DatasetIndex, DatasetIndex> hold_out(const DatasetIndex& index, double share,
                                               uint64_t seed);

// The dataset `d` names, as datasets/dataset_layouts.h reads it.
DatasetSource dataset_source(const DataConfig& d);

// Opens (or first renders) the dataset `config.data` names, holding
// gate.holdout of the training clips out for the gate when it is on. `message`
// receives progress lines (rendering). Throws DataError (missing or unusable
// data) or ConfigError (a bad flip pair).
TrainingData open_training_data(const TrainConfig& config,
                                const std::function<void(const std::string&)>& message);

}  // namespace adaptive
