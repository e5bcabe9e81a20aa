// The annotated copy of a video (adaptive-infer --overlay): each frame with
// the label and confidence of the window it closed and a gauge of the width
// that window ran at. Written to a temporary file and renamed into place by
// finish(), so a failed run leaves no half-written video.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "infer/engine.h"

namespace adaptive {

class OverlayWriter {
 public:
  // `path`: .avi (MJPG); `fps`: the source's frame rate.
  OverlayWriter(std::string path, double fps, std::vector<double> widths);
  ~OverlayWriter();  // removes the temporary file unless finish() ran

  // Draws `r` on each RGB frame and appends them.
  void write(const std::vector<cv::Mat>& rgb_frames, const WindowResult& r);
  // Closes the video and renames it into place. Throws std::runtime_error.
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace adaptive
