#include "infer/overlay.h"

#include <cstdio>
#include <filesystem>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

namespace adaptive {

struct OverlayWriter::Impl {
  std::string path, tmp;
  double fps;
  std::vector<double> widths;
  cv::VideoWriter writer;
  int64_t frames = 0;
  bool finished = false;
};

OverlayWriter::OverlayWriter(std::string path, double fps, std::vector<double> widths)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->tmp = path + ".tmp.avi";
  impl_->fps = fps > 0 ? fps : 25;
  impl_->widths = std::move(widths);
}

OverlayWriter::~OverlayWriter() {
  if (!impl_->finished) {
    impl_->writer.release();
    std::error_code ec;
    std::filesystem::remove(impl_->tmp, ec);
  }
}

void OverlayWriter::write(const std::vector<cv::Mat>& rgb_frames, const WindowResult& r) {
  for (const cv::Mat& rgb : rgb_frames) {
    cv::Mat frame;
    cv::cvtColor(rgb, frame, cv::COLOR_RGB2BGR);
    if (!impl_->writer.isOpened()) {
      impl_->writer.open(impl_->tmp, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), impl_->fps,
                         frame.size());
      if (!impl_->writer.isOpened())
        throw std::runtime_error(impl_->path + ": cannot write the overlay video");
    }
    const double scale = std::max(0.35, frame.cols / 640.0);
    const int line = static_cast<int>(22 * scale * 1.4);
    char text[128];
    std::snprintf(text, sizeof text, "%s %.0f%%", r.label.c_str(), 100 * r.confidence);
    cv::rectangle(frame, {0, 0, frame.cols, 2 * line + 4}, {0, 0, 0}, cv::FILLED);
    cv::putText(frame, text, {4, line}, cv::FONT_HERSHEY_SIMPLEX, 0.6 * scale, {255, 255, 255}, 1,
                cv::LINE_AA);
    std::snprintf(text, sizeof text, "width %.2g (%s)", r.width,
                  decision_names().name(r.decision).c_str());
    cv::putText(frame, text, {4, 2 * line}, cv::FONT_HERSHEY_SIMPLEX, 0.5 * scale, {200, 200, 200},
                1, cv::LINE_AA);
    // The gauge: one cell per width, filled up to the current one.
    const int n = static_cast<int>(impl_->widths.size());
    const int cell = std::max(4, frame.cols / 4 / std::max(1, n)), h = std::max(4, line / 2);
    for (int i = 0; i < n; ++i) {
      const cv::Rect box(frame.cols - (n - i) * (cell + 2) - 4, frame.rows - h - 4, cell, h);
      const cv::Scalar color =
          i <= r.width_index ? cv::Scalar(0, 200 - 40 * i, 80 + 40 * i) : cv::Scalar(60, 60, 60);
      cv::rectangle(frame, box, color, cv::FILLED);
    }
    impl_->writer.write(frame);
    ++impl_->frames;
  }
}

void OverlayWriter::finish() {
  if (!impl_->writer.isOpened()) throw std::runtime_error(impl_->path + ": no frame to write");
  impl_->writer.release();
  // cv::VideoWriter reports no write error (a full disk passes silently):
  // read the file back before it takes the final name.
  cv::VideoCapture check(impl_->tmp, cv::CAP_FFMPEG);
  const int64_t readable =
      check.isOpened() ? static_cast<int64_t>(check.get(cv::CAP_PROP_FRAME_COUNT)) : 0;
  check.release();
  std::error_code ec;
  if (readable != impl_->frames) {
    std::filesystem::remove(impl_->tmp, ec);
    throw std::runtime_error(impl_->path + ": the overlay video was not written whole (" +
                             std::to_string(readable) + " of " + std::to_string(impl_->frames) +
                             " frames readable back; disk full or unwritable?)");
  }
  std::filesystem::rename(impl_->tmp, impl_->path, ec);
  if (ec)
    throw std::runtime_error(impl_->path + ": cannot move the overlay into place: " + ec.message());
  impl_->finished = true;
}

}  // namespace adaptive
