// Shared pieces of the test suite: temporary folders and a tiny synthetic
// dataset rendered on demand.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "datasets/synth_gestures.h"

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

}  // namespace adaptive::test
