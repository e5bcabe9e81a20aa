#include "train/confusion_image.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/atomic_file.h"

namespace adaptive {
namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kSmall = 0.35, kTitle = 0.45;
// A class the split lacks: a grey with a tint, which no text's edge blends to.
const cv::Scalar kInk(40, 40, 40), kWhite(255, 255, 255), kAbsent(230, 225, 235);

int text_width(const std::string& text, double scale) {
  int baseline = 0;
  return cv::getTextSize(text, kFont, scale, 1, &baseline).width;
}

void put(cv::Mat& image, const std::string& text, cv::Point at, double scale,
         const cv::Scalar& color) {
  cv::putText(image, text, at, kFont, scale, color, 1, cv::LINE_AA);
}

// White (share 0) to dark blue (share 1).
cv::Scalar shade(double share) {
  const cv::Scalar dark(120, 45, 15);
  return kWhite + (dark - kWhite) * std::clamp(share, 0.0, 1.0);
}

std::string percent(double x) {
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", 100 * x);
  return text;
}

// The row label of class `c`: "3 swipe_left", cut to 22 characters.
std::string row_label(const std::vector<std::string>& classes, size_t c) {
  std::string name = std::to_string(c) + " " + classes[c];
  return name.size() > 22 ? name.substr(0, 21) + "~" : name;
}

// A width as its reports write it: "0.25".
std::string width_name(double width) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", width);
  return text;
}

std::string title(const WidthReport& w) {
  return width_name(w.width) + "x  top-1 " + percent(w.top1) + "  mean class " +
         percent(w.mean_class_accuracy);
}

}  // namespace

void write_confusion_png(const std::string& path, const std::vector<std::string>& classes,
                         const std::vector<WidthReport>& widths) {
  if (widths.empty()) throw std::invalid_argument("confusion image: no width to draw");
  const int n = static_cast<int>(classes.size());
  for (const WidthReport& w : widths) {
    bool square = static_cast<int>(w.confusion.size()) == n;
    for (const auto& row : w.confusion) square = square && static_cast<int>(row.size()) == n;
    if (!square || n == 0) {
      throw std::invalid_argument("confusion image: width " + width_name(w.width) + " has no " +
                                  std::to_string(n) + " x " + std::to_string(n) +
                                  " confusion matrix for its " + std::to_string(n) + " classes");
    }
  }
  const int cell = std::clamp(480 / std::max(n, 1), 1, 32);
  const bool names = cell >= 16, counts = cell >= 24;  // two-digit column numbers fit 16 px
  int left = 8;
  if (names) {
    for (size_t c = 0; c < classes.size(); ++c)
      left = std::max(left, text_width(row_label(classes, c), kSmall) + 12);
  }
  const int top = 30 + (names ? 14 : 0), grid = n * cell;
  int panel_w = left + grid + 12;  // and room for the widest title
  for (const WidthReport& w : widths)
    panel_w = std::max(panel_w, text_width(title(w), kTitle) + 16);
  const int panel_h = top + grid + 26;
  cv::Mat image(panel_h, panel_w * static_cast<int>(widths.size()), CV_8UC3, kWhite);

  for (size_t p = 0; p < widths.size(); ++p) {
    const WidthReport& w = widths[p];
    const int x0 = static_cast<int>(p) * panel_w + left, y0 = top;
    put(image, title(w), {static_cast<int>(p) * panel_w + 8, 18}, kTitle, kInk);
    for (int t = 0; t < n; ++t) {
      const auto& row = w.confusion[static_cast<size_t>(t)];
      int64_t total = 0;
      for (int64_t k : row) total += k;
      for (int q = 0; q < n; ++q) {
        const int64_t k = row[static_cast<size_t>(q)];
        const double share = total > 0 ? static_cast<double>(k) / static_cast<double>(total) : 0;
        const cv::Rect r(x0 + q * cell, y0 + t * cell, cell, cell);
        cv::rectangle(image, r, total > 0 ? shade(share) : kAbsent, cv::FILLED);
        if (!counts || k == 0) continue;
        const std::string text = std::to_string(k);
        const int text_w = text_width(text, kSmall);
        if (text_w <= cell - 2) {  // a count too long for its cell is left out
          put(image, text, {r.x + (cell - text_w) / 2, r.y + cell / 2 + 4}, kSmall,
              share > 0.5 ? kWhite : kInk);
        }
      }
      if (names) {
        put(image, row_label(classes, static_cast<size_t>(t)),
            {static_cast<int>(p) * panel_w + 6, y0 + t * cell + cell / 2 + 4}, kSmall, kInk);
      }
    }
    if (names) {
      for (int q = 0; q < n; ++q) {
        const std::string text = std::to_string(q);
        put(image, text, {x0 + q * cell + (cell - text_width(text, kSmall)) / 2, y0 - 5}, kSmall,
            kInk);
      }
    }
    cv::rectangle(image, cv::Rect(x0 - 1, y0 - 1, grid + 2, grid + 2), kInk, 1);  // round it
    put(image, "rows: true class; columns: predicted",
        {static_cast<int>(p) * panel_w + 8, y0 + grid + 17}, kSmall, kInk);
  }
  std::vector<uchar> png;
  if (!cv::imencode(".png", image, png))
    throw std::runtime_error(path + ": cannot encode the confusion image");
  write_file_atomically(path, std::string(png.begin(), png.end()));
}

}  // namespace adaptive
