#include "train/train_config.h"

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace adaptive;

namespace {
std::string config_error(const std::string& text, const std::vector<std::string>& overrides = {}) {
  test::TempDir dir;
  test::write_file(dir.path() / "c.json", text);
  try {
    load_train_config(dir.str("c.json"), overrides);
  } catch (const ConfigError& e) {
    // The file's path written as FILE; a message starting with it loses it.
    std::string msg = e.what();
    const std::string file = dir.str("c.json");
    for (size_t at; (at = msg.find(file)) != std::string::npos;)
      msg.replace(at, file.size(), "FILE");
    return msg.rfind("FILE: ", 0) == 0 ? msg.substr(6) : msg;
  }
  return "<no error>";
}
}  // namespace

TEST_CASE("train config: defaults, values and overrides", "[train][config]") {
  test::TempDir dir;
  test::write_file(dir.path() / "c.json",
                   R"({"train": {"epochs": 3}, "model": {"name": "tsm_mobile"}})");
  const TrainConfig c =
      load_train_config(dir.str("c.json"), {"train.lr=0.05", "model.widths=[0.5,1.0]"});
  CHECK(c.train.epochs == 3);
  CHECK(c.train.lr == 0.05);
  CHECK(c.model.name == "tsm_mobile");
  CHECK(c.model.widths == std::vector<double>{0.5, 1.0});
  CHECK(c.train.batch_size == TrainConfig{}.train.batch_size);
  // The resolved config reads back to the same config.
  const nlohmann::json resolved = config_to_json(c);
  CHECK(config_to_json(train_config_from_json(resolved)) == resolved);
}

TEST_CASE("train config errors name the key, what was expected and what came", "[train][config]") {
  CHECK(config_error(R"({"train": {"epoch": 3}})") ==
        "train.epoch: unknown key, did you mean train.epochs?");
  CHECK(config_error(R"({"train": {"epochs": "ten"}})") ==
        "train.epochs: expected an integer, got string \"ten\"");
  CHECK(config_error(R"({"train": {"epochs": 0}})") ==
        "train.epochs: expected an integer in [1, 100000], got 0");
  CHECK(config_error(R"({"model": {"name": "resnet"}})") ==
        "model.name: expected one of r2plus1d, tsm_mobile, got \"resnet\"");
  CHECK(config_error(R"({"model": {"widths": [0.5, 0.25]}})") ==
        "model.widths: expected strictly ascending widths");
  CHECK(config_error(R"({"model": {"channel_multiple": 8}})") ==
        "model.widths: widths 0.25 and 0.5 both run 8 of the 16 channels of stage 1 "
        "(model.base_channels 16, model.channel_multiple 8): every width must be a distinct "
        "sub-network; lower channel_multiple or raise base_channels");
  CHECK(config_error(R"({"train": {"sampling": "single"}})") ==
        "train.sampling: 'single' trains one width; set model.widths to that one width (got 4 "
        "widths)");
  CHECK(config_error(R"({"train": {"epochs": 3, "widest_first_epochs": 3}})") ==
        "train.widest_first_epochs: expected fewer than train.epochs (3), got 3: the narrower "
        "widths would never train");
  CHECK(config_error(R"({"data": {"crop": 100}})") ==
        "data.crop: expected at most data.short_side (72), got 100");
  CHECK(config_error(R"({"data": {"past_frames": 8}})") ==
        "data.past_frames: only a causal model (model.causal: true) streams with a past; got 8 "
        "for a model that sees the whole window");
  CHECK(config_error(R"({"model": {"causal": true}, "data": {"past_other": 0.5}})") ==
        "data.past_other: the share of clips whose past frames come from other videos needs "
        "past frames (data.past_frames > 0); got 0.5 with none");
  CHECK(config_error(R"({"train": {"balance_power": 0.5}})") ==
        "train.balance_power: weighs the classes of balanced epochs, which need "
        "train.balance_classes: true; got 0.5 without");
  CHECK(config_error(R"({"data": {"frames": 8}, "model": {"pool_frames": 9}})") ==
        "model.pool_frames: expected at most data.frames (8), the window it pools, got 9");
  CHECK(config_error(R"({"model": {"blocks": [1, 1], "temporal_from_stage": 3}})") ==
        "model.temporal_from_stage: expected 0 (the stem) to 2 (the last stage), got 3");
  CHECK(config_error(R"({"schema_version": 2})") ==
        "schema_version: expected an integer in [1, 1], got 2");
  // A bad value from --set names the option.
  CHECK(config_error("{}", {"train.lr=-1"}) ==
        "--set 'train.lr=-1' (over FILE): train.lr: expected a number in [0, 10], got -1");
}

TEST_CASE("invalid JSON is reported with line and column", "[train][config]") {
  test::TempDir dir;
  test::write_file(dir.path() / "c.json", "{\n  \"train\": {\n    \"epochs\": 3,\n  }\n}\n");
  CHECK_THROWS_WITH(load_train_config(dir.str("c.json")),
                    Catch::StartsWith(dir.str("c.json") + ":4:3: invalid JSON"));
}

TEST_CASE("flip pairs become a label map over the classes", "[train][config]") {
  TrainConfig c;
  c.data.transform.horizontal_flip = true;
  c.data.flip_pairs = "left:right";
  const auto o = clip_dataset_options(c, {"left", "push", "right"});
  CHECK(o.transform.flip_label_map == std::vector<int>{2, 1, 0});
  c.data.flip_pairs = "left:up";
  CHECK_THROWS_WITH(clip_dataset_options(c, {"left", "right"}),
                    "data.flip_pairs: 'up' is not a class");
}

TEST_CASE("adaptive-train --set takes list values whole, commas included", "[train][config][cli]") {
  test::TempDir dir;
  test::write_file(dir.path() / "c.json", "{}");
  const auto r = test::run_command(std::string(ADAPTIVE_TRAIN) + " --config " + dir.str("c.json") +
                                   " --set 'model.widths=[0.5,1.0]' --set 'model.blocks=[1,2]'" +
                                   " --print-config 2>&1");
  REQUIRE(r.rc == 0);
  const auto printed = nlohmann::json::parse(r.output);
  CHECK(printed["model"]["widths"] == nlohmann::json({0.5, 1.0}));
  CHECK(printed["model"]["blocks"] == nlohmann::json({1, 2}));
}

TEST_CASE("adaptive-train names a mistyped command", "[train][cli]") {
  const auto r = test::run_command(std::string(ADAPTIVE_TRAIN) + " exprot --checkpoint x.pt");
  CHECK(r.rc == 2);
  CHECK_THAT(r.output, Catch::Contains("adaptive-train: unknown command 'exprot' (known: "));
}
