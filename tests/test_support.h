// Shared pieces of the test suite: temporary folders and a tiny synthetic
// dataset rendered on demand.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "datasets/synth_gestures.h"

namespace adaptive {
struct TrainConfig;
struct TrainerOptions;
}  // namespace adaptive

namespace adaptive::test {

// A fresh folder under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str(const std::string& child = "") const { return (path_ / child).string(); }

 private:
  std::filesystem::path path_;
};

// Writes `text` to `path`, creating parent folders.
void write_file(const std::filesystem::path& path, const std::string& text);

// Options for a tiny dataset: 2 train, 1 val, 1 test clip per class, 64x48,
// 16 frames, one 6-second stream.
SynthOptions tiny_synth_options(const std::string& out_dir, uint64_t seed = 7);

// The tiny dataset (seed 7), rendered once per test process into a temporary
// folder; returns its root.
const std::string& tiny_synth_dataset();

// A training run small enough for a unit test: the tiny dataset at `root`,
// a tsm_mobile network of widths {0.5, 1.0}, 2 epochs, 4 frames of 32x32.
TrainConfig tiny_train_config(const std::string& root);

// Trainer options for a run into `out` without progress output.
TrainerOptions quiet_trainer(const std::string& out, const std::string& resume = "");

// The tiny config trained once per test process on the tiny dataset; returns
// its run directory (with model.pt and checkpoints/final.pt).
const std::string& tiny_trained_run();

}  // namespace adaptive::test
