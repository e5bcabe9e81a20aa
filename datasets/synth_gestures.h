// The built-in dataset: synthetic gesture videos in the spirit of Jester.
//
// A "hand" (an elongated blob with a thumb mark, so rotation shows) performs
// one of ten gestures in front of a background. Each clip has a difficulty in
// [0, 1], spread evenly over the range, that drives everything which makes a
// clip hard to read: smaller and lower-contrast hand, background clutter,
// moving look-alike distractors, sensor noise, blur, dim and flickering light,
// faster and smaller motion, and partial occlusion. Easy clips are solvable by
// a narrow network; hard ones need the full width.
//
// Output, deterministic for a given seed and options:
//   DIR/classes.txt                     class names, one per line (label order)
//   DIR/{train,val,test}/<class>/<id>.avi   MJPG clips, folder-per-class layout
//   DIR/{train,val,test}.csv            manifests: path,label,difficulty
//   DIR/streams/{train,val,test}/stream_<k>.avi   long videos: gestures between idle
//                                                 stretches; train to train on
//                                                 (data.train_streams), val to tune a
//                                                 policy on, test to report on
//   DIR/streams/{train,val,test}/stream_<k>.json  their timeline:
//                                                 [{label, start_s, end_s, difficulty}]
//   DIR/synth.json                      the options and counts that made it
// The folder is built beside DIR (a hidden sibling) and renamed into place
// when complete, so an interrupted run leaves no half-written dataset; with
// `overwrite` the new folder and the old one are exchanged in one rename, so
// DIR always holds a whole dataset, the old one until the new one is done.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace adaptive {

// Class names, in label order. Mirror pairs (for horizontal flip): swipe_left
// <-> swipe_right, rotate_cw <-> rotate_ccw.
const std::vector<std::string>& synth_gesture_classes();
// Label of each class's mirror image, index = label.
std::vector<int> synth_gesture_flip_map();

struct SynthOptions {
  std::string out_dir;
  uint64_t seed = 1;
  int train_per_class = 120;  // clips per class and split
  int val_per_class = 30;
  int test_per_class = 30;
  int width = 160;  // frame size, pixels
  int height = 120;
  int frames = 32;  // frames per clip
  double fps = 16;
  int train_streams = 24;  // long stream videos to train on (datasets/stream_samples.h)
  int val_streams = 12;    // long stream videos to tune on (as many as test: one segment is 0.6 pt)
  int test_streams = 12;   // and to report on (other seeds: never seen while tuning)
  double stream_seconds = 40;
  double max_difficulty = 1;  // difficulties spread over [0, max_difficulty]
  int threads = 0;            // render threads; 0 = all cores
  bool overwrite = false;     // replace an existing out_dir
};

struct SynthSummary {
  std::vector<std::string> classes;
  int64_t clips[3] = {0, 0, 0};  // train, val, test
  int64_t train_streams = 0, val_streams = 0, test_streams = 0;
  int64_t frames = 0;  // rendered, all videos
  int64_t bytes = 0;   // on disk
  double seconds = 0;  // wall time
};

// Throws std::invalid_argument on invalid options (naming the option) and
// std::runtime_error when out_dir exists and `overwrite` is off, or a file
// cannot be written. `progress` receives a line now and then.
SynthSummary generate_synth_gestures(const SynthOptions& options,
                                     const std::function<void(const std::string&)>& progress = {});

// The per-clip renderer, exposed for tests: frames of one clip of `label` at
// `difficulty`, as BGR images, the same for the same seed.
std::vector<cv::Mat> render_synth_clip(int label, double difficulty, uint64_t seed,
                                       const SynthOptions& options);

}  // namespace adaptive
