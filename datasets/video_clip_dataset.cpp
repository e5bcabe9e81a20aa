#include "datasets/video_clip_dataset.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "datasets/errors.h"
#include "datasets/frame_source.h"

namespace adaptive {

namespace {

// The first frame the clips of `entry` read in a video at `fps`: its start,
// less its past's reach (the frames before a sample cut from a longer video).
int64_t first_read(const SampleEntry& entry, const ClipSampler& sampler, double fps) {
  return std::max<int64_t>(0, entry.start_frame - sampler.past_reach(fps));
}

}  // namespace

VideoClipDataset::VideoClipDataset(DatasetIndex index, VideoClipDatasetOptions options)
    : index_(std::move(index)),
      options_(std::move(options)),
      sampler_(options_.sampler),
      transform_(options_.transform) {
  const auto& map = options_.transform.flip_label_map;
  if (options_.transform.horizontal_flip) {
    if (map.size() != index_.classes.size()) {
      throw std::invalid_argument("flip label map has " + std::to_string(map.size()) +
                                  " entries, the dataset has " +
                                  std::to_string(index_.classes.size()) + " classes");
    }
    for (int label : map) {
      if (label < 0 || label >= static_cast<int>(index_.classes.size())) {
        throw std::invalid_argument("flip label map entry " + std::to_string(label) +
                                    " is not a class index");
      }
    }
  }
  if (options_.cache_mb < 0) throw std::invalid_argument("cache_mb must be >= 0");
  for (size_t i = 0; i < index_.samples.size(); ++i)
    samples_of_file_[index_.samples[i].path].push_back(i);
  if (!(options_.folder_fps > 0)) throw std::invalid_argument("folder_fps must be > 0");
}

std::shared_ptr<VideoClipDataset::Video> VideoClipDataset::decode(
    const std::vector<size_t>& samples, bool resize) const {
  auto source = open_frame_source(index_.samples.at(samples.front()).path, options_.folder_fps);
  int64_t first = std::numeric_limits<int64_t>::max();
  for (size_t i : samples)
    first = std::min(first, first_read(index_.samples[i], sampler_, source->fps()));
  // One sample: to its end_frame, which decode_frames checks. Several: to the
  // file's end, so that one sample's end past it fails that sample alone.
  const int64_t last = samples.size() == 1 ? index_.samples[samples.front()].end_frame : -1;
  std::function<cv::Mat(const cv::Mat&)> convert;
  if (resize) convert = [this](const cv::Mat& f) { return transform_.resize(f); };
  DecodedFrames decoded = decode_frames(*source, first, last, convert);
  auto video = std::make_shared<Video>();
  video->fps = decoded.fps;
  video->first = first;
  video->frames = std::move(decoded.frames);
  video->resized = resize;
  return video;
}

std::optional<VideoClipDataset::SampleFrames> VideoClipDataset::frames_of(
    size_t i, std::shared_ptr<const Video> video) const {
  const SampleEntry& entry = index_.samples[i];
  const int64_t size = static_cast<int64_t>(video->frames.size());
  const int64_t first = first_read(entry, sampler_, video->fps);
  SampleFrames s;
  s.begin = first - video->first;
  s.end = entry.end_frame < 0 ? size : entry.end_frame + 1 - video->first;
  if (s.begin < 0 || s.end > size || entry.start_frame - video->first >= s.end) return std::nullopt;
  s.lead = entry.start_frame - first;
  s.video = std::move(video);
  return s;
}

std::shared_ptr<const VideoClipDataset::Video> VideoClipDataset::cached_file(size_t i) const {
  const std::string& path = index_.samples[i].path;
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(path);
    if (it != cache_.end()) {
      ++cache_stats_.hits;
      return it->second;
    }
    ++cache_stats_.misses;
    if (cache_full_ || undecodable_.count(path)) return nullptr;
  }
  std::shared_ptr<const Video> video;
  try {
    video = decode(samples_of_file_.at(path), /*resize=*/true);
  } catch (const BadSampleError&) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    undecodable_.insert(path);
    return nullptr;
  }
  int64_t bytes = 0;
  for (const auto& f : video->frames) bytes += static_cast<int64_t>(f.total() * f.elemSize());
  std::lock_guard<std::mutex> lock(cache_mutex_);
  auto it = cache_.find(path);  // another thread decoded it meanwhile
  if (it != cache_.end()) return it->second;
  if (cache_stats_.bytes + bytes > options_.cache_mb * (int64_t{1} << 20)) {
    cache_full_ = true;  // first come first kept: this file is used, not kept
  } else {
    cache_.emplace(path, video);
    cache_stats_.bytes += bytes;
    ++cache_stats_.videos;
  }
  return video;
}

VideoClipDataset::SampleFrames VideoClipDataset::load(size_t i) const {
  if (options_.cache_mb > 0) {
    if (auto video = cached_file(i)) {
      if (auto frames = frames_of(i, std::move(video))) return *frames;
    }
  }
  // Not cached: the sample's own range, resized as its clips read it.
  // decode_frames checks its end; only a start past the video is left.
  std::shared_ptr<const Video> video = decode({i}, /*resize=*/false);
  if (auto frames = frames_of(i, video)) return *frames;
  const SampleEntry& entry = index_.samples[i];
  throw BadSampleError(
      entry.path, "start_frame " + std::to_string(entry.start_frame) + " is past the last frame (" +
                      std::to_string(video->first + video->frames.size() - 1) + ")");
}

TransformedClip VideoClipDataset::get(size_t i, bool train, Rng& rng, int clip,
                                      int num_clips) const {
  const SampleFrames sample = load(i);
  const Video& video = *sample.video;
  const int64_t lead = sample.lead;
  const int64_t n = sample.end - sample.begin - lead;
  std::vector<int64_t> indices = train ? sampler_.random_clip(n, video.fps, rng, lead)
                                       : sampler_.eval_clip(n, video.fps, clip, num_clips);
  for (int64_t& idx : indices) idx += sample.begin + lead;
  // Resize only the frames this clip uses when the video is not cached.
  std::map<int64_t, cv::Mat> resized;
  std::vector<const cv::Mat*> frames;
  frames.reserve(indices.size());
  for (int64_t idx : indices) {
    if (video.resized) {
      frames.push_back(&video.frames[idx]);
      continue;
    }
    auto it = resized.find(idx);
    if (it == resized.end()) it = resized.emplace(idx, transform_.resize(video.frames[idx])).first;
    frames.push_back(&it->second);
  }
  // The past from another video: the last past_frames frames of one of its
  // training clips, at this clip's frame size. A sample with a past of its
  // own (frames before its start_frame) keeps it.
  const int past = options_.sampler.past_frames;
  std::vector<cv::Mat> other_frames;
  if (train && past > 0 && lead == 0 && options_.sampler.past_other > 0 && size() > 1 &&
      rng.bernoulli(options_.sampler.past_other)) {
    size_t j = static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(size()) - 2));
    if (j >= i) ++j;
    std::optional<SampleFrames> other;
    try {
      other = load(j);
    } catch (const BadSampleError&) {  // the loader meets it on its own turn
    }
    if (other) {
      const Video& from_video = *other->video;
      const std::vector<int64_t> from =
          sampler_.random_clip(other->end - other->begin, from_video.fps, rng);
      const cv::Size size = frames.back()->size();
      for (size_t k = from.size() - static_cast<size_t>(past); k < from.size(); ++k) {
        const cv::Mat& f = from_video.frames[static_cast<size_t>(other->begin + from[k])];
        cv::Mat scaled = from_video.resized ? f : transform_.resize(f);
        if (scaled.size() != size) cv::resize(scaled, scaled, size, 0, 0, cv::INTER_AREA);
        other_frames.push_back(std::move(scaled));
      }
      for (int k = 0; k < past; ++k)
        frames[static_cast<size_t>(k)] = &other_frames[static_cast<size_t>(k)];
    }
  }
  return transform_.apply(frames, index_.samples[i].label, train, rng);
}

int64_t VideoClipDataset::preload(int threads, const std::atomic<bool>* stop) const {
  if (options_.cache_mb <= 0) return 0;
  std::atomic<size_t> next{0};
  std::atomic<bool> full{false};
  auto work = [&] {
    while (!full && !(stop && *stop)) {
      const size_t i = next++;
      if (i >= size()) return;
      if (samples_of_file_.at(index_.samples[i].path).front() != i) continue;  // a file once
      try {
        cached_file(i);
      } catch (...) {  // the loader meets it again and skips, fails or rethrows as it does
        continue;
      }
      std::lock_guard<std::mutex> lock(cache_mutex_);
      if (cache_full_) full = true;  // the budget is spent
    }
  };
  std::vector<std::thread> pool;
  try {
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  } catch (const std::system_error&) {  // no more threads: those started share the work
  }
  work();
  for (auto& t : pool) t.join();
  return cache_stats().videos;
}

CacheStats VideoClipDataset::cache_stats() const {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  return cache_stats_;
}

}  // namespace adaptive
