// Bad input, swept: every entry point (adaptive-infer, adaptive-data inspect,
// adaptive-train and its export) is fed a catalogue of broken videos,
// manifests, configs and models. Each must give a clear message naming what
// was wrong and where, a non-zero exit (or a counted skip where
// data.on_bad_sample says skip), no output file, and never a crash, a hang
// or a sanitizer report (the sanitizer build runs this file too).
#include <cstdint>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <torch/script.h>
#include <nlohmann/json.hpp>

#include "train/train_config.h"

// Catch2 after LibTorch: both define CHECK, Catch2's must win.
#include <catch2/catch.hpp>

#include "test_support.h"

using namespace adaptive;
using adaptive::test::run_command;
using adaptive::test::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct BadFile {
  std::string path;      // the broken input
  std::string expected;  // what its message must say
};

// Exit status `rc`, `expected` in the message, and no sign of a crash, a hang
// (run_command kills after its timeout: 137) or a sanitizer report.
void check_clear_failure(const test::CommandResult& r, int rc, const std::string& expected) {
  INFO(r.output);
  CHECK(r.rc == rc);
  CHECK_THAT(r.output, Catch::Contains(expected));
  for (const char* sign : {"Sanitizer", "runtime error:", "terminate called", "Segmentation fault",
                           "core dumped", "Aborted", "what():"}) {
    CHECK_THAT(r.output, !Catch::Contains(sign));
  }
}

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string bytes(n, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xFF);
  return bytes;
}

uint32_t crc32(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (const char c : bytes) {
    crc ^= static_cast<unsigned char>(c);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string big_endian(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// A well-formed PNG header announcing a `width` x `height` RGB image, with no
// pixel data.
std::string png_header(uint32_t width, uint32_t height) {
  const std::string ihdr =
      "IHDR" + big_endian(width) + big_endian(height) + std::string("\x08\x02\x00\x00\x00", 5);
  const std::string iend = "IEND";
  return std::string("\x89PNG\r\n\x1a\n", 8) + big_endian(13) + ihdr + big_endian(crc32(ihdr)) +
         big_endian(0) + iend + big_endian(crc32(iend));
}

const std::string& good_clip() {
  static const std::string path = test::tiny_synth_dataset() + "/train/push/push_00000.avi";
  return path;
}

// The catalogue of broken videos, written into `dir`.
std::vector<BadFile> make_bad_videos(const TempDir& dir) {
  const std::string clip = test::read_file(good_clip());
  REQUIRE(clip.size() > 4096);
  std::vector<BadFile> bad;
  auto add = [&](const std::string& name, const std::string& bytes, const std::string& expected) {
    test::write_file(dir.path() / name, bytes);
    bad.push_back({dir.str(name), expected});
  };
  add("random.avi", random_bytes(64 << 10, 1), "cannot open as a video");
  add("truncated.avi", clip.substr(0, clip.size() * 3 / 5), "truncated or corrupt");
  add("empty.mp4", "", "empty file (0 bytes)");
  add("text.avi", "path,label\nnot a video at all\n", "cannot open as a video");
  // A valid stream header and no frame.
  add("no_frames.y4m", "YUV4MPEG2 W64 H48 F16:1 Ip A1:1 C420jpeg\n", "no decodable frame");
  // Headers intact, every frame's bytes zeroed.
  std::string zeroed = clip;
  std::fill(zeroed.begin() + 2048, zeroed.end() - 1024, '\0');
  add("zeroed_frames.avi", zeroed, "truncated or corrupt");
  // Enormous frame sizes announced: a 100000 x 100000 video, a 60000 x 60000 PNG frame.
  add("huge.y4m",
      "YUV4MPEG2 W100000 H100000 F16:1 Ip A1:1 C420jpeg\nFRAME\n" + std::string(4096, 0),
      "cannot open as a video");
  add("huge_frame/000001.png", png_header(60000, 60000), "cannot decode");
  bad.back().path = dir.str("huge_frame");
  // A folder where a file is expected, and nothing at all.
  fs::create_directories(dir.path() / "folder.avi");
  bad.push_back({dir.str("folder.avi"), "holds no .jpg/.png frames"});
  bad.push_back({dir.str("missing.avi"), "no such file or folder"});
  return bad;
}

}  // namespace

TEST_CASE("adaptive-infer --strict names each broken video, exits 1 and writes no output",
          "[reliability][bad_input][slow]") {
  TempDir dir;
  const std::string model = test::tiny_trained_run() + "/model.pt";
  for (const BadFile& video : make_bad_videos(dir)) {
    SECTION(fs::path(video.path).filename().string()) {
      const std::string out = dir.str("out.jsonl");
      const auto r = run_command(std::string(ADAPTIVE_INFER) + " --model " + model + " --input " +
                                 video.path + " --quiet --strict --output " + out);
      check_clear_failure(r, 1, video.expected);
      CHECK_THAT(r.output, Catch::Contains(fs::path(video.path).filename().string()));
      // A video cut short after some windows reports what it processed (the
      // summary); one that yields no window writes nothing.
      if (r.output.find("summary above") == std::string::npos) CHECK_FALSE(fs::exists(out));
      CHECK(test::temp_files(dir.str()).empty());
    }
  }
}

TEST_CASE("adaptive-infer keeps what a truncated video decoded, with a warning, and exits 0",
          "[reliability][bad_input]") {
  TempDir dir;
  const std::string model = test::tiny_trained_run() + "/model.pt";
  const std::string clip =
      test::read_file(test::tiny_synth_dataset() + "/streams/test/stream_000.avi");
  test::write_file(dir.path() / "cut.avi", clip.substr(0, clip.size() / 2));
  const std::string out = dir.str("out.jsonl");
  const auto r = run_command(std::string(ADAPTIVE_INFER) + " --model " + model + " --input " +
                             dir.str("cut.avi") + " --quiet --output " + out);
  INFO(r.output);
  CHECK(r.rc == 0);
  CHECK_THAT(r.output, Catch::Contains("warning: " + dir.str("cut.avi") +
                                       ": decoding stopped at "
                                       "frame ") &&
                           Catch::Contains(" frames that decoded"));
  const std::string written = test::read_file(out);
  CHECK_THAT(written, Catch::Contains("\"type\":\"window\"") &&
                          Catch::Contains("\"type\":\"summary\"") &&
                          Catch::Contains("\"warning\""));
  CHECK(test::temp_files(dir.str()).empty());
}

TEST_CASE("adaptive-data inspect --check lists every broken video and exits 1",
          "[reliability][bad_input]") {
  TempDir dir;
  const auto bad = make_bad_videos(dir);
  fs::copy_file(good_clip(), dir.path() / "good.avi");
  std::string manifest = "path,label\ngood.avi,push\n";
  for (const BadFile& b : bad) manifest += fs::path(b.path).filename().string() + ",push\n";
  test::write_file(dir.path() / "m.csv", manifest);
  const auto r =
      run_command(std::string(ADAPTIVE_DATA) + " inspect --check --data " + dir.str("m.csv"));
  check_clear_failure(r, 1,
                      "checked " + std::to_string(bad.size() + 1) +
                          " samples: " + std::to_string(bad.size()) + " bad");
  for (const BadFile& b : bad) CHECK_THAT(r.output, Catch::Contains("bad: " + b.path + ": "));
}

TEST_CASE("training skips and counts broken videos, or stops at the first under 'fail'",
          "[reliability][bad_input][slow]") {
  TempDir dir;
  const std::string root = test::tiny_synth_dataset();
  const auto bad = make_bad_videos(dir);
  // The tiny training split with every broken video added (paths outside
  // the dataset's folder, which the config allows).
  std::string manifest = "path,label,difficulty\n";
  std::istringstream lines(test::read_file(root + "/train.csv"));
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) manifest += root + "/" + line + "\n";
  for (const BadFile& b : bad) manifest += b.path + ",push,0.5\n";
  test::write_file(dir.path() / "train_bad.csv", manifest);
  const auto config = [&](const std::string& policy) {
    return test::write_tiny_config(dir, policy, [&](TrainConfig& c) {
      c.data.train = dir.str("train_bad.csv");
      c.data.on_bad_sample = parse_bad_sample_policy(policy);
      c.data.allow_outside_root = true;
    });
  };
  const auto skip = run_command(std::string(ADAPTIVE_TRAIN) + " --config " + config("skip") +
                                " --out " + dir.str("skip_run"));
  check_clear_failure(skip, 0,
                      "skipped " + std::to_string(bad.size()) +
                          " bad video(s), named in the "
                          "warnings above");
  for (const BadFile& b : bad) CHECK_THAT(skip.output, Catch::Contains("skipping " + b.path));
  CHECK(json::parse(test::read_file(dir.str("skip_run/report.json")))["skipped_samples"] ==
        bad.size());

  const auto fail = run_command(std::string(ADAPTIVE_TRAIN) + " --config " + config("fail") +
                                " --out " + dir.str("fail_run"));
  check_clear_failure(fail, 1, "adaptive-train: error: ");
  bool named = false;
  for (const BadFile& b : bad) named = named || fail.output.find(b.path) != std::string::npos;
  CHECK(named);

  // Outside the root without the permission: refused before training.
  const auto refused = run_command(
      std::string(ADAPTIVE_TRAIN) + " --config " +
      test::write_tiny_config(dir, "strict",
                              [&](TrainConfig& c) { c.data.train = dir.str("train_bad.csv"); }) +
      " --out " + dir.str("strict_run"));
  check_clear_failure(refused, 1, "leads outside the dataset root");
  CHECK_FALSE(fs::exists(dir.path() / "strict_run" / "checkpoints" / "last.pt"));
}

TEST_CASE("broken manifests are named by file and line, in inspect and in training",
          "[reliability][bad_input][slow]") {
  TempDir dir;
  const std::string root = test::tiny_synth_dataset();
  // Manifests in a copy of the dataset's folder, so relative paths resolve.
  const fs::path data = dir.path() / "data";
  fs::create_directories(data / "train" / "push");
  fs::copy_file(good_clip(), data / "train" / "push" / "a.avi");
  fs::copy_file(good_clip(), data / "train" / "push" / "b.avi");
  fs::copy_file(root + "/classes.txt", data / "classes.txt");
  struct Case {
    std::string name, text, expected;
  };
  const std::vector<Case> cases = {
      {"missing_column", "train/push/a.avi\n", ":1: expected at least 2 columns"},
      {"header_without_label", "path,difficulty\ntrain/push/a.avi,0.5\n",
       ":1: header has no 'label' column"},
      {"unknown_label", "train/push/a.avi,push\ntrain/push/b.avi,jump\n",
       ":2: unknown label 'jump'"},
      {"escapes_root", "train/push/a.avi,push\n../../etc/passwd,push\n",
       ":2: path '../../etc/passwd' leads outside the dataset root"},
      {"absolute_elsewhere", "/etc/passwd,push\n", ":1: path '/etc/passwd' leads outside"},
      {"the_root_itself", "train/push/a.avi,push\ntrain/..,push\n",
       ":2: path 'train/..' is the dataset root itself"},
      {"duplicate",
       "path,label\ntrain/push/a.avi,push\ntrain/push/b.avi,push\n"
       "train/push/./a.avi,push\n",
       ":4: 'train/push/./a.avi' with the same frames is listed twice (line 2 and here)"},
      {"utf16", std::string("\xFF\xFEp\0a\0t\0h\0", 10), ":1: the manifest is UTF-16 text"},
      {"latin1", "train/push/a.avi,push\ntrain/push/caf\xE9.avi,push\n",
       ":2: byte 0xE9 at column 15 is not valid UTF-8"},
      {"binary", std::string("train/push/a.avi,push\n\0\0\0\x01", 26), ":2: NUL byte at column 1"},
      {"unterminated_quote", "\"train/push/a.avi,push\n", ":1: unterminated quote"},
      {"bad_frames", "path,label,start_frame\ntrain/push/a.avi,push,-3\n",
       ":2: start_frame must be a non-negative integer, got '-3'"},
      {"empty", "# nothing but a comment\n", "manifest lists no sample"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const std::string manifest = (data / (c.name + ".csv")).string();
      test::write_file(manifest, c.text);
      const auto inspect = run_command(std::string(ADAPTIVE_DATA) + " inspect --data " + manifest +
                                       " --classes " + (data / "classes.txt").string());
      check_clear_failure(inspect, 1, c.expected);
      CHECK_THAT(inspect.output, Catch::Contains(manifest));
      const std::string config = test::write_tiny_config(dir, "config", [&](TrainConfig& t) {
        t.data.root = data.string();
        t.data.train = c.name + ".csv";
        t.data.classes = "classes.txt";
      });
      const auto train = run_command(std::string(ADAPTIVE_TRAIN) + " --config " + config +
                                     " --out " + dir.str("run_" + c.name));
      check_clear_failure(train, 1, c.expected);
      CHECK_FALSE(fs::exists(dir.path() / ("run_" + c.name) / "checkpoints"));
    }
  }
  SECTION("paths outside the root, allowed") {
    const std::string manifest = (data / "outside.csv").string();
    test::write_file(manifest, good_clip() + ",push\n");
    const auto r =
        run_command(std::string(ADAPTIVE_DATA) + " inspect --allow-outside-root --data " +
                    manifest + " --classes " + (data / "classes.txt").string());
    INFO(r.output);
    CHECK(r.rc == 0);
    CHECK_THAT(r.output, Catch::Contains("1 samples, 10 classes"));
  }
}

TEST_CASE("broken configs are named by file, key or line and column - exit 2",
          "[reliability][bad_input][slow]") {
  TempDir dir;
  struct Case {
    std::string name, text, expected;
  };
  const std::vector<Case> cases = {
      {"invalid_json", "{\n  \"train\": {\n    \"epochs\": 3,\n  }\n}\n",
       "invalid_json.json:4:3: invalid JSON"},
      {"empty", "", "empty.json:1:1: invalid JSON"},
      {"binary", random_bytes(300, 2), "binary.json:1:1: invalid JSON"},
      {"not_an_object", "[1, 2]", "top level: expected an object"},
      {"number_overflow", "{\"train\": {\"lr\": 1e400}}",
       "number_overflow.json:1:18: invalid JSON: number overflow parsing '1e400'"},
      {"unknown_key", R"({"trian": {"epochs": 3}})", "trian: unknown key, did you mean train?"},
      {"unknown_nested_key", R"({"train": {"epoch": 3}})", "train.epoch: unknown key"},
      {"wrong_type", R"({"train": {"epochs": "ten"}})",
       "train.epochs: expected an integer, got string \"ten\""},
      {"out_of_range", R"({"train": {"epochs": 0}})",
       "train.epochs: expected an integer in [1, 100000], got 0"},
      {"bad_choice", R"({"model": {"name": "resnet"}})", "model.name: expected one of"},
      {"conflicting_crop", R"({"data": {"crop": 100, "short_side": 50}})",
       "data.crop: expected at most data.short_side (50), got 100"},
      {"conflicting_widths", R"({"model": {"widths": [0.5, 0.25]}})",
       "model.widths: expected strictly ascending widths"},
      {"newer_schema", R"({"schema_version": 99})", "schema_version"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const std::string path = dir.str(c.name + ".json");
      test::write_file(path, c.text);
      const auto r = run_command(std::string(ADAPTIVE_TRAIN) + " --config " + path + " --out " +
                                 dir.str("run"));
      check_clear_failure(r, 2, c.expected);
      CHECK_THAT(r.output, Catch::Contains(path));
      CHECK_FALSE(fs::exists(dir.path() / "run"));
    }
  }
  SECTION("a folder, a missing file, a bad --set") {
    fs::create_directories(dir.path() / "folder.json");
    check_clear_failure(run_command(std::string(ADAPTIVE_TRAIN) + " --config " +
                                    dir.str("folder.json") + " --out " + dir.str("run")),
                        2, "folder.json: is a folder, expected a JSON config file");
    check_clear_failure(run_command(std::string(ADAPTIVE_TRAIN) + " --config " +
                                    dir.str("none.json") + " --out " + dir.str("run")),
                        2, "none.json: cannot open config file");
    const std::string config = test::write_tiny_config(dir, "tiny", [](TrainConfig&) {});
    check_clear_failure(run_command(std::string(ADAPTIVE_TRAIN) + " --config " + config +
                                    " --set train.epochs=abc --out " + dir.str("run")),
                        2,
                        "--set 'train.epochs=abc' (over " + config +
                            "): train.epochs: expected an integer, got string \"abc\"");
    check_clear_failure(run_command(std::string(ADAPTIVE_TRAIN) + " --config " + config +
                                    " --set 'data.root=caf\xE9' --out " + dir.str("run")),
                        2, "--set 'data.root=caf\\xE9': not valid UTF-8 text");
    CHECK_FALSE(fs::exists(dir.path() / "run"));
  }
}

TEST_CASE("broken models and checkpoints are refused by adaptive-infer and export - exit 1",
          "[reliability][bad_input][slow]") {
  TempDir dir;
  const std::string run = test::tiny_trained_run();
  const std::string model = test::read_file(run + "/model.pt");
  const std::string checkpoint = test::read_file(run + "/checkpoints/final.pt");
  std::vector<BadFile> models, checkpoints;
  auto add = [&](std::vector<BadFile>& to, const std::string& name, const std::string& bytes,
                 const std::string& expected) {
    test::write_file(dir.path() / name, bytes);
    to.push_back({dir.str(name), expected});
  };
  add(models, "truncated.pt", model.substr(0, model.size() / 2),
      "not a loadable TorchScript file (truncated or corrupt?)");
  add(models, "random.pt", random_bytes(50000, 3), "not a loadable TorchScript file");
  add(models, "empty.pt", "", "not a loadable TorchScript file");
  {  // TorchScript, but not ours.
    torch::jit::Module plain("__torch__.Plain");
    plain.define("def forward(self, x: Tensor) -> Tensor:\n    return x\n");
    plain.save(dir.str("plain.pt"));
    models.push_back({dir.str("plain.pt"), "has no adaptive.json"});
  }
  {  // Ours, with metadata from a newer toolkit, or disagreeing with the module.
    torch::jit::ExtraFilesMap extra{{"adaptive.json", ""}};
    torch::jit::Module module = torch::jit::load(run + "/model.pt", c10::kCPU, extra);
    json newer = json::parse(extra["adaptive.json"]);
    newer["format_version"] = 7;
    module.save(dir.str("newer.pt"), {{"adaptive.json", newer.dump()}});
    models.push_back({dir.str("newer.pt"), "format_version 7 is not supported"});
    json widths = json::parse(extra["adaptive.json"]);
    widths["widths"] = {0.25, 1.0};
    module.save(dir.str("widths.pt"), {{"adaptive.json", widths.dump()}});
    models.push_back({dir.str("widths.pt"),
                      "adaptive.json lists widths [0.25,1.0], the module holds [0.5,1.0]"});
    module.save(dir.str("not_json.pt"), {{"adaptive.json", "{\"format_version\": 1,"}});
    models.push_back({dir.str("not_json.pt"), "adaptive.json"});
  }
  models.push_back({run + "/checkpoints/final.pt", "has no adaptive.json"});
  fs::create_directories(dir.path() / "folder.pt");
  models.push_back({dir.str("folder.pt"), "not a file"});

  for (const BadFile& m : models) {
    SECTION("model " + fs::path(m.path).filename().string()) {
      const auto r = run_command(std::string(ADAPTIVE_INFER) + " --model " + m.path + " --input " +
                                 good_clip() + " --quiet --output " + dir.str("out.jsonl"));
      check_clear_failure(r, 1, m.expected);
      CHECK_THAT(r.output, Catch::Contains(m.path));
      CHECK_FALSE(fs::exists(dir.path() / "out.jsonl"));
    }
  }

  add(checkpoints, "truncated_ckpt.pt", checkpoint.substr(0, checkpoint.size() * 2 / 3),
      "not a readable checkpoint (truncated or corrupt?)");
  add(checkpoints, "random_ckpt.pt", random_bytes(50000, 4), "not a readable checkpoint");
  checkpoints.push_back({run + "/model.pt", "not a training checkpoint of this toolkit"});
  checkpoints.push_back({dir.str("folder.pt"), "is a folder, not a checkpoint"});
  for (const BadFile& c : checkpoints) {
    SECTION("checkpoint " + fs::path(c.path).filename().string()) {
      const auto r = run_command(std::string(ADAPTIVE_TRAIN) + " export --checkpoint " + c.path +
                                 " --out " + dir.str("exported.pt"));
      check_clear_failure(r, 1, c.expected);
      CHECK_THAT(r.output, Catch::Contains(c.path));
      CHECK_FALSE(fs::exists(dir.path() / "exported.pt"));
      // The same file as the checkpoint a run resumes from.
      const std::string config = test::write_tiny_config(dir, "tiny", [](TrainConfig&) {});
      const auto resume = run_command(std::string(ADAPTIVE_TRAIN) + " --config " + config +
                                      " --out " + dir.str("resumed") + " --resume " + c.path);
      check_clear_failure(resume, 1, c.expected);
    }
  }
}
