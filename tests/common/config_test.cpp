#include "common/config.h"

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace adaptive;
using adaptive::test::TempDir;
using adaptive::test::write_file;
using nlohmann::json;

namespace {

struct TestConfig {
  int schema_version = 1;
  int epochs = 30;
  int64_t max_steps = -1;
  double lr = 0.1;
  std::string optimizer = "sgd";
  bool distill = true;
  uint64_t seed = 0;
  std::vector<double> widths = {0.25, 0.5, 1.0};
  std::vector<int> frames = {8, 16};
  std::string root = "data/synth";

  void visit(ConfigVisitor& v) {
    v.field("schema_version", schema_version, 1, 1, "config format version");
    v.field("train.epochs", epochs, 1, 100000, "epochs to train");
    v.field("train.max_steps", max_steps, -1, int64_t{1} << 40, "step limit, -1 for none");
    v.field("train.lr", lr, 0.0, 10.0, "peak learning rate");
    v.choice("train.optimizer", optimizer, {"sgd", "adamw"}, "optimizer");
    v.field("train.distill", distill, "in-place distillation");
    v.field("train.seed", seed, "random seed");
    v.field("model.widths", widths, 0.01, 1.0, 1, 16, "width multipliers");
    v.field("model.frames", frames, 1, 64, 1, 4, "frames per stage");
    v.field("data.root", root, "dataset folder");
  }
};

const json kDefaults = R"({
  "schema_version": 1,
  "train": {"epochs": 30, "max_steps": -1, "lr": 0.1, "optimizer": "sgd", "distill": true,
            "seed": 0},
  "model": {"widths": [0.25, 0.5, 1.0], "frames": [8, 16]},
  "data": {"root": "data/synth"}
})"_json;

TestConfig from(const json& j) {
  TestConfig c;
  config_from_json(j, c);
  return c;
}

std::string error_for(const json& j) {
  return test::error_of<ConfigError>([&] { from(j); });
}

template <class Config>
std::string error_for_config(const json& j, Config& c) {
  return test::error_of<ConfigError>([&] { config_from_json(j, c); });
}

}  // namespace

TEST_CASE("config: absent keys keep their values", "[config]") {
  const TestConfig c = from(R"({"train": {"lr": 0.5}})"_json);
  CHECK(c.lr == 0.5);
  CHECK(c.epochs == 30);
  CHECK(c.optimizer == "sgd");
  CHECK(c.widths == std::vector<double>{0.25, 0.5, 1.0});
  CHECK(c.root == "data/synth");

  TestConfig changed;
  changed.epochs = 7;
  changed.widths = {1.0};
  config_from_json(R"({"data": {}})"_json, changed);
  CHECK(changed.epochs == 7);
  CHECK(changed.widths == std::vector<double>{1.0});
  CHECK(from(json()).epochs == 30);  // null reads as an empty config
}

TEST_CASE("config: every field type is read", "[config]") {
  const TestConfig c = from(R"({
    "train": {"epochs": 3.0, "max_steps": 1099511627776, "lr": 2, "optimizer": "adamw",
              "distill": false, "seed": 18446744073709551615},
    "model": {"widths": [0.5, 1], "frames": [4, 8, 16.0]},
    "data": {"root": "/data/jester"}
  })"_json);
  CHECK(c.epochs == 3);
  CHECK(c.max_steps == int64_t{1} << 40);
  CHECK(c.lr == 2.0);
  CHECK(c.optimizer == "adamw");
  CHECK_FALSE(c.distill);
  CHECK(c.seed == 18446744073709551615u);
  CHECK(c.widths == std::vector<double>{0.5, 1.0});
  CHECK(c.frames == std::vector<int>{4, 8, 16});
  CHECK(c.root == "/data/jester");
}

TEST_CASE("config: the resolved config round-trips with defaults filled", "[config]") {
  CHECK(config_to_json(TestConfig{}) == kDefaults);

  const json partial =
      R"({"train": {"epochs": 5, "optimizer": "adamw"}, "model": {"widths": [1]}})"_json;
  json expected = kDefaults;
  expected["train"]["epochs"] = 5;
  expected["train"]["optimizer"] = "adamw";
  expected["model"]["widths"] = json::array({1.0});
  CHECK(config_to_json(from(partial)) == expected);
  CHECK(config_to_json(from(expected)) == expected);
  CHECK(config_to_json(from(expected)).dump() == expected.dump());  // same types and key order
}

TEST_CASE("config: unknown keys are rejected with the nearest declared path", "[config]") {
  CHECK(error_for(R"({"train": {"epoch": 3}})"_json) ==
        "train.epoch: unknown key, did you mean train.epochs?");
  CHECK(error_for(R"({"trian": {"epochs": 3}})"_json) == "trian: unknown key, did you mean train?");
  CHECK(error_for(R"({"train": {"momentum": 0.9}})"_json) ==
        "train.momentum: unknown key (known keys under train: epochs, max_steps, lr, optimizer, "
        "distill, seed)");
  CHECK(error_for(R"({"optimizer": "adamw"})"_json) ==
        "optimizer: unknown key (known top-level keys: schema_version, train, model, data)");
  CHECK(error_for(R"({"model": {"widths": [1], "depth": {"x": 1}}})"_json) ==
        "model.depth: unknown key (known keys under model: widths, frames)");
}

TEST_CASE("config: wrong types say what was expected and what was found", "[config]") {
  CHECK(error_for(R"({"train": {"epochs": "ten"}})"_json) ==
        R"(train.epochs: expected an integer, got string "ten")");
  CHECK(error_for(R"({"train": {"epochs": 2.5}})"_json) ==
        "train.epochs: expected an integer, got number 2.5");
  CHECK(error_for(R"({"train": {"lr": "fast"}})"_json) ==
        R"(train.lr: expected a number, got string "fast")");
  CHECK(error_for(R"({"train": {"distill": 1}})"_json) ==
        "train.distill: expected true or false, got number 1");
  CHECK(error_for(R"({"train": {"seed": null}})"_json) ==
        "train.seed: expected an integer, got null");
  CHECK(error_for(R"({"data": {"root": 5}})"_json) == "data.root: expected a string, got number 5");
  CHECK(error_for(R"({"model": {"widths": 0.5}})"_json) ==
        "model.widths: expected an array of numbers, got number 0.5");
  CHECK(error_for(R"({"model": {"widths": [0.5, "x"]}})"_json) ==
        R"(model.widths[1]: expected a number, got string "x")");
  CHECK(error_for(R"({"model": {"frames": [8, 2.5]}})"_json) ==
        "model.frames[1]: expected an integer, got number 2.5");
  CHECK(error_for(R"({"train": {"optimizer": 3}})"_json) ==
        "train.optimizer: expected one of sgd, adamw, got number 3");
  CHECK(error_for(R"({"train": 3})"_json) == "train: expected an object, got number 3");
  CHECK(error_for(R"([1, 2])"_json) == "top level: expected an object, got array [1,2]");

  const json long_value = {{"data", {{"root", {{"path", std::string(50, 'x')}}}}}};
  CHECK(error_for(long_value) ==
        R"(data.root: expected a string, got object {"path":")" + std::string(31, 'x') + "...");
}

TEST_CASE("config: values out of range name the range", "[config]") {
  CHECK(error_for(R"({"train": {"epochs": 0}})"_json) ==
        "train.epochs: expected an integer in [1, 100000], got 0");
  CHECK(error_for(R"({"train": {"epochs": 1000000000000}})"_json) ==
        "train.epochs: expected an integer in [1, 100000], got 1000000000000");
  CHECK(error_for(R"({"train": {"max_steps": 18446744073709551615}})"_json) ==
        "train.max_steps: expected an integer in [-1, 1099511627776], got 18446744073709551615");
  CHECK(error_for(R"({"train": {"seed": -1}})"_json) ==
        "train.seed: expected a non-negative integer, got -1");
  CHECK(error_for(R"({"train": {"lr": 11}})"_json) ==
        "train.lr: expected a number in [0, 10], got 11");
  CHECK(error_for(R"({"train": {"lr": -0.5}})"_json) ==
        "train.lr: expected a number in [0, 10], got -0.5");
  CHECK(error_for(R"({"model": {"widths": [0.25, 0.5, 1.5]}})"_json) ==
        "model.widths[2]: expected a number in [0.01, 1], got 1.5");
  CHECK(error_for(R"({"model": {"widths": []}})"_json) ==
        "model.widths: expected 1 to 16 values, got 0");
  CHECK(error_for(R"({"model": {"frames": [8, 100]}})"_json) ==
        "model.frames[1]: expected an integer in [1, 64], got 100");
  CHECK(error_for(R"({"schema_version": 2})"_json) ==
        "schema_version: expected an integer in [1, 1], got 2");
  CHECK(error_for(R"({"train": {"optimizer": "adam"}})"_json) ==
        R"(train.optimizer: expected one of sgd, adamw, got "adam")");
}

TEST_CASE("config: --set overrides create nested keys and parse JSON values", "[config]") {
  json j = R"({"train": {"epochs": 5}})"_json;
  apply_override(j, "train.epochs=7");
  apply_override(j, "train.lr=0.5");
  apply_override(j, "train.distill=false");
  apply_override(j, "train.optimizer=adamw");  // not JSON: a plain string
  apply_override(j, "model.widths=[0.25,1.0]");
  apply_override(j, R"(data.root="my data")");
  CHECK(j == R"({"train": {"epochs": 7, "lr": 0.5, "distill": false, "optimizer": "adamw"},
                 "model": {"widths": [0.25, 1.0]}, "data": {"root": "my data"}})"_json);
  const TestConfig c = from(j);
  CHECK(c.epochs == 7);
  CHECK(c.optimizer == "adamw");
  CHECK(c.widths == std::vector<double>{0.25, 1.0});
  CHECK(c.root == "my data");

  json empty;
  apply_override(empty, "a.b.c=x=1");  // splits at the first '='
  CHECK(empty == R"({"a": {"b": {"c": "x=1"}}})"_json);

  apply_override(j, "train.epoch=3");
  CHECK(error_for(j) == "train.epoch: unknown key, did you mean train.epochs?");
  json numbers;
  apply_override(numbers, "data.root=123");  // JSON first: quote to get a string
  CHECK(error_for(numbers) == "data.root: expected a string, got number 123");

  CHECK(test::error_of<ConfigError>([&] { apply_override(j, "train.epochs"); }) ==
        "--set 'train.epochs': expected key.path=value");
  CHECK(test::error_of<ConfigError>([&] { apply_override(j, "=3"); }) ==
        "--set '=3': expected key.path=value");
  CHECK(test::error_of<ConfigError>([&] { apply_override(j, "train..lr=1"); }) ==
        "--set 'train..lr=1': expected key.path=value");
  json scalar_parent = R"({"train": 3})"_json;
  CHECK(test::error_of<ConfigError>([&] { apply_override(scalar_parent, "train.lr=1"); }) ==
        "--set 'train.lr=1': train: expected an object, got number 3");
}

TEST_CASE("config: read_json_file reports syntax errors by line and column", "[config]") {
  TempDir dir;
  write_file(dir.str("ok.json"), "// comments are allowed\n{\"train\": {\"epochs\": 3}}\n");
  CHECK(read_json_file(dir.str("ok.json")) == R"({"train": {"epochs": 3}})"_json);

  write_file(dir.str("comma.json"), "{\n  \"train\": {\n    \"epochs\": 3,\n  }\n}\n");
  CHECK(test::error_of<ConfigError>([&] { read_json_file(dir.str("comma.json")); }) ==
        dir.str("comma.json") +
            ":4:3: invalid JSON: syntax error while parsing object key - unexpected '}'; "
            "expected string literal");
  write_file(dir.str("short.json"), "{\"a\": 1");
  CHECK(test::error_of<ConfigError>([&] { read_json_file(dir.str("short.json")); }) ==
        dir.str("short.json") +
            ":1:8: invalid JSON: syntax error while parsing object - unexpected end of input; "
            "expected '}'");
  CHECK(test::error_of<ConfigError>([&] { read_json_file(dir.str("missing.json")); }) ==
        dir.str("missing.json") + ": cannot open config file");
}

TEST_CASE("config: a number too large is reported where the parser found it", "[config]") {
  // The same token earlier in a comment and in another key's string: the
  // position is the value's, which the parser gives, not the text's first match.
  TempDir dir;
  write_file(dir.str("comment.json"),
             "// lr 1e400 would overflow\n{\"note\": \"1e400\",\n \"lr\": 1e400}\n");
  CHECK(test::error_of<ConfigError>([&] { read_json_file(dir.str("comment.json")); }) ==
        dir.str("comment.json") + ":3:8: invalid JSON: number overflow parsing '1e400'");
  write_file(dir.str("negative.json"), "{\"a\": \"-1e999\", \"b\": [1, -1e999]}");
  CHECK(test::error_of<ConfigError>([&] { read_json_file(dir.str("negative.json")); }) ==
        dir.str("negative.json") + ":1:26: invalid JSON: number overflow parsing '-1e999'");
}

TEST_CASE("config: describe_config lists every field with its range and default", "[config]") {
  const std::string text = describe_config<TestConfig>();
  CHECK(std::count(text.begin(), text.end(), '\n') == 10);
  CHECK_THAT(text, Catch::Contains("\ntrain.epochs     epochs to train (an integer in [1, 100000], "
                                   "default 30)\n"));
  CHECK_THAT(text, Catch::Contains("\nmodel.widths     width multipliers (1 to 16 values, each a "
                                   "number in [0.01, 1], default [0.25,0.5,1.0])\n"));
  CHECK_THAT(text, Catch::Contains("\ntrain.optimizer  optimizer (one of sgd, adamw, default "
                                   "\"sgd\")\n"));
}

TEST_CASE("config: the visitor lists each declared field once, in order", "[config]") {
  TestConfig c;
  ConfigVisitor visitor;
  c.visit(visitor);
  const std::vector<ConfigField>& fields = visitor.fields();
  REQUIRE(fields.size() == 10);
  CHECK(fields[1].path == "train.epochs");
  CHECK(fields[1].type == ConfigField::Type::kInteger);
  CHECK(fields[1].min_integer == 1);
  CHECK(fields[1].max_integer == 100000);
  CHECK(std::string(fields[1].help) == "epochs to train");
  CHECK(fields[1].get() == 30);
  fields[1].set(json(7));
  CHECK(c.epochs == 7);
  CHECK(fields[4].type == ConfigField::Type::kChoice);
  CHECK(fields[4].choices == std::vector<std::string>{"sgd", "adamw"});
  CHECK(fields[7].path == "model.widths");
  CHECK(fields[7].list);
  CHECK(fields[7].max_size == 16);
  CHECK(fields[8].get() == json({8, 16}));
}

TEST_CASE("config: a group's keys sit under its prefix, and a field is read as it is declared",
          "[config]") {
  struct Crop {
    int height = 64, width = 64;
    void visit(ConfigVisitor& v) {
      v.field("crop", height, 8, 4096, "square crop");
      width = height;  // derived from the value read just above
    }
  };
  struct Outer {
    Crop crop;
    int after = 1;
    void visit(ConfigVisitor& v) {
      v.group("data", crop);
      v.field("after", after, 0, 9, "a key after the group");
    }
  } outer;
  config_from_json(R"({"data": {"crop": 32}, "after": 2})"_json, outer);
  CHECK(outer.crop.height == 32);
  CHECK(outer.crop.width == 32);
  CHECK(outer.after == 2);
  CHECK(config_to_json(outer) == R"({"data": {"crop": 32}, "after": 2})"_json);
  CHECK(error_for_config(R"({"data": {"crop": 4}})"_json, outer) ==
        "data.crop: expected an integer in [8, 4096], got 4");
  CHECK(error_for_config(R"({"crop": 32})"_json, outer) ==
        "crop: unknown key (known top-level keys: data, after)");
}

TEST_CASE("config: a path declared twice is a programming error", "[config]") {
  struct Twice {
    int a = 1, b = 2;
    void visit(ConfigVisitor& v) {
      v.field("x.a", a, 0, 9, "a");
      v.field("x.a", b, 0, 9, "b");
    }
  } twice;
  CHECK_THROWS_AS(config_from_json(json::object(), twice), std::logic_error);
}
