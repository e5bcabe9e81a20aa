#include "datasets/live_source.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <thread>
#include <vector>

#include <opencv2/videoio.hpp>

#include "common/clock.h"
#include "datasets/errors.h"

namespace fs = std::filesystem;

namespace adaptive {
namespace {

constexpr int kTimingFrames = 8;     // frames read at open to find the frame rate
constexpr double kMaxBackoffS = 8;   // reconnect waits double up to this
constexpr double kFallbackFps = 25;  // FFmpeg's default, when timestamps tell nothing

int milliseconds(double seconds) {
  return static_cast<int>(std::max(1.0, seconds * 1000));
}

// A stream URL or camera through cv::VideoCapture, reopened when it stops.
class LiveCaptureSource : public FrameSource {
 public:
  LiveCaptureSource(std::string input, std::optional<int> camera, LiveSourceOptions options)
      : name_(std::move(input)), camera_(camera), options_(options) {
    const std::string device = camera_ ? "/dev/video" + std::to_string(*camera_) : "";
    if (camera_ && !fs::exists(device))
      throw BadSampleError(name_, "no such camera (" + device + " does not exist)");
    if (!open()) throw BadSampleError(name_, open_failure());
    find_frame_rate();
  }

  bool read(cv::Mat& rgb) override { return next(&rgb); }
  bool skip() override { return next(nullptr); }
  double fps() const override { return fps_; }
  int64_t announced_frames() const override { return -1; }
  const std::string& name() const override { return name_; }
  bool live() const override { return true; }
  int64_t reconnects() const override { return reconnects_; }

 private:
  bool open() {
    capture_.release();
    if (camera_) return capture_.open(*camera_, cv::CAP_V4L2) && capture_.isOpened();
    const std::vector<int> params = {
        cv::CAP_PROP_OPEN_TIMEOUT_MSEC, milliseconds(options_.connect_timeout_s),
        cv::CAP_PROP_READ_TIMEOUT_MSEC, milliseconds(options_.read_timeout_s)};
    return capture_.open(name_, cv::CAP_FFMPEG, params) && capture_.isOpened();
  }

  // The next frame, converted into `*rgb` unless null (skip).
  bool next(cv::Mat* rgb) {
    if (!timing_frames_.empty()) {
      if (rgb) *rgb = timing_frames_.front();
      timing_frames_.pop_front();
      return true;
    }
    while (true) {
      if (rgb ? capture_.read(raw_) && !raw_.empty() : capture_.grab()) {
        if (rgb) to_rgb(raw_, *rgb, name_);
        ++frames_;
        return true;
      }
      if (options_.reconnect <= 0) return false;  // the stream ended
      if (!reopen()) return false;                // stopped while waiting
    }
  }

  std::string open_failure() const {
    if (camera_) return "cannot open the camera (busy, no permission, or not a capture device)";
    char text[160];
    std::snprintf(text, sizeof text,
                  "cannot open the stream within %.1f s (nothing listening, unreachable, or not "
                  "a video stream)",
                  options_.connect_timeout_s);
    return text;
  }

  // Reads the first frames and takes the rate from their timestamps (the
  // median gap), not from CAP_PROP_FPS (an MPEG-TS stream reports its
  // 90 kHz clock there). The frames are delivered first by read().
  void find_frame_rate() {
    std::vector<double> stamps;
    while (static_cast<int>(timing_frames_.size()) < kTimingFrames) {
      if (!capture_.read(raw_) || raw_.empty()) break;
      cv::Mat rgb;
      to_rgb(raw_, rgb, name_);
      timing_frames_.push_back(rgb);
      stamps.push_back(capture_.get(cv::CAP_PROP_POS_MSEC));
    }
    if (timing_frames_.empty())
      throw BadSampleError(name_, "opened, but no frame arrived within " +
                                      std::to_string(options_.read_timeout_s).substr(0, 4) + " s");
    frames_ = static_cast<int64_t>(timing_frames_.size());
    std::vector<double> gaps;
    for (size_t i = 1; i < stamps.size(); ++i)
      if (stamps[i] > stamps[i - 1]) gaps.push_back(stamps[i] - stamps[i - 1]);
    const double reported = capture_.get(cv::CAP_PROP_FPS);
    fps_ = reported > 0 && reported <= 240 ? reported : kFallbackFps;
    if (!gaps.empty()) {
      std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
      const double gap_ms = gaps[gaps.size() / 2];
      if (gap_ms > 1 && gap_ms < 10000) fps_ = 1000.0 / gap_ms;  // 0.1 to 1000 fps
    }
  }

  // Waits and reopens, up to options_.reconnect times. Returns false when a
  // stop was requested; throws BadSampleError when every attempt failed.
  bool reopen() {
    double wait_s = options_.backoff_s;
    for (int attempt = 1; attempt <= options_.reconnect; ++attempt) {
      const auto until = Clock::now() + std::chrono::duration<double>(wait_s);
      while (Clock::now() < until) {
        if (options_.stop && options_.stop->load()) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      wait_s = std::min(kMaxBackoffS, 2 * wait_s);
      if (open()) {
        ++reconnects_;
        return true;
      }
    }
    throw BadSampleError(name_, "the stream stopped after frame " + std::to_string(frames_ - 1) +
                                    " and " + std::to_string(options_.reconnect) +
                                    " reconnect attempts failed (" + open_failure() + ")");
  }

  std::string name_;
  std::optional<int> camera_;
  LiveSourceOptions options_;
  cv::VideoCapture capture_;
  cv::Mat raw_;
  std::deque<cv::Mat> timing_frames_;
  double fps_ = kFallbackFps;
  int64_t frames_ = 0, reconnects_ = 0;
};

class PacedSource : public FrameSource {
 public:
  explicit PacedSource(std::unique_ptr<FrameSource> inner) : inner_(std::move(inner)) {}

  bool read(cv::Mat& rgb) override { return pace(inner_->read(rgb)); }
  bool skip() override { return pace(inner_->skip()); }
  double fps() const override { return inner_->fps(); }
  int64_t announced_frames() const override { return inner_->announced_frames(); }
  const std::string& name() const override { return inner_->name(); }
  bool live() const override { return true; }

 private:
  // Holds a frame that came until its time in the video.
  bool pace(bool came) {
    if (!came) return false;
    if (next_ == 0) start_ = Clock::now();
    std::this_thread::sleep_until(
        start_ + std::chrono::duration_cast<Clock::duration>(
                     std::chrono::duration<double>(static_cast<double>(next_) / inner_->fps())));
    ++next_;
    return true;
  }

  std::unique_ptr<FrameSource> inner_;
  Clock::time_point start_;
  int64_t next_ = 0;
};

}  // namespace

bool is_stream_url(const std::string& input) {
  const auto colon = input.find("://");
  if (colon == std::string::npos || colon == 0) return false;
  return std::all_of(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(colon),
                     [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '-'; });
}

std::optional<int> camera_index(const std::string& input) {
  std::string digits = input;
  if (input.rfind("/dev/video", 0) == 0) digits = input.substr(10);
  if (digits.empty() || digits.size() > 3 ||
      !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  // A bare number names a camera only when no such file or folder exists.
  if (digits == input && fs::exists(input)) return std::nullopt;
  return std::stoi(digits);
}

bool is_live_input(const std::string& input) {
  return is_stream_url(input) || camera_index(input).has_value();
}

std::unique_ptr<FrameSource> open_live_source(const std::string& input,
                                              const LiveSourceOptions& options) {
  if (!(options.connect_timeout_s > 0) || !(options.read_timeout_s > 0) || options.reconnect < 0 ||
      !(options.backoff_s >= 0))
    throw std::invalid_argument("live source: timeouts must be > 0, reconnect and backoff >= 0");
  const auto camera = camera_index(input);
  if (!camera && !is_stream_url(input))
    throw BadSampleError(input, "not a stream URL (scheme://...) or a camera (/dev/videoN or N)");
  return std::make_unique<LiveCaptureSource>(input, camera, options);
}

std::unique_ptr<FrameSource> paced_source(std::unique_ptr<FrameSource> source) {
  return std::make_unique<PacedSource>(std::move(source));
}

std::unique_ptr<FrameSource> open_input(const std::string& input, const InputOptions& options) {
  if (is_live_input(input)) return open_live_source(input, options.live);
  auto source = frame_range(open_frame_source(input, options.folder_fps), options.first_frame,
                            options.last_frame);
  if (options.realtime) return paced_source(std::move(source));
  return source;
}

bool opens_live(const std::string& input, const InputOptions& options) {
  return options.realtime || is_live_input(input);
}

}  // namespace adaptive
