#include "train/training_data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "datasets/errors.h"
#include "datasets/frame_source.h"
#include "datasets/rng.h"
#include "datasets/stream_samples.h"

namespace fs = std::filesystem;

namespace adaptive {
namespace {

// The frame rate of a split's videos: that of the first one that opens (a
// bad one is the loader's to skip or fail on).
double source_fps(const DatasetIndex& index, double folder_fps) {
  for (const SampleEntry& s : index.samples) {
    try {
      return open_frame_source(s.path, folder_fps)->fps();
    } catch (const BadSampleError&) {
    }
  }
  throw DataError(index.source + ": none of its " + std::to_string(index.samples.size()) +
                  " videos can be opened");
}

// Renders the built-in synthetic dataset when the config points at a folder
// that is missing or empty; later runs find it and reuse it.
void prepare_dataset(const TrainConfig& c, const std::function<void(const std::string&)>& message) {
  const fs::path root(c.data.root);
  std::error_code ec;
  if (fs::exists(root, ec) && !fs::is_empty(root, ec)) return;
  if (!c.data.synthesize)
    throw DataError(root.string() +
                    ": dataset folder is missing or empty (data.synthesize is off)");
  message("rendering the synthetic gesture dataset into " + root.string() + " (first run only)");
  const SynthSummary s = generate_synth_gestures(synth_options(c));
  message("  " + std::to_string(s.clips[0] + s.clips[1] + s.clips[2]) + " clips in " +
          std::to_string(static_cast<int>(s.seconds)) + " s");
}

std::string missing_note(const DatasetIndex& index) {
  if (index.missing == 0) return "";
  return ", " + std::to_string(index.missing) + " of them missing on disk (data.on_bad_sample)";
}

}  // namespace

std::pair<DatasetIndex, DatasetIndex> hold_out(const DatasetIndex& index, double share,
                                               uint64_t seed) {
  std::vector<bool> held(index.samples.size(), false);
  const auto counts = index.class_counts();
  for (size_t c = 0; c < counts.size(); ++c) {
    std::vector<size_t> members;
    for (size_t i = 0; i < index.samples.size(); ++i)
      if (index.samples[i].label == static_cast<int>(c)) members.push_back(i);
    const auto n = static_cast<int64_t>(members.size());
    const int64_t k = std::min<int64_t>(std::llround(share * static_cast<double>(n)), n - 1);
    Rng rng(derive_seed(seed, {0x484F4C44ULL, static_cast<uint64_t>(c)}));
    const auto order = shuffled_indices(n, rng);
    for (int64_t j = 0; j < k; ++j) held[members[static_cast<size_t>(order[j])]] = true;
  }
  DatasetIndex kept = index, out = index;
  kept.samples.clear();
  out.samples.clear();
  for (size_t i = 0; i < index.samples.size(); ++i)
    (held[i] ? out : kept).samples.push_back(index.samples[i]);
  out.source = index.source + " (held out for the gate)";
  return {kept, out};
}

DatasetSource dataset_source(const DataConfig& d) {
  DatasetSource s;
  s.layout = d.layout;
  s.root = d.root;
  s.files[static_cast<size_t>(DatasetSplit::kTrain)] = d.train;
  s.files[static_cast<size_t>(DatasetSplit::kVal)] = d.val;
  s.files[static_cast<size_t>(DatasetSplit::kTest)] = d.test;
  s.classes = d.classes;
  s.fold = d.fold;
  s.rules.allow_outside_root = d.allow_outside_root;
  return s;
}

TrainingData open_training_data(const TrainConfig& config,
                                const std::function<void(const std::string&)>& message) {
  prepare_dataset(config, message);
  const DataConfig& d = config.data;
  const DatasetSource source = dataset_source(d);
  DatasetIndex train_index = open_split(source, DatasetSplit::kTrain);
  TrainingData out;
  out.layout = resolve_layout(source);
  out.classes = train_index.classes;
  out.clip_fps = d.clip.target_fps > 0
                     ? d.clip.target_fps
                     : source_fps(train_index, d.folder_fps) / d.clip.frame_stride;
  DatasetIndex val_index = open_split(source, DatasetSplit::kVal, out.classes);
  message("data: " + dataset_layout_names().name(out.layout) + " dataset in " + d.root + ", " +
          std::to_string(out.classes.size()) + " classes; train " + train_index.source + ": " +
          std::to_string(train_index.samples.size()) + " clips" + missing_note(train_index) +
          "; val " + val_index.source + ": " + std::to_string(val_index.samples.size()) + " clips" +
          missing_note(val_index));
  const auto clip_options = clip_dataset_options(config, out.classes);
  if (config.gate.enabled && config.gate.holdout > 0) {
    auto [kept, held] = hold_out(train_index, config.gate.holdout, config.train.seed);
    if (!held.samples.empty()) {
      message("gate: " + std::to_string(held.samples.size()) + " of the " +
              std::to_string(train_index.samples.size()) +
              " training clips are held out to train the gate (gate.holdout " +
              std::to_string(config.gate.holdout).substr(0, 4) +
              "); the network trains on the other " + std::to_string(kept.samples.size()));
      out.gate = std::make_shared<VideoClipDataset>(std::move(held), clip_options);
    }
    train_index = std::move(kept);
  }
  if (!d.train_streams.empty()) {
    const std::string folder = (fs::path(d.root) / d.train_streams).string();
    if (!fs::is_directory(folder)) {
      throw DataError(folder + ": data.train_streams names no folder (the synthetic dataset " +
                      "renders streams/train with adaptive-data synth --train-streams N)");
    }
    const int64_t added = add_stream_samples(train_index, folder, d.clip);
    message("data: " + std::to_string(added) + " training samples from the streams in " + folder +
            " (data.train_streams), one per timeline segment");
  }
  out.train = std::make_shared<VideoClipDataset>(std::move(train_index), clip_options);
  out.val = std::make_shared<VideoClipDataset>(std::move(val_index), clip_options);
  return out;
}

}  // namespace adaptive
