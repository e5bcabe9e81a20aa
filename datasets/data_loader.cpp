#include "datasets/data_loader.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <stdexcept>

#include <ATen/ATen.h>

#include "common/threads.h"
#include "datasets/errors.h"

namespace adaptive {
namespace {
constexpr uint64_t kShuffleStream = 0x5348554646ULL;  // separates the shuffle from per-clip draws
}

const NameTable<BadSamplePolicy>& bad_sample_names() {
  static const NameTable<BadSamplePolicy> names(
      "on_bad_sample policy", {{BadSamplePolicy::kSkip, "skip"}, {BadSamplePolicy::kFail, "fail"}});
  return names;
}

BadSamplePolicy parse_bad_sample_policy(const std::string& name) {
  return bad_sample_names().parse(name);
}

std::string to_string(BadSamplePolicy policy) {
  return bad_sample_names().name(policy);
}

DataLoader::DataLoader(std::shared_ptr<const VideoClipDataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  if (!dataset_) throw std::invalid_argument("DataLoader: no dataset");
  if (options_.batch_size < 1) throw std::invalid_argument("batch_size must be >= 1");
  if (options_.workers < 0) throw std::invalid_argument("workers must be >= 0");
  if (options_.prefetch < 1) throw std::invalid_argument("prefetch must be >= 1");
  if (options_.clips_per_video < 1) throw std::invalid_argument("clips_per_video must be >= 1");
  if (options_.shard_count < 1 || options_.shard_index < 0 ||
      options_.shard_index >= options_.shard_count)
    throw std::invalid_argument("shard_index must be in [0, shard_count)");
  if (!options_.warn) {
    options_.warn = [](const std::string& msg) { std::cerr << "warning: " << msg << "\n"; };
  }
}

DataLoader::~DataLoader() {
  stop_workers();
}

int64_t DataLoader::batches_per_epoch() const {
  const int64_t clips =
      static_cast<int64_t>(dataset_->size()) * (options_.train ? 1 : options_.clips_per_video);
  const int64_t bs = static_cast<int64_t>(options_.batch_size) * options_.shard_count;
  return options_.drop_last ? clips / bs : (clips + bs - 1) / bs;
}

void DataLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  stop_workers();
  epoch_ = epoch;
  items_.clear();
  const int64_t n = static_cast<int64_t>(dataset_->size());
  if (options_.train && options_.balance_classes) {
    Rng rng(derive_seed(options_.seed, {static_cast<uint64_t>(epoch), kShuffleStream}));
    std::map<int, std::vector<int64_t>> by_class;
    for (int64_t s = 0; s < n; ++s)
      by_class[dataset_->index().samples[static_cast<size_t>(s)].label].push_back(s);
    std::vector<const std::vector<int64_t>*> classes;
    std::vector<double> cumulative;  // of the classes' weights
    for (const auto& [label, members] : by_class) {
      classes.push_back(&members);
      const double weight =
          std::pow(static_cast<double>(members.size()), 1.0 - options_.balance_power);
      cumulative.push_back((cumulative.empty() ? 0.0 : cumulative.back()) + weight);
    }
    for (int64_t k = 0; k < n; ++k) {
      // Equal weights draw an index, as before weights existed: the same
      // seed gives the same epochs it always gave.
      const auto c =
          options_.balance_power == 1.0
              ? static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(classes.size()) - 1))
              : std::min<size_t>(
                    static_cast<size_t>(std::upper_bound(cumulative.begin(), cumulative.end(),
                                                         rng.uniform(0.0, cumulative.back())) -
                                        cumulative.begin()),
                    classes.size() - 1);
      const auto& members = *classes[c];
      items_.push_back({members[static_cast<size_t>(
                            rng.uniform_int(0, static_cast<int64_t>(members.size()) - 1))],
                        0});
    }
  } else if (options_.train) {
    Rng rng(derive_seed(options_.seed, {static_cast<uint64_t>(epoch), kShuffleStream}));
    const std::vector<int64_t> order = shuffled_indices(n, rng);
    for (int64_t s : order) items_.push_back({s, 0});
  } else {
    for (int64_t s = 0; s < n; ++s) {
      for (int c = 0; c < options_.clips_per_video; ++c) items_.push_back({s, c});
    }
  }
  end_batch_ = batches_per_epoch();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
    next_to_make_ = next_to_take_ = std::clamp<int64_t>(first_batch, 0, end_batch_);
    ready_.clear();
  }
  for (int w = 0; w < options_.workers; ++w) threads_.emplace_back([this] { worker_loop(); });
}

void DataLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  space_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

DataLoader::Result DataLoader::make_batch(int64_t b) const {
  Result result;
  try {
    const int64_t global = static_cast<int64_t>(options_.batch_size) * options_.shard_count;
    const int64_t begin =
        b * global + static_cast<int64_t>(options_.shard_index) * options_.batch_size;
    const int64_t end = std::min<int64_t>(begin + options_.batch_size, items_.size());
    std::vector<at::Tensor> clips;
    std::vector<int64_t> labels;
    Batch batch;
    batch.index = b;
    for (int64_t p = begin; p < end; ++p) {
      const Item& item = items_[p];
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (bad_samples_.count(item.sample)) continue;
      }
      Rng rng(
          derive_seed(options_.seed, {static_cast<uint64_t>(epoch_), static_cast<uint64_t>(p)}));
      try {
        TransformedClip clip =
            dataset_->get(item.sample, options_.train, rng, item.clip, options_.clips_per_video);
        clips.push_back(std::move(clip.data));
        labels.push_back(clip.label);
        batch.samples.push_back(item.sample);
        batch.clip_indices.push_back(item.clip);
      } catch (const BadSampleError& e) {
        if (options_.on_bad_sample == BadSamplePolicy::kFail) throw;
        std::lock_guard<std::mutex> lock(mutex_);
        if (bad_samples_.insert(item.sample).second)
          options_.warn(std::string("skipping ") + e.what());
      }
    }
    if (!clips.empty()) {
      batch.clips = at::stack(clips);
      batch.labels = at::tensor(labels, at::kLong);
      result.batch = std::move(batch);
    }
  } catch (...) {
    result.error = std::current_exception();
  }
  return result;
}

void DataLoader::worker_loop() {
  make_helper_thread_serial();
  const int64_t ahead = std::max(options_.prefetch, options_.workers);
  for (;;) {
    int64_t b;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      space_cv_.wait(lock, [&] { return stopping_ || next_to_make_ < next_to_take_ + ahead; });
      if (stopping_ || next_to_make_ >= end_batch_) return;
      b = next_to_make_++;
    }
    Result result = make_batch(b);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(b, std::move(result));
    }
    ready_cv_.notify_all();
  }
}

std::optional<Batch> DataLoader::next() {
  for (;;) {
    Result result;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (next_to_take_ >= end_batch_) return std::nullopt;
      if (threads_.empty()) {
        lock.unlock();
        result = make_batch(next_to_take_);
        lock.lock();
      } else {
        ready_cv_.wait(lock, [&] { return ready_.count(next_to_take_) > 0; });
        result = std::move(ready_.at(next_to_take_));
        ready_.erase(next_to_take_);
      }
      ++next_to_take_;
    }
    space_cv_.notify_all();
    if (result.error) {
      stop_workers();
      std::rethrow_exception(result.error);
    }
    if (result.batch) return std::move(result.batch);
  }
}

int64_t DataLoader::skipped_samples() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(bad_samples_.size());
}

std::vector<std::string> DataLoader::bad_files() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> files;
  for (int64_t s : bad_samples_) files.push_back(dataset_->index().samples[s].path);
  return files;
}

}  // namespace adaptive
