// Windows over a video for inference: frames decoded and resampled to the
// model's frame rate, preprocessed exactly as the model's metadata says, and
// cut into windows of `frames` model frames every `stride` model frames.
// Decoding runs on its own thread, ahead of inference, through a bounded
// queue. A file waits for inference when the queue is full; a live source
// (FrameSource::live) cannot wait, so only the newest window waits and an
// older one not yet taken is dropped, its frames counted.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <ATen/core/Tensor.h>
#include <opencv2/core.hpp>

#include "common/clock.h"
#include "datasets/frame_source.h"
#include "models/artifact_format.h"

namespace adaptive {

// Source frame shown at model frame k when a source at `source_fps` is
// resampled to `model_fps` (nearest earlier frame; model_fps <= 0: every
// source frame).
int64_t source_frame_at(int64_t k, double source_fps, double model_fps);

// Window w covers model frames [w * stride, w * stride + frames).
struct WindowSpan {
  int64_t first_model_frame = 0, last_model_frame = 0;
};
WindowSpan window_span(int64_t w, int64_t frames, int64_t stride);

// Input quality of a window, from its resized frames.
struct WindowQuality {
  double luma = 0;       // mean luma of the last frame, [0, 1]
  double sharpness = 0;  // variance of the Laplacian of the last frame (grey, 0..255)
  double motion = 0;     // mean |difference| of consecutive frames, [0, 1]
};

// What a window's quality needs of one resized frame, measured once however
// many windows hold the frame.
struct FrameQuality {
  cv::Mat grey;       // 8-bit luma
  double motion = 0;  // mean |difference| from the frame before, [0, 1] (0: none)
};
FrameQuality measure_frame(const cv::Mat& resized_rgb, const FrameQuality* previous);
// A window's quality from its frames' measures, oldest first (not empty).
WindowQuality window_quality(const std::vector<const FrameQuality*>& frames);
// Both, for frames in memory.
WindowQuality measure_quality(const std::vector<cv::Mat>& resized_rgb);

struct Window {
  int64_t index = 0;
  int64_t start_frame = 0, end_frame = 0;  // source frames, inclusive
  double start_s = 0, end_s = 0;           // video time
  // The window's T model frames, oldest first, each [3, H, W] and normalised:
  // each frame is preprocessed once, and windows that overlap share it.
  std::vector<at::Tensor> frames;
  WindowQuality quality;
  bool padded = false;              // the video was shorter than one window
  std::vector<cv::Mat> new_frames;  // source frames (RGB) since the previous window, when kept
                                    // (with those of windows dropped since)
  Clock::time_point arrived;        // when its last source frame was read
  int64_t new_frame_count = 0;      // source frames since the previous window
  int64_t dropped_before = 0;       // source frames dropped (live) since the previous window taken

  // The frames as one clip [1, 3, T, H, W], stacked at the first call (what
  // a windowed pass takes; a stream's step takes frames only).
  const at::Tensor& clip() const;

 private:
  mutable at::Tensor clip_;
};

struct WindowReaderOptions {
  int64_t stride = 1;        // model frames between window starts
  int queue = 8;             // windows decoded ahead (a live source: 1, the newest)
  bool keep_frames = false;  // fill Window::new_frames (overlay)
  // A file that ends before its container says, or fails to decode mid-way,
  // after at least one window: false (default) keeps the windows decoded and
  // says so in ReaderEnd::warning, as players show such files; true makes it
  // ReaderEnd::error. Before the first window it is always an error.
  bool strict = false;
};

// What ended the stream.
struct ReaderEnd {
  int64_t frames = 0;  // source frames decoded
  double source_fps = 0;
  std::string error;              // "": normal end; else what failed and at which frame
  std::string warning;            // e.g. the video was padded, or ended early (not strict)
  int64_t width = 0, height = 0;  // source frame size
  bool live = false;              // the source was live
  bool stopped = false;           // close() ended it before the source did
  int64_t dropped_frames = 0, dropped_windows = 0;  // live: never taken by next()
  int64_t reconnects = 0;                           // live: FrameSource::reconnects
  // The reading thread's CPU seconds: in the source's reads (demuxing and
  // decoding), and the rest (resizing, normalising, measuring quality).
  double decode_cpu_s = 0, preprocess_cpu_s = 0;
};

class WindowReader {
 public:
  // Starts the decoding thread over an opened source (datasets/live_source.h
  // open_input).
  WindowReader(std::unique_ptr<FrameSource> source, const ArtifactInput& input,
               WindowReaderOptions options);
  ~WindowReader();  // close()

  // The next window, or nothing at the end (then end() says why) or as soon
  // as `*stop` is true.
  std::optional<Window> next(const std::atomic<bool>* stop = nullptr);
  // Stops decoding and joins the thread (waits for a read in progress: at
  // most the live source's read timeout). end() is final afterwards.
  void close();
  const ReaderEnd& end() const { return end_; }
  // CPU seconds of the reading thread so far (-1 once closed).
  double thread_cpu_s();
  double source_fps() const { return source_fps_; }

 private:
  void run();
  void push(Window w);
  bool stopping();

  std::unique_ptr<FrameSource> source_;
  ArtifactInput input_;
  WindowReaderOptions options_;
  double source_fps_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Window> queue_;
  bool done_ = false, stop_ = false;
  int64_t dropped_frames_ = 0, dropped_windows_ = 0;
  ReaderEnd end_;
  std::thread thread_;
};

}  // namespace adaptive
