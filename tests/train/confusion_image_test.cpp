#include "train/confusion_image.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace adaptive;

namespace {

// Pixels of `image` exactly of colour `bgr`.
int count_colour(const cv::Mat& image, const cv::Vec3b& bgr) {
  int n = 0;
  for (int y = 0; y < image.rows; ++y)
    for (int x = 0; x < image.cols; ++x) n += image.at<cv::Vec3b>(y, x) == bgr;
  return n;
}

WidthReport width_with(double width, std::vector<std::vector<int64_t>> confusion) {
  WidthReport w;
  w.width = width;
  w.confusion = std::move(confusion);
  return w;
}

}  // namespace

TEST_CASE("confusion image: a panel per width, cells shaded by their share of the row",
          "[train][confusion]") {
  test::TempDir dir;
  const cv::Vec3b full(120, 45, 15), absent(230, 225, 235);
  // Two classes: at 0.5x every clip right, at 1x the second class absent.
  write_confusion_png(dir.str("c.png"), {"swipe_left", "swipe_right"},
                      {width_with(0.5, {{5, 0}, {0, 5}}), width_with(1.0, {{4, 0}, {0, 0}})});
  const cv::Mat two = cv::imread(dir.str("c.png"));
  REQUIRE(!two.empty());
  // 32-pixel cells: three cells of share 1 (their counts drawn in white
  // inside), one absent row of two cells.
  const int cell = 32 * 32;
  CHECK(count_colour(two, full) > 3 * cell * 8 / 10);
  CHECK(count_colour(two, full) <= 3 * cell);
  CHECK(count_colour(two, absent) == 2 * cell);

  // Hundreds of classes: a pixel a cell, and the whole matrix still drawn.
  const int n = 700;
  std::vector<std::vector<int64_t>> diagonal(n, std::vector<int64_t>(n, 0));
  for (int c = 0; c < n; ++c) diagonal[c][c] = 3;
  std::vector<std::string> classes;
  for (int c = 0; c < n; ++c) classes.push_back("class_" + std::to_string(c));
  write_confusion_png(dir.str("many.png"), classes, {width_with(1.0, diagonal)});
  const cv::Mat many = cv::imread(dir.str("many.png"));
  REQUIRE(!many.empty());
  CHECK(many.cols > n);
  CHECK(count_colour(many, full) == n);
}

TEST_CASE("confusion image: a matrix of the wrong size or an unwritable path is refused",
          "[train][confusion]") {
  test::TempDir dir;
  CHECK_THROWS_WITH(
      write_confusion_png(dir.str("c.png"), {"a", "b", "c"}, {width_with(0.25, {{1, 0}, {0, 1}})}),
      Catch::Contains("width 0.25") && Catch::Contains("3 x 3 confusion matrix"));
  CHECK_THROWS_WITH(
      write_confusion_png(dir.str("no/such/folder/c.png"), {"a"}, {width_with(1.0, {{1}})}),
      Catch::Contains("no/such/folder/c.png"));
  CHECK_THROWS_WITH(write_confusion_png(dir.str("c.png"), {"a"}, {}), Catch::Contains("no width"));
  CHECK_FALSE(std::filesystem::exists(dir.str("c.png")));
}
