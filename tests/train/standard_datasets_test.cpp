// A run trains and evaluates on each standard dataset as downloaded
// (datasets/dataset_layouts.h), from fixtures written in the published layout.
#include <numeric>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "train/evaluation.h"
#include "train/train_config.h"
#include "train/trainer.h"

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace adaptive;
using json = nlohmann::json;

namespace {

int64_t total(const std::vector<std::vector<int64_t>>& confusion) {
  int64_t n = 0;
  for (const auto& row : confusion) n += std::accumulate(row.begin(), row.end(), int64_t{0});
  return n;
}

}  // namespace

TEST_CASE("a run trains on each standard dataset as downloaded and evaluates its splits",
          "[train][layouts]") {
  for (const std::string layout : {"jester", "ssv2", "ucf101", "kinetics"}) {
    DYNAMIC_SECTION(layout) {
      test::TempDir dir;
      const auto classes = test::write_standard_dataset(layout, dir.path() / "data");
      TrainConfig c = test::tiny_train_config(dir.str("data"));  // data.layout: auto
      c.train.epochs = 1;
      c.train.threads = 1;
      c.train.export_onnx = false;
      c.gate.enabled = false;
      const TrainReport r = Trainer(c, test::quiet_trainer(dir.str("run"))).run();
      CHECK(r.data.layout == layout);
      CHECK(r.data.classes == classes);
      CHECK(r.data.train_clips == 6);
      CHECK(r.data.val_clips == 3);
      CHECK(r.skipped_samples == 0);
      const json report = json::parse(test::read_file(dir.str("run/report.json")));
      CHECK(report["data"]["layout"] == layout);
      CHECK(report["data"]["classes"] == classes);
      for (const json& w : report["widths"]) {
        REQUIRE(w["val_confusion"].size() == 3);
        CHECK(total(w["val_confusion"].get<std::vector<std::vector<int64_t>>>()) == 3);
        CHECK(w["val_top5"] == 1.0);  // 3 classes: every one is in the top 5
      }
      // Jester and SSv2 label no test split: their val is what there is.
      const bool labelled_test = layout == "ucf101" || layout == "kinetics";
      const CheckpointEvaluation e =
          evaluate_checkpoint(dir.str("run/checkpoints/final.pt"), labelled_test ? "test" : "val");
      CHECK(e.clips == 3);
      CHECK(e.classes == classes);
      CHECK_THAT(e.split, Catch::Contains(labelled_test ? "test" : "val"));
      for (const WidthReport& w : e.widths) CHECK(total(w.confusion) == 3);
    }
  }
}

TEST_CASE("adaptive-train says where its data came from and what the gate held out",
          "[train][layouts][cli]") {
  test::TempDir dir;
  test::write_standard_dataset("ucf101", dir.path() / "ucf");
  const std::string config = test::write_tiny_config(dir, "ucf", [&](TrainConfig& c) {
    c.data.root = dir.str("ucf");
    c.gate.enabled = true;
    c.gate.holdout = 0.5;
    c.train.batch_size = 3;
    c.train.export_onnx = false;
  });
  const auto run = test::run_command(std::string(ADAPTIVE_TRAIN) + " --config " + config +
                                     " --out " + dir.str("run"));
  INFO(run.output);
  REQUIRE(run.rc == 0);
  CHECK_THAT(run.output, Catch::Contains("data: ucf101 dataset in " + dir.str("ucf")) &&
                             Catch::Contains("trainlist01.txt: 6 clips") &&
                             Catch::Contains("3 of the 6 training clips are held out to train "
                                             "the gate (gate.holdout 0.50)"));
  const json report = json::parse(test::read_file(dir.str("run/report.json")));
  CHECK(report["data"]["train_clips"] == 3);
  CHECK(report["data"]["gate_clips"] == 3);
  // Its validation confusion matrices, drawn.
  const cv::Mat drawn = cv::imread(dir.str("run/confusion.png"));
  CHECK(!drawn.empty());

  // evaluate names the test split and its weakest classes.
  const auto evaluated =
      test::run_command(std::string(ADAPTIVE_TRAIN) + " evaluate --checkpoint " +
                        dir.str("run/checkpoints/final.pt") + " --split test --json " +
                        dir.str("test.json") + " --png " + dir.str("test.png"));
  INFO(evaluated.output);
  REQUIRE(evaluated.rc == 0);
  CHECK_THAT(evaluated.output, Catch::Contains("testlist01.txt: 3 videos") &&
                                   Catch::Contains("top-5") &&
                                   Catch::Contains("weakest classes at 1x:"));
  const json e = json::parse(test::read_file(dir.str("test.json")));
  CHECK(e["classes"] == std::vector<std::string>{"ApplyEyeMakeup", "HandstandPushups", "YoYo"});
  CHECK(e["widths"][0]["confusion"].size() == 3);
  const cv::Mat test_png = cv::imread(dir.str("test.png"));
  CHECK(!test_png.empty());
  CHECK(test_png.cols == drawn.cols);  // a panel per width, as the run's
}
