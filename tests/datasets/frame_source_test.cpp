#include "datasets/frame_source.h"

#include <filesystem>

#include <catch2/catch.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "datasets/errors.h"
#include "test_support.h"

using namespace adaptive;
using adaptive::test::TempDir;
namespace fs = std::filesystem;

namespace {

// Writes `n` frames of a moving square as an MJPG AVI; returns the frames (RGB).
std::vector<cv::Mat> write_test_video(const std::string& path, int n, double fps = 16) {
  cv::VideoWriter writer(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps, cv::Size(64, 48));
  REQUIRE(writer.isOpened());
  std::vector<cv::Mat> rgb;
  for (int i = 0; i < n; ++i) {
    cv::Mat bgr(48, 64, CV_8UC3, cv::Scalar(20, 120, 220));  // B, G, R
    cv::rectangle(bgr, cv::Rect(2 * i % 50, 10, 12, 12), cv::Scalar(255, 255, 255), -1);
    writer.write(bgr);
    cv::Mat f;
    cv::cvtColor(bgr, f, cv::COLOR_BGR2RGB);
    rgb.push_back(f);
  }
  return rgb;
}

std::string bad_sample_message(const std::string& path) {
  try {
    auto source = open_frame_source(path);
    decode_frames(*source);
  } catch (const BadSampleError& e) {
    CHECK(e.path() == path);
    return e.what();
  }
  FAIL("no BadSampleError for " << path);
  return "";
}

}  // namespace

TEST_CASE("a video file decodes to RGB frames at its rate", "[datasets][decode]") {
  TempDir dir;
  const auto written = write_test_video(dir.str("clip.avi"), 20);
  auto source = open_frame_source(dir.str("clip.avi"));
  CHECK(source->fps() == Approx(16));
  CHECK(source->announced_frames() == 20);
  const DecodedFrames d = decode_frames(*source);
  REQUIRE(d.frames.size() == 20);
  for (size_t i = 0; i < d.frames.size(); ++i) {
    REQUIRE(d.frames[i].type() == CV_8UC3);
    // MJPG is lossy: compare means, and check the channel order is RGB.
    const cv::Scalar got = cv::mean(d.frames[i]), want = cv::mean(written[i]);
    for (int c = 0; c < 3; ++c) CHECK(got[c] == Approx(want[c]).margin(3));
  }
  CHECK(cv::mean(d.frames[0])[0] > cv::mean(d.frames[0])[2]);  // red > blue
}

TEST_CASE("a frame range decodes only those frames", "[datasets][decode]") {
  TempDir dir;
  write_test_video(dir.str("clip.avi"), 20);
  auto source = open_frame_source(dir.str("clip.avi"));
  const DecodedFrames d = decode_frames(*source, 5, 9);
  CHECK(d.frames.size() == 5);
  CHECK(d.first == 5);
  auto again = open_frame_source(dir.str("clip.avi"));
  CHECK_THROWS_WITH(decode_frames(*again, 5, 30),
                    Catch::Contains("end_frame 30 is past the last frame (19)"));
  // Each frame converted as it is decoded (the cache's resize).
  auto small = open_frame_source(dir.str("clip.avi"));
  const DecodedFrames s = decode_frames(*small, 5, 9, [](const cv::Mat& f) {
    cv::Mat out;
    cv::resize(f, out, cv::Size(8, 6), 0, 0, cv::INTER_AREA);
    return out;
  });
  REQUIRE(s.frames.size() == 5);
  for (size_t i = 0; i < s.frames.size(); ++i) {
    CHECK(s.frames[i].size() == cv::Size(8, 6));
    CHECK(cv::mean(s.frames[i])[0] == Approx(cv::mean(d.frames[i])[0]).margin(3));
  }
}

TEST_CASE("a frame folder decodes in file-name order, grayscale converted", "[datasets][decode]") {
  TempDir dir;
  fs::create_directories(dir.path() / "clip");
  // Written out of order; names sort as 00001 < 00002 < 00010.
  for (int i : {10, 1, 2}) {
    cv::Mat gray(24, 32, CV_8UC1, cv::Scalar(i * 20));
    char name[32];
    std::snprintf(name, sizeof name, "%05d.png", i);
    REQUIRE(cv::imwrite(dir.str("clip/") + name, gray));
  }
  test::write_file(dir.path() / "clip" / "notes.txt", "ignored");
  auto source = open_frame_source(dir.str("clip"), 12);
  CHECK(source->fps() == 12);
  const DecodedFrames d = decode_frames(*source);
  REQUIRE(d.frames.size() == 3);
  CHECK(d.frames[0].type() == CV_8UC3);
  CHECK(d.frames[0].at<cv::Vec3b>(0, 0) == cv::Vec3b(20, 20, 20));
  CHECK(d.frames[1].at<cv::Vec3b>(0, 0) == cv::Vec3b(40, 40, 40));
  CHECK(d.frames[2].at<cv::Vec3b>(0, 0) == cv::Vec3b(200, 200, 200));
}

TEST_CASE("memory frame source serves frames without files", "[datasets][decode]") {
  std::vector<cv::Mat> frames(3, cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)));
  auto source = memory_frame_source(frames, 30, "synthetic");
  const DecodedFrames d = decode_frames(*source);
  CHECK(d.frames.size() == 3);
  CHECK(d.fps == 30);
}

TEST_CASE("bad videos raise BadSampleError naming the file and the fault",
          "[datasets][decode][bad]") {
  TempDir dir;
  SECTION("missing file") {
    CHECK(bad_sample_message(dir.str("nope.avi")) ==
          dir.str("nope.avi") + ": no such file or folder");
  }
  SECTION("empty file") {
    test::write_file(dir.path() / "empty.avi", "");
    CHECK(bad_sample_message(dir.str("empty.avi")) ==
          dir.str("empty.avi") + ": empty file (0 bytes)");
  }
  SECTION("random bytes with a video extension") {
    std::string junk(4096, '\0');
    for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 7919 + 13) % 251);
    test::write_file(dir.path() / "junk.mp4", junk);
    CHECK_THAT(bad_sample_message(dir.str("junk.mp4")),
               Catch::Contains("cannot open as a video (unreadable, corrupt or not a video)"));
  }
  SECTION("a text file") {
    test::write_file(dir.path() / "readme.avi", "this is not a video\n");
    CHECK_THAT(bad_sample_message(dir.str("readme.avi")),
               Catch::Contains("cannot open as a video"));
  }
  SECTION("truncated file") {
    write_test_video(dir.str("full.avi"), 40);
    const auto size = fs::file_size(dir.str("full.avi"));
    fs::copy_file(dir.str("full.avi"), dir.str("cut.avi"));
    fs::resize_file(dir.str("cut.avi"), size * 2 / 5);
    CHECK_THAT(bad_sample_message(dir.str("cut.avi")),
               Catch::Matches(".*cut\\.avi: truncated or corrupt: decoded [0-9]+ of 40 frames the "
                              "container announces"));
  }
  SECTION("frame folder without frames") {
    fs::create_directories(dir.path() / "clip");
    CHECK(bad_sample_message(dir.str("clip")) ==
          dir.str("clip") + ": frame folder holds no .jpg/.png frames");
  }
  SECTION("unreadable frame image") {
    test::write_file(dir.path() / "clip" / "00001.jpg", "not a jpeg");
    CHECK(bad_sample_message(dir.str("clip")) ==
          dir.str("clip") + ": cannot decode frame image 00001.jpg");
  }
}
