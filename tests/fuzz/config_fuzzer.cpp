// libFuzzer target: the training config reader (train/train_config.h,
// common/config.h), fed the way adaptive-train feeds it.
//
// Input: config text (JSON with comments), optionally followed by `--set`
// assignments, each after a NUL byte: `{"train":{}}\0train.lr=0.5\0model.widths=[1]`.
// The corpus files taken from configs/ hold no NUL, so they are config text only.
//
// The library reads configs from paths only, so each input is written to a
// per-process file in /dev/shm (or $TMPDIR) and read with load_train_config.
// A ConfigError is the documented outcome for bad input. Anything else is a
// finding: another exception type, a crash, a sanitizer report, or a config
// that loads but then breaks what adaptive-train does next with it (write the
// resolved config, read it back, derive the model/data/loader options).
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "fuzz_support.h"
#include "train/train_config.h"

namespace {

// Everything a successfully loaded config must also survive.
void use_loaded_config(const adaptive::TrainConfig& c) {
  // The resolved config, as the trainer writes it beside every run.
  const nlohmann::json resolved = adaptive::config_to_json(c);
  const std::string text = resolved.dump(2);
  // Round trip (common/config.h): reading the resolved config gives it back.
  const adaptive::TrainConfig again = adaptive::train_config_from_json(resolved);
  if (adaptive::config_to_json(again) != resolved) {
    adaptive_fuzz::finding("resolved config does not round-trip:\n" + text);
  }
  // The options adaptive-train derives next.
  (void)adaptive::model_options(c, 10);
  (void)adaptive::clip_dataset_options(c, {"a", "b", "c"});
  (void)adaptive::loader_options(c, true);
  (void)adaptive::loader_options(c, false);
  (void)adaptive::synth_options(c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const adaptive_fuzz::ScratchFile file("config", ".json");

  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t nul = input.find('\0', start);
    parts.push_back(input.substr(start, nul - start));
    if (nul == std::string::npos) break;
    start = nul + 1;
  }
  file.write(parts[0]);
  const std::vector<std::string> overrides(parts.begin() + 1, parts.end());

  adaptive::TrainConfig config;
  try {
    config = adaptive::load_train_config(file.path(), overrides);
  } catch (const adaptive::ConfigError&) {
    return 0;  // the documented outcome for bad input
  } catch (const std::exception& e) {
    adaptive_fuzz::unexpected_exception("load_train_config", e);
  }
  try {
    use_loaded_config(config);
  } catch (const std::exception& e) {
    adaptive_fuzz::unexpected_exception("a config that loaded", e);
  }
  return 0;
}
