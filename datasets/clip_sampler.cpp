#include "datasets/clip_sampler.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace adaptive {

const NameTable<ShortVideoPolicy>& short_video_names() {
  static const NameTable<ShortVideoPolicy> names(
      "short-video policy",
      {{ShortVideoPolicy::kLoop, "loop"}, {ShortVideoPolicy::kRepeatLast, "repeat_last"}});
  return names;
}

ShortVideoPolicy parse_short_video_policy(const std::string& name) {
  return short_video_names().parse(name);
}

std::string to_string(ShortVideoPolicy policy) {
  return short_video_names().name(policy);
}

int64_t source_frame_index(double position) {
  return static_cast<int64_t>(std::floor(position + 1e-6));
}

void ClipSamplerOptions::visit(ConfigVisitor& v) {
  v.field("frames", frames, 1, 512, "frames per clip (T)");
  v.field("frame_stride", frame_stride, 1, 64, "source frames between clip frames");
  v.field("target_fps", target_fps, 0, 240,
          "> 0: sample clips at this rate instead of frame_stride");
  v.choice("short_video", short_video, short_video_names(),
           "padding of videos shorter than a clip");
  v.field("past_frames", past_frames, 0, 512,
          "training clips of a causal model: this many frames before the T, pooled over the "
          "last T, as its stream sees them (half the steps train without them)");
  v.field("past_other", past_other, 0.0, 1.0,
          "share of those clips whose past frames are the end of a training clip of another "
          "video, as a stream's past holds other gestures (0: the clip's own video)");
}

ClipSampler::ClipSampler(ClipSamplerOptions options) : options_(options) {
  if (options_.frames < 1) {
    throw std::invalid_argument("clip frames must be >= 1, got " + std::to_string(options_.frames));
  }
  if (!(options_.frame_stride >= 1)) {
    throw std::invalid_argument("frame_stride must be >= 1, got " +
                                std::to_string(options_.frame_stride));
  }
  if (options_.past_frames < 0) {
    throw std::invalid_argument("past_frames must be >= 0, got " +
                                std::to_string(options_.past_frames));
  }
  if (!(options_.target_fps >= 0)) {
    throw std::invalid_argument("target_fps must be >= 0, got " +
                                std::to_string(options_.target_fps));
  }
}

double ClipSampler::stride(double source_fps) const {
  if (options_.target_fps > 0 && source_fps > 0) return source_fps / options_.target_fps;
  return options_.frame_stride;
}

double ClipSampler::max_start(int64_t num_frames, double stride) const {
  // The last clip frame sits at start + (T-1)*stride and must be <= num_frames-1.
  return std::max(0.0, static_cast<double>(num_frames - 1) - (options_.frames - 1) * stride);
}

std::vector<int64_t> ClipSampler::clip_at(double start, int64_t num_frames, double stride) const {
  std::vector<int64_t> indices(options_.frames);
  for (int t = 0; t < options_.frames; ++t) {
    int64_t i = source_frame_index(start + t * stride);
    if (i >= num_frames) {
      i = options_.short_video == ShortVideoPolicy::kLoop ? i % num_frames : num_frames - 1;
    }
    indices[t] = i;
  }
  return indices;
}

int64_t ClipSampler::reach(int strides, double source_fps) const {
  return static_cast<int64_t>(std::ceil(strides * stride(source_fps) - 1e-6));
}

int64_t ClipSampler::past_reach(double source_fps) const {
  return reach(options_.past_frames, source_fps);
}

int64_t ClipSampler::clip_reach(double source_fps) const {
  return reach(options_.frames - 1, source_fps);
}

std::vector<int64_t> ClipSampler::random_clip(int64_t num_frames, double source_fps, Rng& rng,
                                              int64_t lead) const {
  if (num_frames < 1) throw std::invalid_argument("random_clip: video has no frame");
  const double s = stride(source_fps);
  const int64_t last_start = static_cast<int64_t>(std::floor(max_start(num_frames, s)));
  const double start = static_cast<double>(rng.uniform_int(0, last_start));
  std::vector<int64_t> indices;
  for (int t = options_.past_frames; t > 0; --t)
    indices.push_back(std::max<int64_t>(-lead, source_frame_index(start - t * s)));
  const std::vector<int64_t> clip = clip_at(start, num_frames, s);
  indices.insert(indices.end(), clip.begin(), clip.end());
  return indices;
}

std::vector<int64_t> ClipSampler::eval_clip(int64_t num_frames, double source_fps, int clip,
                                            int num_clips) const {
  if (num_frames < 1) throw std::invalid_argument("eval_clip: video has no frame");
  if (num_clips < 1 || clip < 0 || clip >= num_clips) {
    throw std::invalid_argument("eval_clip: clip " + std::to_string(clip) + " of " +
                                std::to_string(num_clips));
  }
  const double s = stride(source_fps);
  const double last_start = max_start(num_frames, s);
  const double start =
      num_clips == 1 ? last_start / 2 : last_start * clip / static_cast<double>(num_clips - 1);
  return clip_at(std::floor(start), num_frames, s);
}

}  // namespace adaptive
