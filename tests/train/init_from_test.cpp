#include "train/init_from.h"

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "train/train_config.h"
#include "train/trained_model.h"
#include "train/trainer.h"

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace adaptive;
using json = nlohmann::json;

namespace {

// The tiny recipe on r2plus1d, whose residual streams the sorting follows.
TrainConfig recipe(const std::vector<double>& widths) {
  TrainConfig c = test::tiny_train_config(test::tiny_synth_dataset());
  c.model.name = "r2plus1d";
  c.model.widths = widths;
  c.train.epochs = 1;
  c.train.threads = 1;
  c.train.export_onnx = false;
  c.gate.enabled = false;
  return c;
}

// A plain network of the tiny recipe, trained one epoch (once per process).
const std::string& plain_run() {
  static test::TempDir dir;
  static const std::string run = [] {
    torch::AutoGradMode grad(true);
    Trainer(recipe({1.0}), test::quiet_trainer(dir.str("plain"))).run();
    return dir.str("plain");
  }();
  return run;
}

}  // namespace

TEST_CASE("a plain network's checkpoint starts a slimmable run: its answer, sorted channels",
          "[train][init]") {
  const std::string checkpoint = plain_run() + "/checkpoints/final.pt";
  const TrainedModel plain = load_trained_model(checkpoint, "test");
  const TrainConfig c = recipe({0.5, 1.0});
  auto model = build_model(model_options(c, static_cast<int64_t>(plain.checkpoint.labels.size())));
  const InitFromSummary s =
      init_from_checkpoint(*model, plain.checkpoint.labels, checkpoint, c.data.clip.frames);
  CHECK(s.layers > 0);
  CHECK_FALSE(s.classifier_reset);
  CHECK(s.sorted);
  CHECK(s.sort.groups_sorted > 0);
  CHECK_THAT(describe(s, checkpoint), Catch::Contains("channels sorted by importance") &&
                                          Catch::Contains("the classifier too"));
  model->eval();
  torch::NoGradGuard no_grad;
  const at::Tensor clip = torch::randn({2, 3, 4, 32, 32});
  CHECK(torch::allclose(model->forward(clip, model->at_width(1)),
                        plain.model->forward(clip, plain.model->at_width(0)), 1e-4, 1e-5));

  // Other classes: the classifier starts afresh, and says so.
  auto other = build_model(model_options(c, 3));
  const InitFromSummary o = init_from_checkpoint(*other, {"a", "swipe_left", "c"}, checkpoint, 4);
  CHECK(o.classifier_reset);
  CHECK(o.shared_classes == 1);
  CHECK_THAT(describe(o, checkpoint),
             Catch::Contains("the classifier is re-initialised (the checkpoint's 10 classes are "
                             "not this run's; 1 shared)"));

  // Another architecture is refused, naming the layer and the keys that differ.
  TrainConfig wide = c;
  wide.model.base_channels = 16;
  auto mismatched = build_model(model_options(wide, 10));
  CHECK_THROWS_WITH(init_from_checkpoint(*mismatched, plain.checkpoint.labels, checkpoint, 4),
                    Catch::Contains(checkpoint + ": cannot start this run from it") &&
                        Catch::Contains("model.base_channels"));
}

TEST_CASE("train.init_from: a run starts from another's weights, not its schedule",
          "[train][init][cli]") {
  test::TempDir dir;
  const std::string config = test::write_tiny_config(dir, "slim", [&](TrainConfig& c) {
    c = recipe({0.5, 1.0});
    c.train.init_from = plain_run() + "/checkpoints/final.pt";
  });
  const auto run = test::run_command(std::string(ADAPTIVE_TRAIN) + " --config " + config +
                                     " --out " + dir.str("run"));
  INFO(run.output);
  REQUIRE(run.rc == 0);
  CHECK_THAT(run.output, Catch::Contains("init_from " + plain_run() + "/checkpoints/final.pt: ") &&
                             Catch::Contains("channels sorted by importance"));
  CHECK_THAT(run.output, Catch::Contains("epoch 1/1"));  // its own schedule, from epoch 1
  const json report = json::parse(test::read_file(dir.str("run/report.json")));
  CHECK(report["init_from"]["channels_sorted"] == true);
  CHECK(report["init_from"]["classifier_reset"] == false);

  const std::string missing = test::write_tiny_config(
      dir, "missing", [&](TrainConfig& c) { c.train.init_from = dir.str("nope.pt"); });
  const auto bad = test::run_command(std::string(ADAPTIVE_TRAIN) + " --config " + missing +
                                     " --out " + dir.str("run2"));
  CHECK(bad.rc == 1);
  CHECK_THAT(bad.output, Catch::Contains(dir.str("nope.pt")));
}
