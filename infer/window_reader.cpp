#include "infer/window_reader.h"

#include <cmath>

#include <torch/torch.h>
#include <opencv2/imgproc.hpp>

#include "common/cpu_time.h"
#include "common/threads.h"
#include "datasets/clip_sampler.h"
#include "datasets/clip_transform.h"
#include "datasets/errors.h"
#include "datasets/rng.h"

namespace adaptive {

int64_t source_frame_at(int64_t k, double source_fps, double model_fps) {
  if (model_fps <= 0 || source_fps <= 0) return k;
  return source_frame_index(static_cast<double>(k) * source_fps / model_fps);
}

WindowSpan window_span(int64_t w, int64_t frames, int64_t stride) {
  return {w * stride, w * stride + frames - 1};
}

WindowQuality measure_quality(const std::vector<cv::Mat>& frames) {
  WindowQuality q;
  if (frames.empty()) return q;
  cv::Mat grey, lap, previous;
  for (size_t i = 0; i < frames.size(); ++i) {
    cv::cvtColor(frames[i], grey, cv::COLOR_RGB2GRAY);
    if (!previous.empty()) {
      cv::Mat diff;
      cv::absdiff(grey, previous, diff);
      q.motion += cv::mean(diff)[0] / 255.0 / static_cast<double>(frames.size() - 1);
    }
    previous = grey.clone();
  }
  q.luma = cv::mean(previous)[0] / 255.0;
  cv::Laplacian(previous, lap, CV_64F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  q.sharpness = stddev[0] * stddev[0];
  return q;
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
    std::deque<cv::Mat> resized;       // the last T model frames
    std::deque<int64_t> resized_from;  // their source frame indices
    std::vector<cv::Mat> new_frames;
    int64_t k = 0, w = 0, src = -1, previous_end = -1;
    auto arrived = std::chrono::steady_clock::now();
    Rng rng(0);
    auto emit = [&](bool padded) {
      std::vector<cv::Mat> frames(resized.begin(), resized.end());
      std::vector<const cv::Mat*> ptrs;
      for (const auto& f : frames) ptrs.push_back(&f);
      Window win;
      win.index = w++;
      win.start_frame = resized_from.front();
      win.end_frame = src;
      win.start_s = static_cast<double>(win.start_frame) / source_fps_;
      win.end_s = static_cast<double>(win.end_frame + 1) / source_fps_;
      win.clip = transform.apply(ptrs, 0, false, rng).data.unsqueeze(0);
      win.quality = measure_quality(frames);
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
      const double cpu_before_read = adaptive::thread_cpu_s();
      try {
        ok = source_->read(frame);
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
        resized.push_back(transform.resize(frame));
        resized_from.push_back(src);
        ++k;
        if (static_cast<int64_t>(resized.size()) > T) resized.pop_front(), resized_from.pop_front();
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
      if (resized.empty()) {
        end.error = "no decodable frame";
      } else {
        end.warning = source_->name() + ": " + std::to_string(k) + " frames at the model's " +
                      std::to_string(input_.fps).substr(0, 5) + " fps, fewer than one window of " +
                      std::to_string(T) + ": padded by repeating the last frame";
        while (static_cast<int64_t>(resized.size()) < T) {
          resized.push_back(resized.back());
          resized_from.push_back(resized_from.back());
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
