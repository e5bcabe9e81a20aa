// Turns sampled RGB frames into a normalised float tensor [3, T, H, W].
//
// Two stages, so that the first can be cached:
//   resize()  scales a frame so its shorter side is `short_side` (deterministic)
//   apply()   crops (random for training, centred for evaluation), jitters
//             brightness and contrast (training only), optionally flips
//             horizontally (training only, with a label map, so that e.g.
//             swipe_left becomes swipe_right), scales pixels to [0, 1] and
//             normalises with mean/std per channel.
// All random choices of one clip are drawn once, so every frame of a clip gets
// the same crop, flip and jitter.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>
#include <opencv2/core.hpp>

#include "common/config.h"
#include "datasets/rng.h"

namespace adaptive {

// Also the config's transform keys (data.short_side, ...): visit() declares
// them, except the flip map, which the trainer derives from data.flip_pairs.
struct ClipTransformOptions {
  int short_side = 72;      // shorter side after resize, in pixels (>= crop size)
  int crop_height = 64;     // output H
  int crop_width = 64;      // output W
  double brightness = 0.2;  // training: pixel values scaled by U[1-b, 1+b]; 0 = off
  double contrast =
      0.2;  // training: distance to the clip's mean grey scaled by U[1-c, 1+c]; 0 = off
  bool horizontal_flip = false;  // training: flip half of the clips
  // Label of the mirrored clip, one entry per class (required when flipping;
  // a class that has no mirror maps to itself).
  std::vector<int> flip_label_map;
  std::vector<double> mean = {0.485, 0.456, 0.406};  // RGB, on [0, 1] pixels (3 values)
  std::vector<double> std = {0.229, 0.224, 0.225};

  // The config declares one square crop ("crop").
  void visit(ConfigVisitor& v);
};

// The evaluation preprocessing an exported model declares (adaptive.json
// "input": resize.short_side, height, width, mean, std; docs/artifact.md):
// what inference applies to every window.
ClipTransformOptions eval_transform_options(int64_t short_side, int64_t height, int64_t width,
                                            const std::vector<double>& mean,
                                            const std::vector<double>& std);

struct TransformedClip {
  at::Tensor data;  // float32 [3, T, H, W]
  int label = -1;   // the label after any flip
};

class ClipTransform {
 public:
  // Throws std::invalid_argument on a crop larger than short_side, a
  // non-positive size or std, jitter outside [0, 1), or a flip without a map.
  explicit ClipTransform(ClipTransformOptions options);

  // Frame resized so its shorter side is short_side: an image of its own,
  // never `rgb`'s memory (a decoder reuses its buffer for the next frame).
  // Shrinking averages areas: first a box average by the largest integer
  // factor that divides both sides and keeps the frame at least the target's
  // size (where there is one), then an area resize the rest of the way.
  // Training and inference both resize here, so they see the same pixels.
  cv::Mat resize(const cv::Mat& rgb) const;

  // Crop, jitter, flip and normalise resized frames (all the same size, at
  // least crop_height x crop_width). `train` enables the random parts, drawn
  // from `rng`. Throws std::invalid_argument on frames smaller than the crop.
  TransformedClip apply(const std::vector<const cv::Mat*>& frames, int label, bool train,
                        Rng& rng) const;
  // One resized frame as apply() makes it for evaluation (centred crop, no
  // jitter): [3, H, W], equal to that frame's slice of apply(..., false, ...).
  // A stream preprocesses each new frame once this way.
  at::Tensor apply_frame(const cv::Mat& frame) const;

  const ClipTransformOptions& options() const { return options_; }

 private:
  using Lut = std::array<std::array<float, 256>, 3>;  // (channel, byte) -> value
  Lut make_lut(double brightness, double contrast, double mean_grey) const;
  // Writes `f`'s crop `roi` through `lut` (mirrored when `flip`) at `dst`, its
  // three channel planes `plane` floats apart.
  static void write_frame(const cv::Mat& f, const cv::Size& size, const cv::Rect& roi,
                          const Lut& lut, bool flip, float* dst, int64_t plane);
  void check_size(const cv::Size& size) const;
  ClipTransformOptions options_;
  Lut eval_lut_;  // make_lut(1, 1, 0): evaluation's, made once for apply_frame
};

}  // namespace adaptive
