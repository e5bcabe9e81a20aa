// adaptive-bench as a user runs it: figures per width, the live-like idle
// gap recorded, bad options refused.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "test_support.h"

using namespace adaptive;

TEST_CASE("adaptive-bench times every width, back to back or after an idle gap",
          "[infer][bench][cli][slow]") {
  test::TempDir dir;
  const std::string model = test::tiny_trained_run() + "/model.pt";
  for (const double gap : {0.0, 5.0}) {
    INFO("gap " << gap << " ms");
    const std::string out = dir.str("bench.json");
    const auto r = test::run_command(std::string(ADAPTIVE_BENCH) + " --model " + model +
                                     " --runs 3 --warmup 1 --gap-ms " + std::to_string(gap) +
                                     " --json " + out);
    INFO(r.output);
    REQUIRE(r.rc == 0);
    CHECK(r.output.find("ms idle before each") != std::string::npos);
    const auto j = nlohmann::json::parse(test::read_file(out));
    CHECK(j["gap_ms"].get<double>() == Approx(gap));
    REQUIRE(j["widths"].size() == 2);
    for (const auto& w : j["widths"]) CHECK(w["latency_ms"].get<double>() > 0);
    CHECK(j["widths"][1]["latency_ratio"].get<double>() == Approx(1.0));
  }
  const auto bad =
      test::run_command(std::string(ADAPTIVE_BENCH) + " --model " + model + " --gap-ms -1");
  CHECK(bad.rc != 0);
  CHECK(bad.output.find("--gap-ms") != std::string::npos);
}
