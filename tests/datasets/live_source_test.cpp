#include "datasets/live_source.h"

#include <chrono>

#include <catch2/catch.hpp>
#include "common/clock.h"
#include "datasets/errors.h"

#include "test_support.h"

using namespace adaptive;

TEST_CASE("inputs that name streams and cameras", "[datasets][live]") {
  CHECK(is_stream_url("http://127.0.0.1:8080/live.ts"));
  CHECK(is_stream_url("rtsp://camera.local/stream1"));
  CHECK(is_stream_url("udp://@239.0.0.1:1234"));
  CHECK_FALSE(is_stream_url("clips/a.avi"));
  CHECK_FALSE(is_stream_url("://nothing"));
  CHECK_FALSE(is_stream_url("weird dir://x"));
  CHECK(camera_index("/dev/video0") == 0);
  CHECK(camera_index("/dev/video12") == 12);
  CHECK(camera_index("2") == 2);
  CHECK_FALSE(camera_index("/dev/videoX").has_value());
  CHECK_FALSE(camera_index("clip.avi").has_value());
  CHECK_FALSE(camera_index("").has_value());
  // A bare number that is also a file or folder here is that file.
  test::TempDir dir;
  test::write_file(dir.path() / "7", "x");
  CHECK(camera_index(dir.str("7")) == std::nullopt);
  CHECK(is_live_input("/dev/video1"));
  CHECK_FALSE(is_live_input("data/synth/streams/test/stream_000.avi"));
}

TEST_CASE("a paced source delivers frames at their own rate", "[datasets][live]") {
  std::vector<cv::Mat> frames(11, cv::Mat(8, 8, CV_8UC3, cv::Scalar::all(0)));
  auto paced = paced_source(memory_frame_source(frames, 50));
  CHECK(paced->live());
  CHECK(paced->fps() == 50);
  const auto start = Clock::now();
  cv::Mat f;
  int n = 0;
  while (paced->read(f)) ++n;
  const double took = seconds_since(start);
  CHECK(n == 11);
  CHECK(took >= 0.2);  // frame 10 is due 10 / 50 s after frame 0
}

TEST_CASE("live source options and inputs are checked", "[datasets][live][bad-input]") {
  LiveSourceOptions bad;
  bad.connect_timeout_s = 0;
  CHECK_THROWS_AS(open_live_source("http://127.0.0.1:1/x", bad), std::invalid_argument);
  CHECK_THROWS_WITH(open_live_source("clip.avi", {}),
                    Catch::Contains("not a stream URL (scheme://...) or a camera"));
  CHECK_THROWS_AS(open_live_source("/dev/video999", {}), BadSampleError);
}
