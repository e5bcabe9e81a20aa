// libFuzzer target: the CSV manifest reader (datasets/dataset_index.h).
//
// Input: manifest text. read_manifest takes a path only, so each input is
// written to a per-process file in /dev/shm (or $TMPDIR); a text entry point
// would spare that. It is read three times: labels taken from the manifest,
// labels fixed by a class list, and paths outside the root allowed. A
// DataError is the documented outcome for bad input. Anything else is a
// finding: another exception type, a crash, a sanitizer report, or an index
// that breaks its promises (labels inside the class list, no empty path,
// start_frame <= end_frame, no path outside the manifest's folder unless
// allowed).
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "datasets/dataset_index.h"
#include "datasets/errors.h"
#include "fuzz_support.h"

namespace {

void check_index(const adaptive::DatasetIndex& index, const std::string& root,
                 const adaptive::ManifestRules& rules) {
  if (index.samples.empty()) adaptive_fuzz::finding("manifest read with no sample");
  for (const auto& s : index.samples) {
    if (!rules.allow_outside_root && s.path.rfind(root, 0) != 0)
      adaptive_fuzz::finding("path outside the manifest's folder accepted: " + s.path);
    if (s.label < 0 || s.label >= static_cast<int>(index.classes.size()))
      adaptive_fuzz::finding("label " + std::to_string(s.label) + " outside the class list");
    if (s.path.empty()) adaptive_fuzz::finding("empty sample path");
    if (s.start_frame < 0 || (s.end_frame >= 0 && s.start_frame > s.end_frame))
      adaptive_fuzz::finding("frame range " + std::to_string(s.start_frame) + ".." +
                             std::to_string(s.end_frame) + " accepted");
  }
  (void)index.class_counts();
}

void read(const std::string& path, const std::optional<std::vector<std::string>>& classes,
          const adaptive::ManifestRules& rules = {}) {
  adaptive::DatasetIndex index;
  try {
    index = adaptive::open_dataset_index(path, classes, rules);
  } catch (const adaptive::DataError&) {
    return;  // the documented outcome for bad input
  } catch (const std::exception& e) {
    adaptive_fuzz::unexpected_exception("read_manifest", e);
  }
  try {
    check_index(index, path.substr(0, path.rfind('/') + 1), rules);
  } catch (const std::exception& e) {
    adaptive_fuzz::unexpected_exception("a manifest that loaded", e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const adaptive_fuzz::ScratchFile file("manifest", ".csv");
  static const std::vector<std::string> classes = {"swipe_left", "swipe_right", "push", "a", "b"};
  file.write(std::string(reinterpret_cast<const char*>(data), size));
  read(file.path(), std::nullopt);
  read(file.path(), classes);
  adaptive::ManifestRules outside_allowed;
  outside_allowed.allow_outside_root = true;
  read(file.path(), std::nullopt, outside_allowed);
  return 0;
}
