// A dataset of clips: each sample of a DatasetIndex is decoded, sampled into
// a clip of T frames and transformed into a tensor [3, T, H, W].
//
// With a cache budget, each video file is decoded and resized once and kept
// in memory (up to the budget, first come first kept), so later epochs skip
// the decoder; clip sampling and augmentation still differ every epoch. The
// samples cut from one file (a stream's segments) share its cached frames.
// Thread-safe: get() may be called from several threads at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

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

// Lookups of the cache by sample (hits, misses) and what it holds: video
// files and their bytes.
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
  // sample's video cannot be decoded or holds no frame of its range.
  TransformedClip get(size_t i, bool train, Rng& rng, int clip = 0, int num_clips = 1) const;

  CacheStats cache_stats() const;

  // Decodes every video file into the cache, in index order, on `threads` threads
  // at once, until the cache budget is full or `stop` is set; the first epoch
  // then does not decode on a core that its model step uses. A video that
  // fails to load (cannot be decoded, or any other error) is left to the
  // loader, which skips, fails or rethrows as it always does; preload itself
  // never throws. Returns the files cached. Does nothing without a cache.
  int64_t preload(int threads, const std::atomic<bool>* stop = nullptr) const;

 private:
  // Frames of one file, decoded from its frame `first` on.
  struct Video {
    std::vector<cv::Mat> frames;  // resized when cached, as decoded otherwise
    double fps = 0;
    int64_t first = 0;
    bool resized = false;
  };
  // A sample's frames: video->frames[begin, end), of which the first `lead`
  // precede its start_frame (its clips' past).
  struct SampleFrames {
    std::shared_ptr<const Video> video;
    int64_t begin = 0, end = 0, lead = 0;
  };
  SampleFrames load(size_t i) const;
  // The frames `samples` (of one file) need, their clips' past included,
  // resized as decoded or not.
  std::shared_ptr<Video> decode(const std::vector<size_t>& samples, bool resize) const;
  // The file of sample `i` from the cache, else decoded (resized) and kept
  // if the budget allows; the first file that does not fit is returned but
  // not kept, and no file is kept after it. Null once the budget is spent,
  // or when the file does not decode (each sample then decodes its own
  // range, and meets its own error).
  std::shared_ptr<const Video> cached_file(size_t i) const;
  // Sample `i` in `video`, or nothing where the video does not hold it.
  std::optional<SampleFrames> frames_of(size_t i, std::shared_ptr<const Video> video) const;

  DatasetIndex index_;
  VideoClipDatasetOptions options_;
  ClipSampler sampler_;
  ClipTransform transform_;
  std::map<std::string, std::vector<size_t>> samples_of_file_;

  mutable std::mutex cache_mutex_;
  mutable std::map<std::string, std::shared_ptr<const Video>> cache_;
  mutable std::set<std::string> undecodable_;  // files whose whole range failed to decode
  mutable bool cache_full_ = false;
  mutable CacheStats cache_stats_;
};

}  // namespace adaptive
