#include "train/training_data.h"

#include <filesystem>
#include <set>

#include <catch2/catch.hpp>

#include "datasets/errors.h"
#include "datasets/timeline.h"
#include "test_support.h"

using namespace adaptive;

namespace {

// `per_class` clips of each of 3 classes, named by class and number.
DatasetIndex index_of(const std::vector<int>& per_class) {
  DatasetIndex index;
  index.classes = {"a", "b", "c"};
  index.source = "train.csv";
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < per_class[c]; ++i) {
      SampleEntry s;
      s.path = index.classes[c] + std::to_string(i);
      s.label = c;
      index.samples.push_back(s);
    }
  return index;
}

}  // namespace

TEST_CASE("the gate's clips are held out of training, per class, by seed", "[train][gate]") {
  const DatasetIndex index = index_of({20, 10, 1});
  const auto [kept, held] = hold_out(index, 0.1, 7);
  // 10% of each class, rounded; a class of one clip keeps it for training.
  CHECK(held.class_counts() == std::vector<int64_t>{2, 1, 0});
  CHECK(kept.class_counts() == std::vector<int64_t>{18, 9, 1});
  // Disjoint, and together every clip once.
  std::set<std::string> paths;
  for (const auto* part : {&kept, &held})
    for (const auto& s : part->samples) CHECK(paths.insert(s.path).second);
  CHECK(paths.size() == index.samples.size());
  // The same seed, the same clips; another seed, others.
  const auto again = hold_out(index, 0.1, 7).second;
  const auto other = hold_out(index, 0.1, 8).second;
  std::vector<std::string> a, b, c;
  for (const auto& s : held.samples) a.push_back(s.path);
  for (const auto& s : again.samples) b.push_back(s.path);
  for (const auto& s : other.samples) c.push_back(s.path);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(hold_out(index, 0, 7).second.samples.empty());
}

TEST_CASE("training streams join the network's training samples, one per segment",
          "[train][streams]") {
  const std::string root = test::tiny_synth_dataset();
  TrainConfig c = test::tiny_train_config(root);
  const auto quiet = [](const std::string&) {};
  const size_t clips = open_training_data(c, quiet).train->size();
  c.data.train_streams = "streams/train";
  const TrainingData data = open_training_data(c, quiet);
  const std::string stream = (std::filesystem::path(root) / "streams/train/stream_000").string();
  const auto timeline = read_timeline(stream + ".json");
  REQUIRE(data.train->size() == clips + timeline.size());
  for (size_t k = 0; k < timeline.size(); ++k) {
    const SampleEntry& s = data.train->index().samples[clips + k];
    CHECK(s.path == stream + ".avi");
    CHECK(data.classes.at(static_cast<size_t>(s.label)) == timeline[k].label);
  }
  if (data.gate) {  // the gate's held-out clips stay clips
    for (const auto& s : data.gate->index().samples) CHECK(s.path != stream + ".avi");
  }

  c.data.train_streams = "streams/none";
  CHECK_THROWS_WITH(open_training_data(c, quiet),
                    (std::filesystem::path(root) / "streams/none").string() +
                        ": data.train_streams names no folder (the synthetic dataset renders "
                        "streams/train with adaptive-data synth --train-streams N)");
}
