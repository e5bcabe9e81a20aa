#include "infer/window_reader.h"

#include <cmath>

#include <torch/torch.h>
#include <opencv2/imgproc.hpp>

#include "common/cpu_time.h"
#include "common/threads.h"
#include "datasets/clip_sampler.h"
#include "datasets/clip_transform.h"
#include "datasets/errors.h"

namespace adaptive {

int64_t source_frame_at(int64_t k, double source_fps, double model_fps) {
  if (model_fps <= 0 || source_fps <= 0) return k;
  return source_frame_index(static_cast<double>(k) * source_fps / model_fps);
}

WindowSpan window_span(int64_t w, int64_t frames, int64_t stride) {
  return {w * stride, w * stride + frames - 1};
}

FrameQuality measure_frame(const cv::Mat& resized_rgb, const FrameQuality* previous) {
  FrameQuality f;
  cv::cvtColor(resized_rgb, f.grey, cv::COLOR_RGB2GRAY);
  if (previous != nullptr && previous->grey.size() == f.grey.size()) {
    cv::Mat diff;
    cv::absdiff(f.grey, previous->grey, diff);
    f.motion = cv::mean(diff)[0] / 255.0;
  }
  return f;
}

WindowQuality window_quality(const std::vector<const FrameQuality*>& frames) {
  WindowQuality q;
  if (frames.empty()) return q;
  for (size_t i = 1; i < frames.size(); ++i) {
    q.motion += frames[i]->motion / static_cast<double>(frames.size() - 1);
  }
  const cv::Mat& last = frames.back()->grey;
  q.luma = cv::mean(last)[0] / 255.0;
  cv::Mat lap;
  cv::Laplacian(last, lap, CV_64F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  q.sharpness = stddev[0] * stddev[0];
  return q;
}

WindowQuality measure_quality(const std::vector<cv::Mat>& frames) {
  std::vector<FrameQuality> measured;
  measured.reserve(frames.size());
  for (const cv::Mat& f : frames) {
    measured.push_back(measure_frame(f, measured.empty() ? nullptr : &measured.back()));
  }
  std::vector<const FrameQuality*> ptrs;
  for (const auto& m : measured) ptrs.push_back(&m);
  return window_quality(ptrs);
}

const at::Tensor& Window::clip() const {
  if (!clip_.defined()) clip_ = at::stack(frames, 1).unsqueeze(0);
  return clip_;
}

WindowReader::WindowReader(std::unique_ptr<FrameSource> source, const ArtifactInput& input,
                           WindowReaderOptions options)
    : source_(std::move(source)), input_(input), options_(options) {
  if (options_.stride < 1) throw std::invalid_argument("window stride must be >= 1");
  if (!(source_->fps() > 0)) throw std::invalid_argument(source_->name() + ": no frame rate");
  source_fps_ = source_->fps();
  if (source_->live()) options_.queue = 1;
  end_.source_fps = source_fps_;
  thread_ = std::thread([this] { run(); });
}

WindowReader::~WindowReader() {
  close();
}

void WindowReader::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool WindowReader::stopping() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stop_;
}

std::optional<Window> WindowReader::next(const std::atomic<bool>* stop) {
  std::unique_lock<std::mutex> lock(mutex_);
  // A signal handler can only set the flag, so the wait looks at it often.
  while (queue_.empty() && !done_ && !(stop && stop->load()))
    changed_.wait_for(lock, std::chrono::milliseconds(50));
  if ((stop && stop->load()) || queue_.empty()) return {};
  Window w = std::move(queue_.front());
  queue_.pop_front();
  changed_.notify_all();
  return w;
}

void WindowReader::push(Window w) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (source_->live()) {
    // The newest window wins: the one waiting is dropped, and its frames (and
    // their pixels, for the overlay) go to the next window's account.
    while (static_cast<int>(queue_.size()) >= options_.queue) {
      Window& old = queue_.front();
      w.dropped_before += old.dropped_before + old.new_frame_count;
      dropped_frames_ += old.new_frame_count;
      ++dropped_windows_;
      if (!old.new_frames.empty()) {
        old.new_frames.insert(old.new_frames.end(), std::make_move_iterator(w.new_frames.begin()),
                              std::make_move_iterator(w.new_frames.end()));
        w.new_frames = std::move(old.new_frames);
      }
      queue_.pop_front();
    }
  } else {
    changed_.wait(lock, [&] { return static_cast<int>(queue_.size()) < options_.queue || stop_; });
  }
  if (stop_) return;
  queue_.push_back(std::move(w));
  changed_.notify_all();
}

double WindowReader::thread_cpu_s() {
  return thread_.joinable() ? adaptive::thread_cpu_s(thread_.native_handle()) : -1;
}

void WindowReader::run() {
  make_helper_thread_serial();
  const double cpu_at_start = adaptive::thread_cpu_s();
  double decode_cpu = 0;
  ReaderEnd end;
  end.source_fps = source_fps_;
  std::string broken;  // why decoding ended early, if it did
  try {
    const ClipTransform transform(eval_transform_options(input_.short_side, input_.height,
                                                         input_.width, input_.mean, input_.std));
    const int64_t T = input_.frames;
    struct ModelFrame {
      at::Tensor pixels;  // [3, H, W], normalised
      FrameQuality quality;
      int64_t source = 0;  // its source frame index
    };
    std::deque<ModelFrame> recent;  // the last T model frames
    std::vector<cv::Mat> new_frames;
    int64_t k = 0, w = 0, src = -1, previous_end = -1;
    auto arrived = std::chrono::steady_clock::now();
    auto emit = [&](bool padded) {
      Window win;
      std::vector<const FrameQuality*> measures;
      for (const ModelFrame& f : recent) {
        win.frames.push_back(f.pixels);
        measures.push_back(&f.quality);
      }
      win.index = w++;
      win.start_frame = recent.front().source;
      win.end_frame = src;
      win.start_s = static_cast<double>(win.start_frame) / source_fps_;
      win.end_s = static_cast<double>(win.end_frame + 1) / source_fps_;
      win.quality = window_quality(measures);
      win.padded = padded;
      win.arrived = arrived;
      win.new_frame_count = src - previous_end;
      previous_end = src;
      win.new_frames = std::move(new_frames);
      new_frames.clear();
      push(std::move(win));
    };
    cv::Mat frame;
    while (true) {
      if (stopping()) {
        end.stopped = true;
        break;
      }
      bool ok = false;
      // A source frame no model frame shows is decoded but not converted.
      const bool wanted =
          options_.keep_frames || source_frame_at(k, source_fps_, input_.fps) == src + 1;
      const double cpu_before_read = adaptive::thread_cpu_s();
      try {
        ok = wanted ? source_->read(frame) : source_->skip();
        decode_cpu += adaptive::thread_cpu_s() - cpu_before_read;
      } catch (const BadSampleError& e) {
        // Frames numbered from 0, as in the window results.
        broken = "decoding failed at frame " + std::to_string(src + 1) + ": " + e.reason();
        break;
      }
      if (!ok) break;
      arrived = std::chrono::steady_clock::now();
      ++src;
      if (end.width == 0) end.width = frame.cols, end.height = frame.rows;
      if (options_.keep_frames) new_frames.push_back(frame.clone());
      while (source_frame_at(k, source_fps_, input_.fps) == src) {
        const cv::Mat resized = transform.resize(frame);
        recent.push_back({transform.apply_frame(resized),
                          measure_frame(resized, recent.empty() ? nullptr : &recent.back().quality),
                          src});
        ++k;
        if (static_cast<int64_t>(recent.size()) > T) recent.pop_front();
        if (k - 1 == window_span(w, T, options_.stride).last_model_frame) emit(false);
      }
    }
    end.frames = src + 1;
    if (broken.empty() && !end.stopped &&
        looks_truncated(end.frames, source_->announced_frames())) {
      broken = "decoding stopped at frame " + std::to_string(end.frames) + " of the " +
               std::to_string(source_->announced_frames()) +
               " frames the container announces (truncated or corrupt)";
    }
    if (!broken.empty() && (w == 0 || options_.strict)) {
      end.error = broken;
    } else if (!broken.empty()) {
      end.warning = source_->name() + ": " + broken + "; kept the " + std::to_string(w) +
                    " windows of the " + std::to_string(end.frames) + " frames that decoded";
    }
    if (end.error.empty() && w == 0 && !end.stopped) {
      if (recent.empty()) {
        end.error = "no decodable frame";
      } else {
        end.warning = source_->name() + ": " + std::to_string(k) + " frames at the model's " +
                      std::to_string(input_.fps).substr(0, 5) + " fps, fewer than one window of " +
                      std::to_string(T) + ": padded by repeating the last frame";
        while (static_cast<int64_t>(recent.size()) < T) {  // still frames: no motion
          ModelFrame still = recent.back();
          still.quality.motion = 0;
          recent.push_back(still);
        }
        emit(true);
      }
    }
  } catch (const std::exception& e) {
    end.error = e.what();
  }
  end.decode_cpu_s = decode_cpu;
  end.preprocess_cpu_s = adaptive::thread_cpu_s() - cpu_at_start - decode_cpu;
  std::lock_guard<std::mutex> lock(mutex_);
  end.live = source_->live();
  end.reconnects = source_->reconnects();
  end.dropped_frames = dropped_frames_;
  end.dropped_windows = dropped_windows_;
  end_ = end;
  done_ = true;
  changed_.notify_all();
}

}  // namespace adaptive
