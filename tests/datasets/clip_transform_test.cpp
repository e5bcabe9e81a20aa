#include "datasets/clip_transform.h"

#include <cmath>

#include <ATen/ATen.h>
#include <catch2/catch.hpp>
#include <opencv2/imgproc.hpp>

using namespace adaptive;

namespace {

// A frame whose pixel (y, x) is (x, y, 100) in RGB: positions are readable.
cv::Mat coordinate_frame(int h, int w) {
  cv::Mat f(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) f.at<cv::Vec3b>(y, x) = cv::Vec3b(x, y, 100);
  }
  return f;
}

ClipTransformOptions identity_options(int short_side, int crop) {
  ClipTransformOptions o;
  o.short_side = short_side;
  o.crop_height = o.crop_width = crop;
  o.brightness = o.contrast = 0;
  o.mean = {0, 0, 0};
  o.std = {1, 1, 1};
  return o;
}

}  // namespace

TEST_CASE("resize scales the short side, keeping the aspect ratio", "[datasets][transform]") {
  ClipTransform t(identity_options(60, 32));
  CHECK(t.resize(cv::Mat(120, 160, CV_8UC3)).size() == cv::Size(80, 60));
  CHECK(t.resize(cv::Mat(160, 120, CV_8UC3)).size() == cv::Size(60, 80));
  CHECK(t.resize(cv::Mat(30, 40, CV_8UC3)).size() == cv::Size(80, 60));
}

TEST_CASE("shrinking by an integer factor averages each box of pixels", "[datasets][transform]") {
  // 160x120 in 8x8 blocks of one colour each, to a short side of 15: 20x15,
  // a factor of 8, so each output pixel is its block's colour.
  const auto block = [](int bx, int by) {
    return cv::Vec3b(static_cast<uint8_t>(10 * bx), static_cast<uint8_t>(15 * by),
                     static_cast<uint8_t>((7 * bx + 11 * by) % 200));
  };
  cv::Mat frame(120, 160, CV_8UC3);
  for (int y = 0; y < 120; ++y) {
    for (int x = 0; x < 160; ++x) frame.at<cv::Vec3b>(y, x) = block(x / 8, y / 8);
  }
  const cv::Mat out = ClipTransform(identity_options(15, 8)).resize(frame);
  REQUIRE(out.size() == cv::Size(20, 15));
  int wrong = 0;
  for (int y = 0; y < 15; ++y) {
    for (int x = 0; x < 20; ++x) wrong += out.at<cv::Vec3b>(y, x) != block(x, y);
  }
  CHECK(wrong == 0);
}

TEST_CASE("shrinking at a non-integer scale stays near OpenCV's area resize",
          "[datasets][transform]") {
  // 768x576 to a short side of 56 (75x56): a box of 8 (96x72), then the rest.
  cv::Mat frame(576, 768, CV_8UC3);
  for (int y = 0; y < frame.rows; ++y) {
    for (int x = 0; x < frame.cols; ++x) {
      frame.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uint8_t>(x / 3), static_cast<uint8_t>(y * 255 / 575),
                    static_cast<uint8_t>(128 + 100 * std::sin(x * 0.02 + y * 0.03)));
    }
  }
  const cv::Mat out = ClipTransform(identity_options(56, 48)).resize(frame);
  REQUIRE(out.size() == cv::Size(75, 56));
  cv::Mat area, diff;
  cv::resize(frame, area, out.size(), 0, 0, cv::INTER_AREA);
  cv::absdiff(out, area, diff);
  double most = 0;
  cv::minMaxLoc(diff.reshape(1), nullptr, &most);
  CHECK(most <= 6);
  CHECK(cv::mean(diff.reshape(1))[0] < 1.0);
}

TEST_CASE("evaluation: centre crop, pixels to [0,1], layout [3,T,H,W]", "[datasets][transform]") {
  ClipTransform t(identity_options(20, 4));
  const cv::Mat f = coordinate_frame(20, 30);
  Rng rng(1);
  const TransformedClip clip = t.apply({&f, &f}, 3, /*train=*/false, rng);
  REQUIRE(clip.data.sizes() == at::IntArrayRef({3, 2, 4, 4}));
  CHECK(clip.label == 3);
  // Centre crop of 30x20 at 4x4 starts at x=13, y=8.
  CHECK(clip.data[0][1][0][0].item<float>() == Approx(13 / 255.0));
  CHECK(clip.data[1][1][0][0].item<float>() == Approx(8 / 255.0));
  CHECK(clip.data[0][0][3][3].item<float>() == Approx(16 / 255.0));
  CHECK(clip.data[2][0][2][1].item<float>() == Approx(100 / 255.0));
}

TEST_CASE("one evaluation frame is exactly its slice of the evaluation clip",
          "[datasets][transform]") {
  ClipTransformOptions o = identity_options(20, 6);
  o.mean = {0.4, 0.5, 0.6};
  o.std = {0.2, 0.3, 0.4};
  ClipTransform t(o);
  const cv::Mat a = coordinate_frame(20, 31), b = coordinate_frame(20, 31) * 0.5;
  Rng rng(1);
  const at::Tensor clip = t.apply({&a, &b}, 0, /*train=*/false, rng).data;
  const at::Tensor frame = t.apply_frame(b);
  REQUIRE(frame.sizes() == at::IntArrayRef({3, 6, 6}));
  CHECK(frame.equal(clip.select(1, 1)));
  CHECK_FALSE(frame.equal(clip.select(1, 0)));
  CHECK_THROWS_WITH(t.apply_frame(coordinate_frame(5, 31)),
                    Catch::Contains("frame 31x5 is smaller than the crop 6x6"));
}

TEST_CASE("normalisation uses mean and std per channel", "[datasets][transform]") {
  ClipTransformOptions o = identity_options(8, 8);
  o.mean = {0.5f, 0.25f, 0.0f};
  o.std = {0.5f, 0.25f, 2.0f};
  ClipTransform t(o);
  const cv::Mat f(8, 8, CV_8UC3, cv::Scalar(255, 0, 51));
  Rng rng(1);
  const at::Tensor x = t.apply({&f}, 0, false, rng).data;
  CHECK(x[0].mean().item<float>() == Approx(1.0));
  CHECK(x[1].mean().item<float>() == Approx(-1.0));
  CHECK(x[2].mean().item<float>() == Approx(0.1));
}

TEST_CASE("horizontal flip mirrors the clip and maps its label", "[datasets][transform]") {
  ClipTransformOptions o = identity_options(8, 8);
  o.horizontal_flip = true;
  o.flip_label_map = {1, 0, 2};
  ClipTransform t(o);
  const cv::Mat f = coordinate_frame(8, 8);
  int flipped = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Rng rng(seed);
    const TransformedClip clip = t.apply({&f}, 0, /*train=*/true, rng);
    const float left = clip.data[0][0][0][0].item<float>() * 255;
    if (clip.label == 1) {
      ++flipped;
      CHECK(left == Approx(7));
    } else {
      CHECK(clip.label == 0);
      CHECK(left == Approx(0));
    }
  }
  CHECK(flipped > 5);
  CHECK(flipped < 35);
  // Flip is off by default and never applied in evaluation.
  Rng rng(3);
  CHECK(t.apply({&f}, 0, false, rng).label == 0);
}

TEST_CASE("training crop and jitter are random, the same for the same seed",
          "[datasets][transform]") {
  ClipTransformOptions o = identity_options(16, 8);
  o.brightness = 0.4;
  o.contrast = 0.4;
  ClipTransform t(o);
  const cv::Mat f = coordinate_frame(16, 24);
  Rng a(11), b(11), c(12);
  const at::Tensor x = t.apply({&f, &f}, 0, true, a).data;
  CHECK(at::equal(x, t.apply({&f, &f}, 0, true, b).data));
  CHECK_FALSE(at::equal(x, t.apply({&f, &f}, 0, true, c).data));
  CHECK(at::equal(x[0][0], x[0][1]));  // one crop and jitter for every frame of a clip
  CHECK(x.min().item<float>() >= 0);
  CHECK(x.max().item<float>() <= 1);
}

TEST_CASE("transform options are validated", "[datasets][transform]") {
  ClipTransformOptions o = identity_options(100, 112);
  CHECK_THROWS_WITH(ClipTransform(o), "short_side 100 is smaller than the crop 112x112");
  o = identity_options(128, 112);
  o.horizontal_flip = true;
  CHECK_THROWS_WITH(ClipTransform(o),
                    "horizontal_flip needs a flip label map (mirror class per class)");
  o = identity_options(128, 112);
  o.std = {1, 0, 1};
  CHECK_THROWS_WITH(ClipTransform(o), "normalisation std must be > 0");
}
