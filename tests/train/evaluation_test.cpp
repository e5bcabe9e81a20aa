#include "train/evaluation.h"

#include <nlohmann/json.hpp>
#include <catch2/catch.hpp>

#include "test_support.h"

using namespace adaptive;
using json = nlohmann::json;

TEST_CASE("adaptive-train evaluate scores a checkpoint on a split as training validated it",
          "[train][evaluate][cli]") {
  const std::string run = test::tiny_trained_run();
  const std::string data = test::tiny_synth_dataset();
  test::TempDir dir;
  // On the validation split it gives back the run's own figures.
  const auto val = test::run_command(std::string(ADAPTIVE_TRAIN) + " evaluate --checkpoint " + run +
                                     "/checkpoints/final.pt --split " + data +
                                     "/val.csv --json " + dir.str("val.json"));
  INFO(val.output);
  REQUIRE(val.rc == 0);
  const json report = json::parse(test::read_file(run + "/report.json"));
  const json evaluated = json::parse(test::read_file(dir.str("val.json")));
  REQUIRE(evaluated["widths"].size() == report["widths"].size());
  CHECK(evaluated["clips"] == 10);  // one validation clip per class
  for (size_t i = 0; i < report["widths"].size(); ++i) {
    const json& r = report["widths"][i];
    const json& e = evaluated["widths"][i];
    CHECK(e["width"] == r["width"]);
    CHECK(e["top1"].get<double>() == r["val_top1"].get<double>());
    CHECK(e["loss"].get<double>() == Approx(r["val_loss"].get<double>()).epsilon(1e-6));
    CHECK(e["temperature"].get<double>() == r["temperature"].get<double>());
    CHECK(e["mflops"].get<double>() == r["mflops"].get<double>());
  }
  CHECK_THAT(val.output, Catch::Contains("val.csv: 10 videos"));

  // The test split, which nothing was chosen on.
  const CheckpointEvaluation test_split =
      evaluate_checkpoint(run + "/checkpoints/final.pt", data + "/test.csv");
  CHECK(test_split.clips == 10);
  for (const WidthReport& w : test_split.widths) {
    CHECK(w.top1 >= 0);
    CHECK(w.top1 <= 1);
    CHECK(w.ece_before >= 0);
  }

  // A missing split is named.
  const auto missing = test::run_command(std::string(ADAPTIVE_TRAIN) + " evaluate --checkpoint " +
                                         run + "/checkpoints/final.pt --split " +
                                         dir.str("nope.csv"));
  CHECK(missing.rc == 1);
  CHECK_THAT(missing.output, Catch::Contains(dir.str("nope.csv")));
}
