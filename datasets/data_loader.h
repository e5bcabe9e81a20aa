// Batches of clips, made on worker threads with bounded prefetch.
//
// Deterministic: the order of an epoch is a shuffle drawn from (seed, epoch),
// and every random choice for the clip at position p of that order (temporal
// offset, crop, jitter, flip) comes from an Rng seeded by (seed, epoch, p).
// The same seed therefore gives the same batches whatever the number of
// workers, and an epoch can be resumed at any batch.
//
// Bad samples: a video that cannot be decoded is dropped from its batch with a
// warning naming the file, counted, and not decoded again (`skip`), or stops
// the run by rethrowing its BadSampleError from next() (`fail`).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/enum_names.h"
#include "datasets/video_clip_dataset.h"

namespace adaptive {

enum class BadSamplePolicy { kSkip, kFail };

const NameTable<BadSamplePolicy>& bad_sample_names();  // "skip" | "fail"
// Throws std::invalid_argument naming both.
BadSamplePolicy parse_bad_sample_policy(const std::string& name);
std::string to_string(BadSamplePolicy policy);

struct DataLoaderOptions {
  int batch_size = 8;  // clips per batch (>= 1)
  int workers = 2;     // threads making batches; 0 = on the caller's thread
  int prefetch = 4;    // batches made ahead of the consumer (>= 1; at least one per worker)
  bool train = true;   // random clips and augmentation, shuffled order
  // Training: an epoch draws as many clips as the dataset holds, each of a
  // class drawn with probability proportional to count^(1 - balance_power)
  // and a sample of it drawn uniformly (with replacement), instead of every
  // sample once. balance_power 1: rare classes are seen as often as common
  // ones; 0.5: in proportion to the square root of their counts.
  bool balance_classes = false;
  double balance_power = 1.0;  // [0, 1]
  bool drop_last = false;      // drop a last batch smaller than batch_size
  int clips_per_video = 1;     // evaluation: clips spread over each video (>= 1)
  uint64_t seed = 0;
  // Data-parallel training: the epoch's order is cut into global batches of
  // batch_size * shard_count clips, and this loader yields slice
  // shard_index of each; clips keep their global positions (and so their
  // random draws), whatever the number of shards or workers.
  int shard_index = 0, shard_count = 1;
  BadSamplePolicy on_bad_sample = BadSamplePolicy::kSkip;
  // Receives warnings (one per bad file). Default: a line on stderr.
  std::function<void(const std::string&)> warn;
};

struct Batch {
  at::Tensor clips;               // float32 [N, 3, T, H, W]
  at::Tensor labels;              // int64 [N]
  std::vector<int64_t> samples;   // dataset index of each clip
  std::vector<int> clip_indices;  // which evaluation clip of its video
  int64_t index = 0;              // position of the batch in its epoch
};

class DataLoader {
 public:
  // Throws std::invalid_argument on invalid options.
  DataLoader(std::shared_ptr<const VideoClipDataset> dataset, DataLoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Starts epoch `epoch` at batch `first_batch` (for resuming mid-epoch).
  // Stops any epoch in progress.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);

  // The next batch of the epoch, or nullopt at its end. A batch whose every
  // clip was skipped is passed over. Rethrows a worker's error (any error
  // under `fail`; anything but a bad sample under `skip`).
  std::optional<Batch> next();

  int64_t batches_per_epoch() const;
  // Distinct bad samples seen so far, and their files.
  int64_t skipped_samples() const;
  std::vector<std::string> bad_files() const;
  const VideoClipDataset& dataset() const { return *dataset_; }

 private:
  struct Item {
    int64_t sample;
    int clip;
  };
  struct Result {
    std::optional<Batch> batch;  // empty if every clip was bad
    std::exception_ptr error;
  };
  Result make_batch(int64_t b) const;
  void worker_loop();
  void stop_workers();

  std::shared_ptr<const VideoClipDataset> dataset_;
  DataLoaderOptions options_;

  // The current epoch.
  int64_t epoch_ = 0;
  std::vector<Item> items_;
  int64_t end_batch_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable ready_cv_, space_cv_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
  int64_t next_to_make_ = 0;
  int64_t next_to_take_ = 0;
  std::map<int64_t, Result> ready_;
  mutable std::set<int64_t> bad_samples_;  // guarded by mutex_
};

}  // namespace adaptive
