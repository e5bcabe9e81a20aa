#include "datasets/frame_source.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "datasets/errors.h"

namespace fs = std::filesystem;

namespace adaptive {

void to_rgb(const cv::Mat& in, cv::Mat& rgb, const std::string& name) {
  if (in.depth() != CV_8U) {
    throw BadSampleError(name, "unsupported pixel depth (expected 8-bit frames)");
  }
  switch (in.channels()) {
    case 1:
      cv::cvtColor(in, rgb, cv::COLOR_GRAY2RGB);
      break;
    case 3:
      cv::cvtColor(in, rgb, cv::COLOR_BGR2RGB);
      break;
    case 4:
      cv::cvtColor(in, rgb, cv::COLOR_BGRA2RGB);
      break;
    default:
      throw BadSampleError(name, "unsupported channel count " + std::to_string(in.channels()));
  }
}

namespace {

class VideoFileSource : public FrameSource {
 public:
  explicit VideoFileSource(std::string path) : path_(std::move(path)) {
    if (!capture_.open(path_, cv::CAP_FFMPEG) || !capture_.isOpened()) {
      throw BadSampleError(path_, "cannot open as a video (unreadable, corrupt or not a video)");
    }
    fps_ = capture_.get(cv::CAP_PROP_FPS);
    if (!(fps_ > 0 && fps_ < 1000)) fps_ = 25.0;  // containers without a rate: FFmpeg's default
    const double count = capture_.get(cv::CAP_PROP_FRAME_COUNT);
    announced_ = count > 0 ? static_cast<int64_t>(std::llround(count)) : -1;
  }

  bool read(cv::Mat& rgb) override {
    if (!capture_.read(raw_) || raw_.empty()) return false;
    to_rgb(raw_, rgb, path_);
    return true;
  }
  bool skip() override { return capture_.grab(); }
  double fps() const override { return fps_; }
  int64_t announced_frames() const override { return announced_; }
  const std::string& name() const override { return path_; }

 private:
  std::string path_;
  cv::VideoCapture capture_;
  cv::Mat raw_;
  double fps_ = 0;
  int64_t announced_ = -1;
};

class FrameFolderSource : public FrameSource {
 public:
  FrameFolderSource(std::string path, double fps) : path_(std::move(path)), fps_(fps) {
    for (const auto& entry : fs::directory_iterator(path_)) {
      if (entry.is_regular_file() && has_extension(entry.path().string(), image_extensions())) {
        files_.push_back(entry.path().string());
      }
    }
    if (files_.empty()) throw BadSampleError(path_, "frame folder holds no .jpg/.png frames");
    std::sort(files_.begin(), files_.end());
  }

  bool read(cv::Mat& rgb) override {
    if (next_ >= files_.size()) return false;
    const std::string& file = files_[next_++];
    cv::Mat raw = cv::imread(file, cv::IMREAD_UNCHANGED);
    if (raw.empty()) {
      throw BadSampleError(path_,
                           "cannot decode frame image " + fs::path(file).filename().string());
    }
    to_rgb(raw, rgb, path_);
    return true;
  }
  double fps() const override { return fps_; }
  int64_t announced_frames() const override { return static_cast<int64_t>(files_.size()); }
  const std::string& name() const override { return path_; }

 private:
  std::string path_;
  double fps_;
  std::vector<std::string> files_;
  size_t next_ = 0;
};

class MemoryFrameSource : public FrameSource {
 public:
  MemoryFrameSource(std::vector<cv::Mat> frames, double fps, std::string name)
      : frames_(std::move(frames)), fps_(fps), name_(std::move(name)) {}

  bool read(cv::Mat& rgb) override {
    if (next_ >= frames_.size()) return false;
    rgb = frames_[next_++];
    return true;
  }
  double fps() const override { return fps_; }
  int64_t announced_frames() const override { return static_cast<int64_t>(frames_.size()); }
  const std::string& name() const override { return name_; }

 private:
  std::vector<cv::Mat> frames_;
  double fps_;
  std::string name_;
  size_t next_ = 0;
};

// Frames [first, last] of another source (last < 0: to its end).
class FrameRangeSource final : public FrameSource {
 public:
  FrameRangeSource(std::unique_ptr<FrameSource> source, int64_t first, int64_t last)
      : source_(std::move(source)), first_(first), last_(last) {}

  bool read(cv::Mat& rgb) override {
    if (!seek()) return false;
    if (!source_->read(rgb)) return false;
    ++next_;
    return true;
  }
  bool skip() override {
    if (!seek() || !source_->skip()) return false;
    ++next_;
    return true;
  }
  double fps() const override { return source_->fps(); }
  int64_t announced_frames() const override {
    int64_t n = source_->announced_frames();
    if (n < 0) return -1;
    if (last_ >= 0) n = std::min(n, last_ + 1);
    return std::max<int64_t>(0, n - first_);
  }
  const std::string& name() const override { return source_->name(); }
  bool live() const override { return source_->live(); }
  int64_t reconnects() const override { return source_->reconnects(); }

 private:
  // Moves to frame first_; false past last_ or at the source's end.
  bool seek() {
    for (; next_ < first_; ++next_)
      if (!source_->skip()) return false;
    return last_ < 0 || next_ <= last_;
  }

  std::unique_ptr<FrameSource> source_;
  int64_t first_, last_, next_ = 0;  // next_: the index of the source's next frame
};

}  // namespace

const std::vector<std::string>& video_extensions() {
  static const std::vector<std::string> exts = {".avi", ".mp4", ".mkv",  ".mov", ".webm",
                                                ".m4v", ".mpg", ".mpeg", ".wmv"};
  return exts;
}

const std::vector<std::string>& image_extensions() {
  static const std::vector<std::string> exts = {".jpg", ".jpeg", ".png", ".bmp"};
  return exts;
}

bool has_extension(const std::string& path, const std::vector<std::string>& exts) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return std::find(exts.begin(), exts.end(), ext) != exts.end();
}

std::unique_ptr<FrameSource> open_frame_source(const std::string& path, double folder_fps) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw BadSampleError(path, "no such file or folder");
  if (fs::is_directory(status)) return std::make_unique<FrameFolderSource>(path, folder_fps);
  if (!fs::is_regular_file(status)) throw BadSampleError(path, "not a regular file");
  if (fs::file_size(path, ec) == 0) throw BadSampleError(path, "empty file (0 bytes)");
  return std::make_unique<VideoFileSource>(path);
}

std::unique_ptr<FrameSource> memory_frame_source(std::vector<cv::Mat> rgb_frames, double fps,
                                                 std::string name) {
  return std::make_unique<MemoryFrameSource>(std::move(rgb_frames), fps, std::move(name));
}

std::unique_ptr<FrameSource> frame_range(std::unique_ptr<FrameSource> source, int64_t first,
                                         int64_t last) {
  if (first < 0 || (last >= 0 && last < first)) {
    throw BadSampleError(source->name(), "frame range [" + std::to_string(first) + ", " +
                                             std::to_string(last) + "] is empty or negative");
  }
  if (first == 0 && last < 0) return source;
  return std::make_unique<FrameRangeSource>(std::move(source), first, last);
}

bool looks_truncated(int64_t decoded, int64_t announced) {
  const int64_t missing = announced - decoded;
  return announced > 0 && missing > 1 && missing * 50 > announced;
}

DecodedFrames decode_frames(FrameSource& source, int64_t first, int64_t last,
                            const std::function<cv::Mat(const cv::Mat&)>& convert) {
  DecodedFrames out;
  out.fps = source.fps();
  out.first = first;
  cv::Mat frame;
  cv::Size size;  // the source's frame size
  int64_t index = 0;
  for (; last < 0 || index <= last; ++index) {
    if (index < first) {  // demuxed, not decoded
      if (!source.skip()) break;
      continue;
    }
    if (!source.read(frame)) break;
    if (out.frames.empty()) {
      size = frame.size();
    } else if (frame.size() != size) {
      std::ostringstream msg;
      msg << "frame " << index << " is " << frame.cols << "x" << frame.rows << ", expected "
          << size.width << "x" << size.height;
      throw BadSampleError(source.name(), msg.str());
    }
    out.frames.push_back(convert ? convert(frame) : frame.clone());
  }
  const int64_t decoded = index;  // frames the source delivered up to where we stopped
  const int64_t announced = source.announced_frames();
  const int64_t wanted_end = last < 0 ? announced : std::min(announced, last + 1);
  if (announced > 0 && decoded < wanted_end &&
      looks_truncated(decoded + (announced - wanted_end), announced)) {
    std::ostringstream msg;
    msg << "truncated or corrupt: decoded " << decoded << " of " << announced
        << " frames the container announces";
    throw BadSampleError(source.name(), msg.str());
  }
  if (last >= 0 && decoded <= last) {
    std::ostringstream msg;
    msg << "end_frame " << last << " is past the last frame (" << decoded - 1 << ")";
    throw BadSampleError(source.name(), msg.str());
  }
  if (out.frames.empty()) {
    std::ostringstream msg;
    if (decoded == 0) {
      msg << "no decodable frame";
    } else {
      msg << "no frame in range [" << first << ", " << last << "]: the source has " << decoded
          << " frames";
    }
    throw BadSampleError(source.name(), msg.str());
  }
  return out;
}

}  // namespace adaptive
