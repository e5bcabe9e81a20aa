#include "datasets/stream_samples.h"

#include <catch2/catch.hpp>
#include <opencv2/videoio.hpp>

#include "datasets/errors.h"
#include "test_support.h"

using namespace adaptive;
using adaptive::test::TempDir;

namespace {

ClipSamplerOptions clip_of(int frames, double stride) {
  ClipSamplerOptions o;
  o.frames = frames;
  o.frame_stride = stride;
  return o;
}

}  // namespace

TEST_CASE("a stream's segments become samples whose clips are centred in them",
          "[datasets][streams]") {
  // 5 s at 10 fps: idle, push, idle; clips of 4 frames at stride 2 span 7
  // frames (first to last 6 apart), their middle 3 frames after their start.
  const std::vector<TimelineSegment> timeline = {
      {"no_gesture", 0, 2}, {"push", 2, 3}, {"no_gesture", 3, 5}};
  const std::vector<std::string> classes = {"no_gesture", "push"};
  const auto samples = stream_samples("s.avi", timeline, "s.json", 10, 50, clip_of(4, 2), classes);
  REQUIRE(samples.size() == 3);
  // Starts x with x + 3 in [a, b), so x in [a - 3, b - 4], and 6 frames more.
  CHECK(samples[0].start_frame == 0);  // not before the first frame
  CHECK(samples[0].end_frame == 16 + 6);
  CHECK(samples[1].start_frame == 17);
  CHECK(samples[1].end_frame == 26 + 6);
  CHECK(samples[2].start_frame == 27);
  CHECK(samples[2].end_frame == 49);  // not past the last frame
  CHECK(samples[0].label == 0);
  CHECK(samples[1].label == 1);
  CHECK(samples[2].path == "s.avi");

  // Every clip the sampler cuts from a sample has its middle in the segment.
  const ClipSampler sampler(clip_of(4, 2));
  for (size_t k = 0; k < samples.size(); ++k) {
    const int64_t n = samples[k].end_frame - samples[k].start_frame + 1;
    for (uint64_t seed = 0; seed < 200; ++seed) {
      Rng rng(seed);
      const auto clip = sampler.random_clip(n, 10, rng);
      const double middle = samples[k].start_frame + (clip.front() + clip.back()) / 2.0;
      CHECK(middle >= timeline[k].start_s * 10);
      CHECK(middle < timeline[k].end_s * 10);
    }
  }

  // A segment too short for a centred clip at the stream's end is left out;
  // a label the dataset lacks is an error naming the segment.
  CHECK(stream_samples("s.avi", {{"push", 0, 4.8}, {"no_gesture", 4.8, 5}}, "s.json", 10, 50,
                       clip_of(4, 2), classes)
            .size() == 1);
  CHECK_THROWS_WITH(stream_samples("s.avi", {{"no_gesture", 0, 2}, {"wave", 2, 3}}, "s.json", 10,
                                   50, clip_of(4, 2), classes),
                    "s.json: [1]: label 'wave' is not a class of the dataset");
}

TEST_CASE("a folder of streams adds its samples to a dataset", "[datasets][streams]") {
  TempDir dir;
  const cv::Size size(32, 24);
  std::filesystem::create_directories(dir.path() / "streams");
  cv::VideoWriter out(dir.str("streams/s0.avi"), cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10,
                      size);
  REQUIRE(out.isOpened());
  for (int f = 0; f < 50; ++f) out.write(cv::Mat(size, CV_8UC3, cv::Scalar::all(f * 4)));
  out.release();
  test::write_file(dir.str("streams/s0.json"),
                   R"([{"label": "no_gesture", "start_s": 0, "end_s": 2},
                       {"label": "push", "start_s": 2, "end_s": 3},
                       {"label": "no_gesture", "start_s": 3, "end_s": 5}])");
  test::write_file(dir.str("streams/notes.txt"), "no timeline beside it: not a stream\n");
  DatasetIndex index;
  index.classes = {"no_gesture", "push"};
  CHECK(add_stream_samples(index, dir.str("streams"), clip_of(4, 2)) == 3);
  REQUIRE(index.samples.size() == 3);
  CHECK(index.samples[1].path == dir.str("streams/s0.avi"));
  CHECK(index.samples[1].label == 1);

  CHECK_THROWS_WITH(add_stream_samples(index, dir.str("none"), clip_of(4, 2)),
                    dir.str("none") + ": stream folder not found");
  std::filesystem::create_directories(dir.path() / "empty");
  CHECK_THROWS_WITH(add_stream_samples(index, dir.str("empty"), clip_of(4, 2)),
                    dir.str("empty") + ": no stream video with a timeline (<name>.json) beside it");
}
