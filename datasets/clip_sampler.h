// Chooses which frames of a video make up a clip of `frames` (T) frames.
//
// Frames are taken every `frame_stride` source frames, or, when `target_fps`
// is set, at that rate whatever the source's rate (the stride is then
// source_fps / target_fps and need not be whole). Training clips start at a
// random offset (temporal jitter); evaluation clips are centred, or spread
// evenly over the video when several clips are taken per video. A video
// shorter than a clip is padded by looping it or repeating its last frame.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "datasets/rng.h"

namespace adaptive {

enum class ShortVideoPolicy { kLoop, kRepeatLast };

const NameTable<ShortVideoPolicy>& short_video_names();  // "loop" | "repeat_last"
// Throws std::invalid_argument naming the known policies.
ShortVideoPolicy parse_short_video_policy(const std::string& name);
std::string to_string(ShortVideoPolicy policy);

// The source frame shown at fractional frame position `position` >= 0 (the
// nearest earlier frame; exact products such as 3 * 2.0 do not round down).
// Training clips and inference windows resample frames through this one rule.
int64_t source_frame_index(double position);

// Also the config's clip keys (data.frames, ...): visit() declares them.
struct ClipSamplerOptions {
  int frames = 8;           // T, frames per clip (>= 1)
  double frame_stride = 2;  // source frames between clip frames (>= 1); ignored if target_fps > 0
  double target_fps = 0;    // > 0: sample at this rate instead of frame_stride
  ShortVideoPolicy short_video = ShortVideoPolicy::kLoop;
  // Training clips only: this many frames before the T, at the same stride
  // (a frame before the video's first is its first; a sample cut from a
  // longer video takes them from before its start_frame), so a causal model
  // trains on the past its stream carries (TrainConfig: data.past_frames).
  int past_frames = 0;
  // The share of those training clips whose past frames are the last ones of
  // a training clip of another video of the split (VideoClipDataset): a
  // stream's past holds other gestures and idle scenes, not more of the one
  // being classified. A sample whose video has frames before its start_frame
  // keeps that past, its stream's own.
  double past_other = 0;

  void visit(ConfigVisitor& v);
};

class ClipSampler {
 public:
  // Throws std::invalid_argument on frames < 1, frame_stride < 1 or target_fps < 0.
  explicit ClipSampler(ClipSamplerOptions options);

  // Stride in source frames for a video at `source_fps`.
  double stride(double source_fps) const;

  // Indices (into a video of `num_frames` >= 1 frames) of a training clip
  // starting at a random offset drawn from `rng`: past_frames + T of them.
  // The past may reach `lead` frames before the video's first (negative
  // indices: frames decoded before a sample's start_frame).
  std::vector<int64_t> random_clip(int64_t num_frames, double source_fps, Rng& rng,
                                   int64_t lead = 0) const;
  // Source frames the past of a clip reaches before its first frame.
  int64_t past_reach(double source_fps) const;
  // Source frames from a clip's first frame to its last.
  int64_t clip_reach(double source_fps) const;

  // Indices of clip `clip` of `num_clips` evaluation clips: with one clip the
  // centred one, with several, starts spread evenly from first to last offset.
  std::vector<int64_t> eval_clip(int64_t num_frames, double source_fps, int clip = 0,
                                 int num_clips = 1) const;

  const ClipSamplerOptions& options() const { return options_; }

 private:
  // Source frames that `strides` strides cover, rounded up.
  int64_t reach(int strides, double source_fps) const;
  // The clip starting at (fractional) offset `start`.
  std::vector<int64_t> clip_at(double start, int64_t num_frames, double stride) const;
  // Largest start offset that keeps the clip inside the video (0 if it does not fit).
  double max_start(int64_t num_frames, double stride) const;

  ClipSamplerOptions options_;
};

}  // namespace adaptive
