#include "test_support.h"

#include <atomic>
#include <random>
#include <stdexcept>

#include <unistd.h>

namespace fs = std::filesystem;

namespace adaptive::test {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() /
          ("adaptive-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_file(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

SynthOptions tiny_synth_options(const std::string& out_dir, uint64_t seed) {
  SynthOptions o;
  o.out_dir = out_dir;
  o.seed = seed;
  o.train_per_class = 2;
  o.val_per_class = 1;
  o.test_per_class = 1;
  o.width = 64;
  o.height = 48;
  o.frames = 16;
  o.streams = 1;
  o.stream_seconds = 6;
  o.threads = 2;
  return o;
}

const std::string& tiny_synth_dataset() {
  static TempDir dir;
  static const std::string root = [] {
    generate_synth_gestures(tiny_synth_options(dir.str("synth")));
    return dir.str("synth");
  }();
  return root;
}

}  // namespace adaptive::test
