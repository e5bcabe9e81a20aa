#include "datasets/clip_transform.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>

namespace adaptive {

void ClipTransformOptions::visit(ConfigVisitor& v) {
  v.field("short_side", short_side, 8, 4096, "resize the shorter side to this (pixels)");
  v.field("crop", crop_height, 8, 4096, "square crop size (pixels), <= short_side");
  crop_width = crop_height;  // read just above
  v.field("brightness", brightness, 0, 0.99, "training brightness jitter");
  v.field("contrast", contrast, 0, 0.99, "training contrast jitter");
  v.field("horizontal_flip", horizontal_flip, "training horizontal flip (uses flip_pairs)");
  v.field("mean", mean, -10, 10, 3, 3, "normalisation mean, RGB on [0, 1] pixels");
  v.field("std", std, 1e-6, 10, 3, 3, "normalisation std, RGB");
}

ClipTransformOptions eval_transform_options(int64_t short_side, int64_t height, int64_t width,
                                            const std::vector<double>& mean,
                                            const std::vector<double>& std) {
  ClipTransformOptions o;
  o.short_side = static_cast<int>(short_side);
  o.crop_height = static_cast<int>(height);
  o.crop_width = static_cast<int>(width);
  o.mean = mean;
  o.std = std;
  return o;
}

ClipTransform::ClipTransform(ClipTransformOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  if (o.crop_height < 1 || o.crop_width < 1) throw std::invalid_argument("crop size must be >= 1");
  if (o.short_side < std::max(o.crop_height, o.crop_width)) {
    throw std::invalid_argument("short_side " + std::to_string(o.short_side) +
                                " is smaller than the crop " + std::to_string(o.crop_height) + "x" +
                                std::to_string(o.crop_width));
  }
  if (!(o.brightness >= 0 && o.brightness < 1) || !(o.contrast >= 0 && o.contrast < 1)) {
    throw std::invalid_argument("brightness and contrast jitter must be in [0, 1)");
  }
  if (o.mean.size() != 3 || o.std.size() != 3)
    throw std::invalid_argument("normalisation needs 3 means and 3 stds (RGB)");
  for (double s : o.std) {
    if (!(s > 0)) throw std::invalid_argument("normalisation std must be > 0");
  }
  if (o.horizontal_flip && o.flip_label_map.empty()) {
    throw std::invalid_argument("horizontal_flip needs a flip label map (mirror class per class)");
  }
  eval_lut_ = make_lut(1, 1, 0);
}

cv::Mat ClipTransform::resize(const cv::Mat& rgb) const {
  const int short_now = std::min(rgb.rows, rgb.cols);
  if (short_now == options_.short_side) return rgb.clone();
  const double scale = static_cast<double>(options_.short_side) / short_now;
  // Round so that the short side lands exactly on short_side.
  const int w =
      rgb.cols <= rgb.rows ? options_.short_side : static_cast<int>(std::lround(rgb.cols * scale));
  const int h =
      rgb.rows < rgb.cols ? options_.short_side : static_cast<int>(std::lround(rgb.rows * scale));
  cv::Mat out;
  if (scale >= 1) {
    cv::resize(rgb, out, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
    return out;
  }
  // OpenCV's area resize is fast at an integer factor and slow at any other
  // (768x576 to 75x56: 1 ms on this project's machine; 720p: 2 ms). So the
  // largest integer factor that divides both sides and keeps the frame at
  // least the target's size goes first (a box average of the whole frame),
  // and the area resize takes the rest on a small image (0.3 and 0.6 ms).
  for (int factor = std::min(rgb.cols / w, rgb.rows / h); factor >= 2; --factor) {
    if (rgb.cols % factor != 0 || rgb.rows % factor != 0) continue;
    cv::resize(rgb, out, cv::Size(rgb.cols / factor, rgb.rows / factor), 0, 0, cv::INTER_AREA);
    if (out.size() != cv::Size(w, h)) cv::resize(out, out, cv::Size(w, h), 0, 0, cv::INTER_AREA);
    return out;
  }
  cv::resize(rgb, out, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  return out;
}

ClipTransform::Lut ClipTransform::make_lut(double brightness, double contrast,
                                           double mean_grey) const {
  // Every output value depends only on (channel, byte): a 3 x 256 table.
  Lut lut;
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      double x = brightness * v / 255.0;
      if (contrast != 1) x = (x - mean_grey) * contrast + mean_grey;
      x = std::clamp(x, 0.0, 1.0);
      lut[c][v] = static_cast<float>((x - options_.mean[c]) / options_.std[c]);
    }
  }
  return lut;
}

void ClipTransform::write_frame(const cv::Mat& f, const cv::Size& size, const cv::Rect& roi,
                                const Lut& lut, bool flip, float* dst, int64_t plane) {
  if (f.size() != size || f.type() != CV_8UC3) {
    throw std::invalid_argument("apply: frames differ in size or are not 8-bit RGB");
  }
  const int64_t H = roi.height, W = roi.width;
  for (int64_t y = 0; y < H; ++y) {
    const uint8_t* row = f.ptr<uint8_t>(roi.y + static_cast<int>(y)) + 3 * roi.x;
    float* r = dst + y * W;
    float* g = r + plane;
    float* b = g + plane;
    for (int64_t x = 0; x < W; ++x) {
      const int64_t xo = flip ? W - 1 - x : x;
      r[xo] = lut[0][row[3 * x]];
      g[xo] = lut[1][row[3 * x + 1]];
      b[xo] = lut[2][row[3 * x + 2]];
    }
  }
}

at::Tensor ClipTransform::apply_frame(const cv::Mat& frame) const {
  const auto& o = options_;
  check_size(frame.size());
  const cv::Rect roi((frame.cols - o.crop_width) / 2, (frame.rows - o.crop_height) / 2,
                     o.crop_width, o.crop_height);
  at::Tensor out = at::empty({3, o.crop_height, o.crop_width}, at::kFloat);
  write_frame(frame, frame.size(), roi, eval_lut_, false, out.data_ptr<float>(),
              static_cast<int64_t>(o.crop_height) * o.crop_width);
  return out;
}

void ClipTransform::check_size(const cv::Size& size) const {
  if (size.height < options_.crop_height || size.width < options_.crop_width) {
    throw std::invalid_argument("frame " + std::to_string(size.width) + "x" +
                                std::to_string(size.height) + " is smaller than the crop " +
                                std::to_string(options_.crop_width) + "x" +
                                std::to_string(options_.crop_height));
  }
}

TransformedClip ClipTransform::apply(const std::vector<const cv::Mat*>& frames, int label,
                                     bool train, Rng& rng) const {
  const auto& o = options_;
  if (frames.empty()) throw std::invalid_argument("apply: empty clip");
  const cv::Size size = frames.front()->size();
  check_size(size);
  // Draw every random choice of this clip up front, in a fixed order.
  int y0 = (size.height - o.crop_height) / 2;
  int x0 = (size.width - o.crop_width) / 2;
  double brightness = 1, contrast = 1;
  bool flip = false;
  if (train) {
    y0 = static_cast<int>(rng.uniform_int(0, size.height - o.crop_height));
    x0 = static_cast<int>(rng.uniform_int(0, size.width - o.crop_width));
    brightness = rng.uniform(1 - o.brightness, 1 + o.brightness);
    contrast = rng.uniform(1 - o.contrast, 1 + o.contrast);
    flip = o.horizontal_flip && rng.bernoulli(0.5);
  }
  const cv::Rect roi(x0, y0, o.crop_width, o.crop_height);

  // Contrast pulls each pixel towards the clip's mean grey (after brightness).
  double mean_grey = 0;
  if (contrast != 1) {
    double sum = 0;
    for (const cv::Mat* f : frames) {
      const cv::Scalar m = cv::mean((*f)(roi));
      sum += 0.299 * m[0] + 0.587 * m[1] + 0.114 * m[2];
    }
    mean_grey = brightness * sum / (255.0 * frames.size());
  }
  const Lut lut = make_lut(brightness, contrast, mean_grey);
  const int64_t T = static_cast<int64_t>(frames.size());
  const int64_t H = o.crop_height, W = o.crop_width, plane = T * H * W;
  at::Tensor out = at::empty({3, T, H, W}, at::kFloat);
  for (int64_t t = 0; t < T; ++t) {
    write_frame(*frames[t], size, roi, lut, flip, out.data_ptr<float>() + t * H * W, plane);
  }
  const int out_label = flip ? o.flip_label_map.at(label) : label;
  return {out, out_label};
}

}  // namespace adaptive
