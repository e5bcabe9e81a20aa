// Where frames come from. OpenCV's decoders stay behind this interface so that
// the rest of the toolkit (clip datasets, streaming inference, tests) sees a
// sequence of RGB frames and nothing else.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace adaptive {

// A forward-only sequence of frames, each an 8-bit RGB image (CV_8UC3).
class FrameSource {
 public:
  virtual ~FrameSource() = default;

  // Reads the next frame into `rgb`. Returns false at the end of the sequence.
  // Throws BadSampleError when the source fails in a way that is not a normal
  // end (unreadable frame, frame size changing mid-stream).
  virtual bool read(cv::Mat& rgb) = 0;
  // Moves past the next frame, as read() would, without making its RGB image:
  // for a frame the caller will not look at (a video decodes it, since later
  // frames may need it, but does not convert it). Same return and errors.
  virtual bool skip() {
    cv::Mat unused;
    return read(unused);
  }

  // Frames per second of the source (the container's rate for video files,
  // the configured rate for frame folders).
  virtual double fps() const = 0;

  // Frame count announced by the container, or -1 when unknown. Decoders may
  // deliver fewer (truncated file); see decode_frames().
  virtual int64_t announced_frames() const = 0;

  // File or folder name, for messages.
  virtual const std::string& name() const = 0;

  // Whether frames arrive in real time (a stream, a camera, a paced file):
  // a reader that falls behind must drop frames, not make the source wait
  // (datasets/live_source.h).
  virtual bool live() const { return false; }
  // Times a live source reopened its stream after it stopped.
  virtual int64_t reconnects() const { return 0; }
};

// Converts any 8-bit decoder output (gray, BGR, BGRA) to RGB. Throws
// BadSampleError naming `name` for other depths or channel counts.
void to_rgb(const cv::Mat& in, cv::Mat& rgb, const std::string& name);

// File extensions recognised as videos and as frame images (lower case, with dot).
const std::vector<std::string>& video_extensions();
const std::vector<std::string>& image_extensions();

// Whether `path`'s extension, compared case-insensitively, is one of `exts`.
bool has_extension(const std::string& path, const std::vector<std::string>& exts);

// Opens a video file (decoded with OpenCV's FFmpeg backend) or a frame folder
// (Jester style: one image per frame, frames in file-name order). Grayscale
// and BGRA inputs are converted to RGB. `folder_fps` is the rate given to
// frame folders, which carry none. Throws BadSampleError when the path is
// missing, empty, or cannot be opened as either.
std::unique_ptr<FrameSource> open_frame_source(const std::string& path, double folder_fps = 12.0);

// A source over frames held in memory (tests, generated content).
std::unique_ptr<FrameSource> memory_frame_source(std::vector<cv::Mat> rgb_frames, double fps,
                                                 std::string name = "<memory>");

// Frames [first, last] of `source` (inclusive, counted from its first
// frame; last < 0: to its end), as a source of their own: the frames before
// `first` are decoded and dropped. Throws BadSampleError for a range that is
// empty or negative.
std::unique_ptr<FrameSource> frame_range(std::unique_ptr<FrameSource> source, int64_t first,
                                         int64_t last);

// All frames in [first, last] (inclusive; last < 0 means to the end) of a
// source, read in order. Throws BadSampleError if the source yields no frame
// in range, or if it ends clearly before the count its container announced
// (a truncated file: more than 2% and more than one frame missing).
// Whether a source that delivered `decoded` frames of the `announced` ones
// (announced < 0: unknown) was cut short: more than 2% and more than one
// frame missing (containers round their counts).
bool looks_truncated(int64_t decoded, int64_t announced);

struct DecodedFrames {
  std::vector<cv::Mat> frames;  // RGB, CV_8UC3, all the same size
  double fps = 0;
  int64_t first = 0;  // index of frames[0] in the source
};
// `convert`, where given, makes each frame as it is decoded into the one
// kept (a resize: a long range never sits in memory at full size).
DecodedFrames decode_frames(FrameSource& source, int64_t first = 0, int64_t last = -1,
                            const std::function<cv::Mat(const cv::Mat&)>& convert = {});

}  // namespace adaptive
