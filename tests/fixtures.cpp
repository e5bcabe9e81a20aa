// The suite's fixture case: CTest runs it once before the cases that read
// the fixtures (tests/CMakeLists.txt), with kFixturesVariable naming the
// folder it fills. Hidden: a plain run of the binary does not run it.
#include <filesystem>

#include <catch2/catch.hpp>

#include "test_support.h"

namespace fs = std::filesystem;
using namespace adaptive;

TEST_CASE("fixtures: the tiny dataset and the tiny trained run", "[.fixtures]") {
  const char* dir = std::getenv(test::kFixturesVariable);
  REQUIRE(dir != nullptr);
  REQUIRE(std::string(dir) != "");
  // Made anew on every suite run: what an older build made is not reused.
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path root(dir);
  test::make_tiny_synth_dataset((root / "synth").string());
  test::make_tiny_trained_run((root / "synth").string(), (root / "run").string());
  test::make_tiny_trained_run((root / "synth").string(), (root / "causal-run").string(),
                              /*causal=*/true);
  CHECK(fs::exists(root / "synth" / "synth.json"));
  CHECK(fs::exists(root / "run" / "model.pt"));
  CHECK(fs::exists(root / "run" / "checkpoints" / "final.pt"));
  CHECK(fs::exists(root / "causal-run" / "model.pt"));
}
