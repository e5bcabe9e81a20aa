#include "train/trainer.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "test_support.h"
#include "train/checkpoint.h"
#include "train/optimizer.h"
#include "train/training_data.h"

using namespace adaptive;
using adaptive::test::TempDir;
namespace fs = std::filesystem;

namespace {

TrainConfig tiny_config(const std::string& root) {
  return test::tiny_train_config(root);
}

const std::string& tiny_dataset() {
  return test::tiny_synth_dataset();
}

TrainerOptions quiet(const std::string& out, const std::string& resume = "") {
  return test::quiet_trainer(out, resume);
}

}  // namespace

TEST_CASE("a tiny run writes its run directory and a report for every width", "[train][trainer]") {
  TempDir dir;
  const TrainConfig c = tiny_config(tiny_dataset());
  const TrainReport r = Trainer(c, quiet(dir.str("run"))).run();
  CHECK(r.finished);
  REQUIRE(r.widths.size() == 2);
  CHECK(r.widths[0].mflops < r.widths[1].mflops);
  CHECK(r.widths[0].params < r.widths[1].params);
  CHECK(r.gate.trained);
  REQUIRE(r.gate.heads.size() == 2);
  CHECK(r.gate.heads.front().share.size() == 2);
  CHECK(r.clips_per_s > 0);
  // The training thread's CPU time over its model steps' wall time.
  CHECK(r.compute_busy > 0);
  CHECK(r.compute_busy <= 1.05);
  const RunTimes& t = r.times;
  for (const double phase : {t.setup_s, t.steps_s, t.epoch_ends_s, t.final_s}) CHECK(phase > 0);
  CHECK(t.preload_s == 0);  // no cache (data.cache_mb 0): nothing to preload
  const double phases = t.setup_s + t.preload_s + t.steps_s + t.epoch_ends_s + t.final_s;
  CHECK(phases <= r.seconds);
  CHECK(phases > 0.5 * r.seconds);
  for (const char* f :
       {"config.json", "metrics.jsonl", "report.json", "checkpoints/last.pt", "checkpoints/best.pt",
        "checkpoints/final.pt", "checkpoints/epoch_0002.pt"}) {
    INFO(f);
    CHECK(fs::exists(dir.path() / "run" / f));
  }
  CHECK(test::temp_files(dir.str("run/checkpoints")).empty());
  // One train line per step (20 clips / batch 4 = 5 steps per epoch) and one eval line per epoch.
  std::ifstream metrics(dir.path() / "run/metrics.jsonl");
  int train = 0, eval = 0;
  for (std::string line; std::getline(metrics, line);) {
    const auto j = nlohmann::json::parse(line);
    train += j["type"] == "train";
    eval += j["type"] == "eval";
  }
  CHECK(train == 10);
  CHECK(eval == 2);
  CHECK(r.epochs_run == 2);
  CHECK(r.steps == 10);
  // A second run into the same directory without --resume is refused.
  CHECK_THROWS_WITH(
      Trainer(c, quiet(dir.str("run"))),
      Catch::Contains("already holds a run (checkpoints/last.pt); pass --resume auto"));
}

TEST_CASE("widest-first epochs train the widest width alone and never make the best checkpoint",
          "[train][trainer]") {
  TempDir dir;
  TrainConfig c = tiny_config(tiny_dataset());
  c.gate.enabled = false;
  c.train.epochs = 3;
  c.train.widest_first_epochs = 2;
  c.train.random_widths = 0;
  const TrainReport r = Trainer(c, quiet(dir.str("run"))).run();
  CHECK(r.finished);
  // 5 steps per epoch: epochs 1-2 train [1.0], epoch 3 the sandwich [1.0, 0.5].
  std::ifstream metrics(dir.path() / "run/metrics.jsonl");
  std::vector<nlohmann::json> steps;
  std::vector<bool> best;
  for (std::string line; std::getline(metrics, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["type"] == "train") steps.push_back(j["widths"]);
    if (j["type"] == "eval") best.push_back(j["best"]);
  }
  REQUIRE(steps.size() == 15);
  for (size_t i = 0; i < steps.size(); ++i) {
    INFO("step " << i + 1);
    CHECK(steps[i] == (i < 10 ? nlohmann::json({1.0}) : nlohmann::json({1.0, 0.5})));
  }
  CHECK(best == std::vector<bool>{false, false, true});
}

TEST_CASE(
    "train.min_steps raises the epochs of a small dataset until the run takes that many steps",
    "[train][trainer]") {
  TempDir dir;
  TrainConfig c = tiny_config(tiny_dataset());
  c.gate.enabled = false;
  c.train.epochs = 1;
  c.train.min_steps = 12;  // 5 steps an epoch: 3 epochs
  const TrainReport r = Trainer(c, quiet(dir.str("run"))).run();
  CHECK(r.finished);
  CHECK(r.epochs_run == 3);
  CHECK(r.steps == 15);
  std::ifstream in(dir.path() / "run/report.json");
  const auto report = nlohmann::json::parse(in);
  CHECK(report["epochs"] == 3);
  CHECK(report["steps"] == 15);
  // The config as written: the user's epochs and min_steps; resumed, the
  // finished run is not trained further.
  std::ifstream config(dir.path() / "run/config.json");
  CHECK(nlohmann::json::parse(config)["train"]["epochs"] == 1);
  CHECK(Trainer(c, quiet(dir.str("run"), "auto")).run().steps == 15);

  // Enough steps already: the epochs stand.
  c.train.min_steps = 5;
  CHECK(Trainer(c, quiet(dir.str("enough"))).run().epochs_run == 1);
}

TEST_CASE("a run stopped mid-epoch and resumed ends with the same weights",
          "[train][trainer][resume]") {
  at::set_num_threads(1);
  TempDir dir;
  TrainConfig c = tiny_config(tiny_dataset());
  c.gate.enabled = false;
  Trainer(c, quiet(dir.str("straight"))).run();

  TrainerOptions first = quiet(dir.str("resumed"));
  first.stop_after_steps = 3;  // inside epoch 1 (5 steps per epoch)
  CHECK_FALSE(Trainer(c, first).run().finished);
  TrainerOptions second = quiet(dir.str("resumed"), "auto");
  second.stop_after_steps = 7;  // inside epoch 2
  CHECK_FALSE(Trainer(c, second).run().finished);
  CHECK(Trainer(c, quiet(dir.str("resumed"), "auto")).run().finished);

  // Bitwise: 1 thread, no loader workers.
  test::require_same_weights(dir.str("straight/checkpoints/last.pt"),
                             dir.str("resumed/checkpoints/last.pt"), c);
}

TEST_CASE("a run that decodes its videos into the cache first trains the same weights",
          "[train][trainer]") {
  at::set_num_threads(1);
  TempDir dir;
  TrainConfig c = tiny_config(tiny_dataset());
  c.gate.enabled = false;
  const TrainReport plain = Trainer(c, quiet(dir.str("plain"))).run();
  c.data.cache_mb = 64;
  const TrainReport cached = Trainer(c, quiet(dir.str("cached"))).run();
  CHECK(plain.times.preload_s == 0);
  CHECK(cached.times.preload_s > 0);
  test::require_same_weights(dir.str("plain/checkpoints/last.pt"),
                             dir.str("cached/checkpoints/last.pt"), c);
}

TEST_CASE("a NaN loss stops the run at its step and keeps the last checkpoint",
          "[train][trainer][nan]") {
  TempDir dir;
  TrainConfig c = tiny_config(tiny_dataset());
  TrainerOptions stop = quiet(dir.str("run"));
  stop.stop_after_steps = 2;
  Trainer(c, stop).run();
  const fs::path last = dir.path() / "run/checkpoints/last.pt";
  // Poison the weights in a copy of the checkpoint and resume from it.
  auto model = build_model(model_options(c, 10));
  auto optimizer = make_optimizer(*model, c.train);
  const Checkpoint ck = load_checkpoint(last.string(), *model, optimizer.get());
  {
    torch::NoGradGuard no_grad;
    model->named_parameters()["classifier.bias"].fill_(std::numeric_limits<float>::quiet_NaN());
  }
  save_checkpoint(dir.str("poisoned.pt"), *model, optimizer.get(), ck);
  const std::string before = test::read_file(last);
  CHECK_THROWS_WITH(
      Trainer(c, quiet(dir.str("run"), dir.str("poisoned.pt"))).run(),
      "training diverged at epoch 1, step 3: loss is NaN at width 1; the last good checkpoint is " +
          last.string() + " (try a lower train.lr or train.grad_clip)");
  CHECK(test::read_file(last) == before);
  // A final model has no optimizer state to resume from.
  save_checkpoint(dir.str("final.pt"), *model, nullptr, ck);
  CHECK_THROWS_WITH(Trainer(c, quiet(dir.str("run"), dir.str("final.pt"))),
                    Catch::StartsWith(dir.str("final.pt") + ": holds no optimizer state"));
}

TEST_CASE("the synthetic dataset is rendered when missing and reused after",
          "[train][trainer][slow]") {
  TempDir dir;
  TrainConfig c = tiny_config(dir.str("data"));
  c.data.synthesize = true;
  c.data.synth_train_per_class = 1;
  c.data.synth_val_per_class = 1;
  c.data.synth_test_per_class = 1;
  c.train.epochs = 1;
  c.train.batch_size = 2;
  c.gate.enabled = false;
  Trainer(c, quiet(dir.str("run1"))).run();
  CHECK(fs::exists(dir.path() / "data/synth.json"));
  const auto stamp = fs::last_write_time(dir.path() / "data/synth.json");
  Trainer(c, quiet(dir.str("run2"))).run();
  CHECK(fs::last_write_time(dir.path() / "data/synth.json") == stamp);
  c.data.synthesize = false;
  c.data.root = dir.str("elsewhere");
  CHECK_THROWS_WITH(
      Trainer(c, quiet(dir.str("run3"))),
      dir.str("elsewhere") + ": dataset folder is missing or empty (data.synthesize is off)");
}

TEST_CASE("universal mode trains any width and recalibrates BN per listed width",
          "[train][trainer]") {
  TempDir dir;
  TrainConfig c = tiny_config(tiny_dataset());
  c.model.width_mode = WidthMode::kUniversal;
  c.model.widths = {0.5, 0.75, 1.0};
  c.model.channel_multiple = 2;  // 4, 6 and 8 of the 8 channels: three distinct widths
  c.train.bn_calibration_batches = 2;
  c.train.epochs = 1;
  c.gate.enabled = false;
  const TrainReport r = Trainer(c, quiet(dir.str("run"))).run();
  REQUIRE(r.widths.size() == 3);
  // Recalibrated statistics exist (they would be 0 otherwise) and differ per
  // width after a layer that mixes channels (the pointwise conv sums over as
  // many inputs as the width has).
  auto model = build_model(model_options(c, 10));
  load_checkpoint(dir.str("run/checkpoints/final.pt"), *model, nullptr);
  const auto buffers = model->named_buffers();
  const at::Tensor narrow = buffers["stage1_1.pointwise.bn.running_mean0"];
  const at::Tensor wide = buffers["stage1_1.pointwise.bn.running_mean2"];
  CHECK(narrow.abs().sum().item<float>() > 0);
  CHECK_FALSE(at::equal(narrow, wide.narrow(0, 0, narrow.size(0))));
}

TEST_CASE("bad videos skipped anywhere in a run are counted once, the gate's held-out clips too",
          "[train][trainer]") {
  TempDir dir;
  const std::string root = tiny_dataset();
  // The training split plus broken videos of one class (paths outside the
  // dataset's folder), half of every class held out for the gate.
  std::string manifest = "path,label,difficulty\n";
  std::istringstream lines(test::read_file(root + "/train.csv"));
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) manifest += root + "/" + line + "\n";
  std::set<std::string> bad;
  for (int i = 0; i < 6; ++i) {
    const std::string path = dir.str("bad_" + std::to_string(i) + ".avi");
    test::write_file(path, i % 2 ? "" : "RIFF this is not a video");
    manifest += path + ",push,0.5\n";
    bad.insert(path);
  }
  test::write_file(dir.path() / "train_bad.csv", manifest);
  TrainConfig c = tiny_config(root);
  c.data.train = dir.str("train_bad.csv");
  c.data.allow_outside_root = true;
  c.train.epochs = 1;
  c.gate.holdout = 0.5;
  c.gate.epochs = 1;
  // Some of the broken videos are held out for the gate, so only the gate's
  // loader sees them.
  const TrainingData data = open_training_data(c, [](const std::string&) {});
  REQUIRE(data.gate);
  int held_out = 0;
  for (const auto& s : data.gate->index().samples) held_out += bad.count(s.path) ? 1 : 0;
  REQUIRE(held_out > 0);
  REQUIRE(held_out < 6);

  const TrainReport report = Trainer(c, quiet(dir.str("run"))).run();
  CHECK(report.finished);
  CHECK(report.skipped_samples == 6);
}
