// Every config shipped in configs/ loads as adaptive-train loads it, so a
// config that a change of keys or ranges breaks fails here, not in a user's
// first run. The folder is listed at test time: a new config is covered.
#include <filesystem>
#include <string>
#include <vector>

#include "common/config.h"
#include "train/train_config.h"

// Catch2 after LibTorch: both define CHECK, Catch2's must win.
#include <catch2/catch.hpp>

using namespace adaptive;
using nlohmann::json;

namespace {

// configs/ in the source tree this file was compiled from.
std::filesystem::path configs_folder() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "configs";
}

}  // namespace

TEST_CASE("configs: every configs/*.json loads and holds the values it sets", "[config]") {
  const std::filesystem::path folder = configs_folder();
  REQUIRE(std::filesystem::is_directory(folder));
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  REQUIRE_FALSE(files.empty());

  for (const auto& file : files) {
    INFO(file.string());
    TrainConfig config;
    REQUIRE_NOTHROW(config = load_train_config(file.string()));
    // Each value the file sets is the one the resolved config holds (none is
    // read into another key or dropped), and the resolved config reads back.
    const json resolved = config_to_json(config);
    const json resolved_leaves = resolved.flatten();
    const json set = read_json_file(file.string()).flatten();
    for (const auto& [pointer, value] : set.items()) {
      INFO(pointer);
      CHECK(resolved_leaves.value(pointer, json()) == value);
    }
    CHECK(config_to_json(train_config_from_json(resolved)) == resolved);
  }
}
