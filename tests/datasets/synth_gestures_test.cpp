#include "datasets/synth_gestures.h"

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "datasets/dataset_index.h"
#include "datasets/frame_source.h"
#include "test_support.h"

using namespace adaptive;
using adaptive::test::TempDir;
namespace fs = std::filesystem;

TEST_CASE("synth writes splits, manifests, class list and streams that the pipeline reads",
          "[datasets][synth]") {
  TempDir dir;
  const SynthOptions o = test::tiny_synth_options(dir.str("out"));
  const SynthSummary s = generate_synth_gestures(o);
  CHECK(s.clips[0] == 20);
  CHECK(s.clips[1] == 10);
  CHECK(s.clips[2] == 10);
  CHECK(s.classes.size() == 10);
  CHECK_FALSE(fs::exists(dir.str(".out.partial")));

  const auto classes = read_class_list(dir.str("out/classes.txt"));
  CHECK(classes == synth_gesture_classes());
  // Both layouts index the same training clips.
  const DatasetIndex manifest = read_manifest(dir.str("out/train.csv"), classes);
  const DatasetIndex folders = index_class_folders(dir.str("out/train"), classes);
  REQUIRE(manifest.samples.size() == 20);
  REQUIRE(folders.samples.size() == 20);
  for (size_t i = 0; i < 20; ++i) {
    CHECK(fs::equivalent(manifest.samples[i].path, folders.samples[i].path));
    CHECK(manifest.samples[i].label == folders.samples[i].label);
    const double d = std::stod(manifest.samples[i].extra.at("difficulty"));
    CHECK(d >= 0);
    CHECK(d <= 1);
  }
  // Stratified difficulty: of each class's two clips, one is below 0.5, one above.
  CHECK(std::stod(manifest.samples[0].extra.at("difficulty")) < 0.5);
  CHECK(std::stod(manifest.samples[1].extra.at("difficulty")) >= 0.5);

  auto source = open_frame_source(manifest.samples[0].path);
  const DecodedFrames clip = decode_frames(*source);
  CHECK(clip.frames.size() == 16);
  CHECK(clip.frames[0].size() == cv::Size(64, 48));
  CHECK(clip.fps == Approx(16));

  // A stream to train on, one to tune on and one to report on, rendered apart.
  CHECK(s.train_streams == 1);
  CHECK(s.val_streams == 1);
  CHECK(s.test_streams == 1);
  const std::string val_timeline = test::read_file(dir.str("out/streams/val/stream_000.json"));
  REQUIRE_FALSE(val_timeline.empty());
  CHECK(val_timeline != test::read_file(dir.str("out/streams/test/stream_000.json")));
  CHECK(val_timeline != test::read_file(dir.str("out/streams/train/stream_000.json")));
  CHECK(test::read_file(dir.str("out/streams/val/stream_000.avi")) !=
        test::read_file(dir.str("out/streams/test/stream_000.avi")));

  // The stream and its timeline: segments in order, covering the video.
  auto stream = open_frame_source(dir.str("out/streams/test/stream_000.avi"));
  const int64_t frames = static_cast<int64_t>(decode_frames(*stream).frames.size());
  CHECK(frames == 96);
  const auto timeline =
      nlohmann::json::parse(test::read_file(dir.str("out/streams/test/stream_000.json")));
  REQUIRE(timeline.is_array());
  REQUIRE(timeline.size() >= 3);
  double end = 0;
  int gestures = 0;
  for (const auto& seg : timeline) {
    CHECK(seg.at("start_s").get<double>() == Approx(end));
    end = seg.at("end_s").get<double>();
    CHECK(end > seg.at("start_s").get<double>());
    const std::string label = seg.at("label");
    CHECK(std::find(classes.begin(), classes.end(), label) != classes.end());
    gestures += label != "no_gesture";
  }
  CHECK(end == Approx(6.0));
  CHECK(gestures >= 1);
  CHECK(timeline.front().at("label") == "no_gesture");

  const auto meta = nlohmann::json::parse(test::read_file(dir.str("out/synth.json")));
  CHECK(meta.at("seed") == 7);
  CHECK(meta.at("splits").at("train") == 20);
}

TEST_CASE("synth is deterministic by seed", "[datasets][synth]") {
  TempDir dir;
  SynthOptions a = test::tiny_synth_options(dir.str("a"), 3);
  SynthOptions b = test::tiny_synth_options(dir.str("b"), 3);
  SynthOptions c = test::tiny_synth_options(dir.str("c"), 4);
  b.threads = 1;
  for (auto* o : {&a, &b, &c}) o->train_streams = o->val_streams = o->test_streams = 0;
  generate_synth_gestures(a);
  generate_synth_gestures(b);
  generate_synth_gestures(c);
  CHECK(test::read_file(dir.str("a/train.csv")) == test::read_file(dir.str("b/train.csv")));
  CHECK(test::read_file(dir.str("a/train/shake/shake_00001.avi")) ==
        test::read_file(dir.str("b/train/shake/shake_00001.avi")));
  CHECK(test::read_file(dir.str("a/train.csv")) != test::read_file(dir.str("c/train.csv")));
}

TEST_CASE("difficulty makes clips harder to read", "[datasets][synth]") {
  SynthOptions o = test::tiny_synth_options("unused");
  o.width = 160;
  o.height = 120;
  // Noise: neighbouring pixels differ more in hard clips. Averaged over seeds.
  auto roughness = [&](double difficulty) {
    double total = 0;
    for (uint64_t seed = 0; seed < 6; ++seed) {
      const auto frames = render_synth_clip(/*swipe_left*/ 0, difficulty, seed, o);
      REQUIRE(frames.size() == 16);
      cv::Mat gray, dx;
      cv::cvtColor(frames[8], gray, cv::COLOR_BGR2GRAY);
      cv::Sobel(gray, dx, CV_32F, 1, 0);
      total += cv::mean(cv::abs(dx))[0];
    }
    return total;
  };
  CHECK(roughness(0.9) > 2 * roughness(0.05));
  // Same seed, same frames.
  const auto x = render_synth_clip(4, 0.5, 99, o), y = render_synth_clip(4, 0.5, 99, o);
  CHECK(cv::norm(x[10], y[10]) == 0);
}

TEST_CASE("synth refuses to overwrite and validates options", "[datasets][synth][bad]") {
  TempDir dir;
  fs::create_directories(dir.str("exists"));
  SynthOptions o = test::tiny_synth_options(dir.str("exists"));
  CHECK_THROWS_WITH(generate_synth_gestures(o),
                    dir.str("exists") + ": already exists (pass --overwrite to replace it)");
  o.out_dir = dir.str("new");
  o.frames = 2;
  CHECK_THROWS_WITH(generate_synth_gestures(o), "frames per clip must be in [4, 10000]");
  CHECK_FALSE(fs::exists(dir.str("new")));
}

TEST_CASE("synth --overwrite replaces a dataset whole and leaves no sibling behind",
          "[datasets][synth]") {
  TempDir dir;
  SynthOptions o = test::tiny_synth_options(dir.str("data"), 7);
  generate_synth_gestures(o);
  test::write_file(dir.path() / "data" / "mine.txt", "a file of the old dataset\n");
  // A render that fails (bad options) leaves the old dataset as it was.
  SynthOptions bad = o;
  bad.overwrite = true;
  bad.frames = 2;
  CHECK_THROWS(generate_synth_gestures(bad));
  CHECK(fs::exists(dir.path() / "data" / "mine.txt"));
  o.overwrite = true;
  o.seed = 8;
  generate_synth_gestures(o);
  CHECK_FALSE(fs::exists(dir.path() / "data" / "mine.txt"));
  CHECK(nlohmann::json::parse(test::read_file(dir.str("data/synth.json")))["seed"] == 8);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) names.push_back(e.path().filename());
  CHECK(names == std::vector<std::string>{"data"});
}
