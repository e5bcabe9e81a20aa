// A dataset of clips: each sample of a DatasetIndex is decoded, sampled into
// a clip of T frames and transformed into a tensor [3, T, H, W].
//
// With a cache budget, each video is decoded and resized once and kept in
// memory (up to the budget, first come first kept), so later epochs skip the
// decoder; clip sampling and augmentation still differ every epoch.
// Thread-safe: get() may be called from several threads at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

#include "datasets/clip_sampler.h"
#include "datasets/clip_transform.h"
#include "datasets/dataset_index.h"

namespace adaptive {

struct VideoClipDatasetOptions {
  ClipSamplerOptions sampler;
  ClipTransformOptions transform;
  double folder_fps = 12;  // frame rate assumed for frame folders (Jester: 12)
  int64_t cache_mb = 0;    // memory for decoded, resized videos; 0 = no cache
};

struct CacheStats {
  int64_t hits = 0, misses = 0, videos = 0, bytes = 0;
};

class VideoClipDataset {
 public:
  // Throws std::invalid_argument on invalid sampler/transform options or a
  // flip label map whose size differs from the number of classes.
  VideoClipDataset(DatasetIndex index, VideoClipDatasetOptions options);

  size_t size() const { return index_.samples.size(); }
  const DatasetIndex& index() const { return index_; }
  const VideoClipDatasetOptions& options() const { return options_; }

  // Clip of sample `i`. Training (`train`): random temporal offset and
  // augmentation drawn from `rng`. Evaluation: clip `clip` of `num_clips`
  // spread over the video, centre crop. Throws BadSampleError when the
  // sample's video cannot be decoded.
  TransformedClip get(size_t i, bool train, Rng& rng, int clip = 0, int num_clips = 1) const;

  CacheStats cache_stats() const;

  // Decodes every video into the cache, in index order, on `threads` threads
  // at once, until the cache budget is full or `stop` is set; the first epoch
  // then does not decode on a core that its model step uses. A video that
  // fails to load (cannot be decoded, or any other error) is left to the
  // loader, which skips, fails or rethrows as it always does; preload itself
  // never throws. Returns the videos cached. Does nothing without a cache.
  int64_t preload(int threads, const std::atomic<bool>* stop = nullptr) const;

 private:
  struct Video {
    std::vector<cv::Mat> frames;  // resized when cached, as decoded otherwise
    double fps = 0;
    int64_t lead = 0;  // frames[0..lead) precede the sample's start_frame: its clips' past
    bool resized = false;
  };
  std::shared_ptr<const Video> load(size_t i) const;

  DatasetIndex index_;
  VideoClipDatasetOptions options_;
  ClipSampler sampler_;
  ClipTransform transform_;

  mutable std::mutex cache_mutex_;
  mutable std::map<size_t, std::shared_ptr<const Video>> cache_;
  mutable CacheStats cache_stats_;
};

}  // namespace adaptive
