#include "datasets/data_loader.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>

#include <ATen/ATen.h>
#include <catch2/catch.hpp>
#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include "datasets/errors.h"
#include "test_support.h"

using namespace adaptive;
using adaptive::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string& tiny_dataset() {
  return test::tiny_synth_dataset();
}

VideoClipDatasetOptions small_clips(int64_t cache_mb = 0) {
  VideoClipDatasetOptions o;
  o.sampler.frames = 4;
  o.sampler.frame_stride = 2;
  o.transform.short_side = 40;
  o.transform.crop_height = o.transform.crop_width = 32;
  o.transform.brightness = o.transform.contrast = 0.2;
  o.cache_mb = cache_mb;
  return o;
}

// Unjittered clips of small_clips() carrying 3 past frames, so a frame's
// mean says which video it came from.
VideoClipDatasetOptions clips_with_past() {
  VideoClipDatasetOptions o = small_clips();
  o.transform.brightness = o.transform.contrast = 0;
  o.sampler.past_frames = 3;
  return o;
}

// The mean of frame t of a clip [3, T, H, W].
double mean_of(const at::Tensor& clip, int64_t t) {
  return clip.select(1, t).mean().item<double>();
}

std::vector<Batch> run_epoch(DataLoader& loader, int64_t epoch, int64_t first_batch = 0) {
  loader.start_epoch(epoch, first_batch);
  std::vector<Batch> batches;
  while (auto b = loader.next()) batches.push_back(std::move(*b));
  return batches;
}

void require_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].samples == b[i].samples);
    CHECK(at::equal(a[i].labels, b[i].labels));
    CHECK(at::equal(a[i].clips, b[i].clips));
  }
}

// The tiny dataset's 20 clips, 2 per class, made lopsided: the 18 not of
// the last clip's class relabelled as one other class.
struct Lopsided {
  std::shared_ptr<VideoClipDataset> dataset;
  int rare = 0;  // the class of 2 clips
};
Lopsided lopsided_set() {
  DatasetIndex index = read_manifest(tiny_dataset() + "/train.csv");
  REQUIRE(index.samples.size() == 20);
  const int rare = index.samples[19].label, common = rare == 0 ? 1 : 0;
  for (auto& sample : index.samples)
    if (sample.label != rare) sample.label = common;
  REQUIRE(index.class_counts()[static_cast<size_t>(rare)] == 2);
  return {std::make_shared<VideoClipDataset>(index, small_clips()), rare};
}

DataLoaderOptions balanced_options(double power) {
  DataLoaderOptions lo;
  lo.batch_size = 10;
  lo.workers = 0;
  lo.balance_classes = true;
  lo.balance_power = power;
  return lo;
}

// What epochs 0 to `epochs` - 1 of `loader` draw: clips, and clips of `rare`.
struct Draws {
  int64_t clips = 0, rare = 0;
};
Draws count_draws(DataLoader& loader, int64_t epochs, int rare) {
  Draws d;
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    for (const auto& b : run_epoch(loader, epoch)) {
      d.clips += b.labels.size(0);
      d.rare += (b.labels == rare).sum().item<int64_t>();
    }
  }
  return d;
}

}  // namespace

TEST_CASE("batches are [N, 3, T, H, W] float RGB with int64 labels", "[datasets][loader]") {
  auto ds = std::make_shared<VideoClipDataset>(read_manifest(tiny_dataset() + "/train.csv"),
                                               small_clips());
  DataLoaderOptions lo;
  lo.batch_size = 6;
  DataLoader loader(ds, lo);
  CHECK(loader.batches_per_epoch() == 4);  // 20 clips
  const auto batches = run_epoch(loader, 0);
  REQUIRE(batches.size() == 4);
  CHECK(batches[0].clips.sizes() == at::IntArrayRef({6, 3, 4, 32, 32}));
  CHECK(batches[0].clips.scalar_type() == at::kFloat);
  CHECK(batches[0].labels.scalar_type() == at::kLong);
  CHECK(batches[3].clips.size(0) == 2);
  std::set<int64_t> seen;
  for (const auto& b : batches) seen.insert(b.samples.begin(), b.samples.end());
  CHECK(seen.size() == 20);  // every sample once per epoch
}

TEST_CASE("balanced epochs draw every class equally often", "[datasets][loader]") {
  const Lopsided set = lopsided_set();
  const DataLoaderOptions lo = balanced_options(1.0);
  DataLoader loader(set.dataset, lo);
  const Draws d = count_draws(loader, 10, set.rare);
  CHECK(d.clips == 200);  // as many clips an epoch as the dataset holds
  // Half the draws are of the rare class (2 of 20 clips): 100 expected,
  // binomial spread 7; unbalanced it would be 20.
  CHECK(d.rare > 70);
  CHECK(d.rare < 130);
  // Deterministic by seed and epoch.
  DataLoader again(set.dataset, lo);
  require_same(run_epoch(loader, 3), run_epoch(again, 3));
}

TEST_CASE("a balance power between 0 and 1 draws classes by a power of their counts",
          "[datasets][loader]") {
  const Lopsided set = lopsided_set();
  DataLoader half_loader(set.dataset, balanced_options(0.5));
  DataLoader none_loader(set.dataset, balanced_options(0.0));
  const Draws half = count_draws(half_loader, 20, set.rare);
  const Draws none = count_draws(none_loader, 20, set.rare);
  CHECK(half.clips == 400);
  CHECK(none.clips == 400);
  // Power 0.5: weights sqrt(2) and sqrt(18), so a quarter of the draws are
  // rare, 100 expected of 400 (binomial spread 9); power 0: a tenth, 40
  // (spread 6), the data's own proportion.
  CHECK(half.rare > 70);
  CHECK(half.rare < 130);
  CHECK(none.rare > 20);
  CHECK(none.rare < 60);
}

TEST_CASE("same seed, same batches, whatever the number of workers", "[datasets][loader]") {
  const DatasetIndex index = read_manifest(tiny_dataset() + "/train.csv");
  auto ds = std::make_shared<VideoClipDataset>(index, small_clips());
  auto epoch_with = [&](int workers, uint64_t seed, int64_t epoch) {
    DataLoaderOptions lo;
    lo.batch_size = 4;
    lo.workers = workers;
    lo.prefetch = 2;
    lo.seed = seed;
    DataLoader loader(ds, lo);
    return run_epoch(loader, epoch);
  };
  const auto reference = epoch_with(0, 5, 1);
  require_same(reference, epoch_with(1, 5, 1));
  require_same(reference, epoch_with(2, 5, 1));
  require_same(reference, epoch_with(3, 5, 1));
  // Another epoch or another seed shuffles differently.
  CHECK(epoch_with(2, 5, 2)[0].samples != reference[0].samples);
  CHECK(epoch_with(2, 6, 1)[0].samples != reference[0].samples);
}

TEST_CASE("shards split each global batch, clips as the single loader makes them",
          "[datasets][loader]") {
  auto ds = std::make_shared<VideoClipDataset>(read_manifest(tiny_dataset() + "/train.csv"),
                                               small_clips());
  DataLoaderOptions whole;
  whole.batch_size = 6;
  whole.drop_last = true;
  whole.seed = 3;
  DataLoader single(ds, whole);
  const auto reference = run_epoch(single, 1);  // 3 batches of 6
  std::vector<std::vector<Batch>> shards;
  for (int r = 0; r < 2; ++r) {
    DataLoaderOptions lo = whole;
    lo.batch_size = 3;
    lo.shard_index = r;
    lo.shard_count = 2;
    lo.workers = r + 1;  // the partition does not depend on the worker count
    DataLoader loader(ds, lo);
    CHECK(loader.batches_per_epoch() == 3);
    shards.push_back(run_epoch(loader, 1));
  }
  REQUIRE(reference.size() == 3);
  for (size_t b = 0; b < reference.size(); ++b) {
    REQUIRE(shards[0].size() == 3);
    REQUIRE(shards[1].size() == 3);
    CHECK(at::equal(at::cat({shards[0][b].clips, shards[1][b].clips}), reference[b].clips));
    std::vector<int64_t> samples = shards[0][b].samples;
    samples.insert(samples.end(), shards[1][b].samples.begin(), shards[1][b].samples.end());
    CHECK(samples == reference[b].samples);
  }
  DataLoaderOptions bad = whole;
  bad.shard_index = 2;
  bad.shard_count = 2;
  CHECK_THROWS_WITH(DataLoader(ds, bad), "shard_index must be in [0, shard_count)");
}

TEST_CASE("an epoch resumed at batch k gives the same remaining batches", "[datasets][loader]") {
  auto ds = std::make_shared<VideoClipDataset>(read_manifest(tiny_dataset() + "/train.csv"),
                                               small_clips());
  DataLoaderOptions lo;
  lo.batch_size = 4;
  DataLoader loader(ds, lo);
  const auto full = run_epoch(loader, 3);
  const auto tail = run_epoch(loader, 3, 2);
  require_same(std::vector<Batch>(full.begin() + 2, full.end()), tail);
  CHECK(tail.front().index == 2);
}

TEST_CASE("the cache gives the same clips and skips decoding on later epochs",
          "[datasets][loader]") {
  const DatasetIndex index = read_manifest(tiny_dataset() + "/train.csv");
  auto plain = std::make_shared<VideoClipDataset>(index, small_clips(0));
  auto cached = std::make_shared<VideoClipDataset>(index, small_clips(64));
  DataLoaderOptions lo;
  lo.batch_size = 5;
  DataLoader a(plain, lo), b(cached, lo);
  require_same(run_epoch(a, 0), run_epoch(b, 0));
  CHECK(cached->cache_stats().misses == 20);
  require_same(run_epoch(a, 1), run_epoch(b, 1));
  CHECK(cached->cache_stats().misses == 20);
  CHECK(cached->cache_stats().hits == 20);
  CHECK(cached->cache_stats().videos == 20);
}

TEST_CASE("preloading decodes every video into the cache on several threads",
          "[datasets][loader]") {
  const DatasetIndex index = read_manifest(tiny_dataset() + "/train.csv");
  auto plain = std::make_shared<VideoClipDataset>(index, small_clips(0));
  auto cached = std::make_shared<VideoClipDataset>(index, small_clips(64));
  CHECK(plain->preload(2) == 0);  // no cache: nothing to do
  CHECK(plain->cache_stats().misses == 0);
  CHECK(cached->preload(3) == 20);
  CHECK(cached->cache_stats().misses == 20);
  DataLoaderOptions lo;
  lo.batch_size = 5;
  DataLoader a(plain, lo), b(cached, lo);
  require_same(run_epoch(a, 0), run_epoch(b, 0));
  CHECK(cached->cache_stats().misses == 20);  // the epoch decoded nothing
  CHECK(cached->cache_stats().hits == 20);

  // A budget of about ten videos: preloading stops once it is spent.
  const int64_t video_bytes = cached->cache_stats().bytes / 20;
  VideoClipDatasetOptions small_budget = small_clips();
  small_budget.cache_mb = 1;
  auto partial = std::make_shared<VideoClipDataset>(index, small_budget);
  REQUIRE((int64_t{1} << 20) / video_bytes < 20);
  const int64_t kept = partial->preload(2);
  CHECK(kept > 0);
  CHECK(kept < 20);
  CHECK(partial->cache_stats().bytes <= (int64_t{1} << 20));
  CHECK(partial->cache_stats().misses <= kept + 2);  // each thread decodes at most one more

  // A stop request before it starts.
  std::atomic<bool> stop{true};
  auto stopped = std::make_shared<VideoClipDataset>(index, small_clips(64));
  CHECK(stopped->preload(2, &stop) == 0);
}

TEST_CASE("evaluation takes several centred clips per video, unshuffled", "[datasets][loader]") {
  auto ds =
      std::make_shared<VideoClipDataset>(read_manifest(tiny_dataset() + "/val.csv"), small_clips());
  DataLoaderOptions lo;
  lo.batch_size = 4;
  lo.train = false;
  lo.clips_per_video = 3;
  DataLoader loader(ds, lo);
  const auto batches = run_epoch(loader, 0);
  REQUIRE(batches.size() == 8);  // 10 videos x 3 clips / 4
  CHECK(batches[0].samples == std::vector<int64_t>{0, 0, 0, 1});
  CHECK(batches[0].clip_indices == std::vector<int>{0, 1, 2, 0});
  CHECK_FALSE(at::equal(batches[0].clips[0], batches[0].clips[2]));
  require_same(batches, run_epoch(loader, 7));  // no randomness in evaluation
}

TEST_CASE("bad samples are skipped with a warning and counted, or stop the run",
          "[datasets][loader][bad]") {
  TempDir dir;
  const std::string root = tiny_dataset();
  fs::copy_file(root + "/train/push/push_00000.avi", dir.str("good.avi"));
  fs::copy_file(root + "/train/push/push_00000.avi", dir.str("good2.avi"));
  fs::copy_file(root + "/train/push/push_00000.avi", dir.str("cut.avi"));
  fs::resize_file(dir.str("cut.avi"), fs::file_size(dir.str("cut.avi")) * 3 / 5);
  test::write_file(dir.path() / "empty.avi", "");
  test::write_file(
      dir.str("m.csv"),
      "good.avi,push\ncut.avi,push\nempty.avi,push\nmissing.avi,push\ngood2.avi,push\n");
  auto ds = std::make_shared<VideoClipDataset>(read_manifest(dir.str("m.csv")), small_clips());

  std::vector<std::string> warnings;
  DataLoaderOptions lo;
  lo.batch_size = 2;
  lo.workers = 2;
  lo.warn = [&](const std::string& w) { warnings.push_back(w); };
  DataLoader loader(ds, lo);
  const auto batches = run_epoch(loader, 0);
  int64_t clips = 0;
  for (const auto& b : batches) clips += b.clips.size(0);
  CHECK(clips == 2);
  CHECK(loader.skipped_samples() == 3);
  REQUIRE(warnings.size() == 3);
  std::sort(warnings.begin(), warnings.end());
  CHECK_THAT(
      warnings[0],
      Catch::Matches("skipping .*cut\\.avi: truncated or corrupt: decoded [0-9]+ of 16 frames.*"));
  CHECK(warnings[1] == "skipping " + dir.str("empty.avi") + ": empty file (0 bytes)");
  CHECK(warnings[2] == "skipping " + dir.str("missing.avi") + ": no such file or folder");
  run_epoch(loader, 1);
  CHECK(warnings.size() == 3);  // warned once per file, not once per epoch

  // Unshuffled: batch 1 holds only bad files and is passed over; batch indices
  // still name positions in the epoch, so a resume lands where it should.
  DataLoaderOptions in_order = lo;
  in_order.train = false;
  DataLoader ordered_skip(ds, in_order);
  const auto kept = run_epoch(ordered_skip, 0);
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].index == 0);
  CHECK(kept[1].index == 2);

  lo.on_bad_sample = BadSamplePolicy::kFail;
  DataLoader strict(ds, lo);
  strict.start_epoch(0);
  CHECK_THROWS_AS(
      [&] {
        while (strict.next()) {
        }
      }(),
      BadSampleError);
  lo.train = false;  // unshuffled: the first bad file is cut.avi
  DataLoader ordered(ds, lo);
  ordered.start_epoch(0);
  CHECK_THROWS_WITH(
      [&] {
        while (ordered.next()) {
        }
      }(),
      Catch::StartsWith(dir.str("cut.avi") + ": truncated or corrupt"));

  // Preloading leaves bad videos to the loader, which still warns and skips.
  auto cached =
      std::make_shared<VideoClipDataset>(read_manifest(dir.str("m.csv")), small_clips(64));
  CHECK(cached->preload(2) == 2);
  warnings.clear();
  lo = DataLoaderOptions{};
  lo.batch_size = 2;
  lo.warn = [&](const std::string& w) { warnings.push_back(w); };
  DataLoader after_preload(cached, lo);
  int64_t preloaded_clips = 0;
  for (const auto& b : run_epoch(after_preload, 0)) preloaded_clips += b.clips.size(0);
  CHECK(preloaded_clips == 2);
  CHECK(warnings.size() == 3);
}

TEST_CASE("past frames from another video: a stream's past holds other scenes",
          "[datasets][loader]") {
  TempDir dir;
  // Two videos of one colour each, of two frame sizes: dark (label 0) and
  // bright (label 1), wider.
  DatasetIndex index;
  index.classes = {"dark", "bright"};
  for (int label : {0, 1}) {
    const std::string path = dir.str(std::to_string(label) + ".avi");
    const cv::Size size(label ? 64 : 48, 48);
    cv::VideoWriter out(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 12, size);
    REQUIRE(out.isOpened());
    for (int f = 0; f < 24; ++f)
      out.write(cv::Mat(size, CV_8UC3, cv::Scalar::all(label ? 220 : 30)));
    SampleEntry sample;
    sample.path = path;
    sample.label = label;
    index.samples.push_back(sample);
  }
  VideoClipDatasetOptions o = clips_with_past();
  for (const auto& [share, cache_mb] : {std::pair{0.0, 0}, {1.0, 0}, {1.0, 64}}) {
    INFO("share " << share << ", cache " << cache_mb << " MB");
    o.sampler.past_other = share;
    o.cache_mb = cache_mb;  // cached frames are resized once; others as the clip reads them
    VideoClipDataset set(index, o);
    Rng rng(3);
    for (size_t i : {0, 1}) {
      const at::Tensor clip = set.get(i, /*train=*/true, rng).data;
      REQUIRE(clip.size(1) == 3 + 4);
      // The clip's own frames are its video's; the past is the other
      // video's when asked (share 1), its own otherwise.
      const bool dark = i == 0;
      CHECK((mean_of(clip, 6) < 0) == dark);
      const bool past_dark = share == 1 ? !dark : dark;
      for (int64_t t = 0; t < 3; ++t) CHECK((mean_of(clip, t) < 0) == past_dark);
      // Evaluation clips never take another video's frames.
      const at::Tensor eval = set.get(i, /*train=*/false, rng).data;
      CHECK((mean_of(eval, 0) < 0) == dark);
    }
  }
}

TEST_CASE("a sample cut from a longer video takes its past from the frames before it",
          "[datasets][loader][streams]") {
  TempDir dir;
  // 40 frames: bright up to frame 19, dark from 20. The sample is frames
  // 20-39; its clips' past (3 frames at stride 2) reaches 6 frames before.
  const std::string path = dir.str("stream.avi");
  const cv::Size size(48, 48);
  cv::VideoWriter out(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 12, size);
  REQUIRE(out.isOpened());
  for (int f = 0; f < 40; ++f)
    out.write(cv::Mat(size, CV_8UC3, cv::Scalar::all(f < 20 ? 220 : 30)));
  out.release();
  DatasetIndex index;
  index.classes = {"dark", "bright"};
  SampleEntry sample;
  sample.path = path;
  sample.label = 0;
  sample.start_frame = 20;
  sample.end_frame = 39;
  index.samples.push_back(sample);
  sample.label = 1;  // the bright frames: a second sample of the same file
  sample.start_frame = 0;
  sample.end_frame = 19;
  index.samples.push_back(sample);
  VideoClipDatasetOptions o = clips_with_past();
  for (const auto& [share, cache_mb] : {std::pair{0.0, 0}, {1.0, 0}, {1.0, 64}}) {
    INFO("share " << share << ", cache " << cache_mb << " MB");
    o.sampler.past_other = share;  // a past of its own is kept
    o.cache_mb = cache_mb;
    VideoClipDataset set(index, o);
    bool bright_past = false, dark_past = false;
    for (uint64_t seed = 0; seed < 40; ++seed) {
      Rng rng(seed);
      const at::Tensor clip = set.get(0, /*train=*/true, rng).data;
      REQUIRE(clip.size(1) == 3 + 4);
      for (int64_t t = 3; t < 7; ++t) CHECK(mean_of(clip, t) < 0);  // the sample's own frames
      // A clip at the sample's start sees the bright frames before it.
      (mean_of(clip, 0) > 0 ? bright_past : dark_past) = true;
      // Evaluation clips are the sample's frames only.
      CHECK(mean_of(set.get(0, /*train=*/false, rng).data, 0) < 0);
    }
    CHECK(bright_past);
    CHECK(dark_past);
    if (cache_mb > 0) {  // the two samples share the file's frames, decoded once
      Rng rng(0);
      CHECK(mean_of(set.get(1, /*train=*/false, rng).data, 0) > 0);
      CHECK(set.cache_stats().videos == 1);
      CHECK(set.cache_stats().misses == 1);
    }
  }

  // A start past the video's last frame is the sample's error.
  index.samples = {sample};
  index.samples[0].start_frame = 42;
  index.samples[0].end_frame = -1;
  for (int64_t cache_mb : {0, 64}) {
    o.cache_mb = cache_mb;
    VideoClipDataset set(index, o);
    Rng rng(0);
    CHECK_THROWS_WITH(set.get(0, /*train=*/true, rng),
                      path + ": start_frame 42 is past the last frame (39)");
  }

  // A sample whose end is past the video fails alone; the file stays cached
  // for the others.
  index.samples = {sample, sample};  // the bright frames 0-19
  index.samples[1].start_frame = 30;
  index.samples[1].end_frame = 45;
  o.cache_mb = 64;
  VideoClipDataset set(index, o);
  Rng rng(0);
  CHECK(mean_of(set.get(0, /*train=*/false, rng).data, 0) > 0);
  CHECK_THROWS_WITH(set.get(1, /*train=*/true, rng),
                    path + ": end_frame 45 is past the last frame (39)");
  CHECK(set.cache_stats().videos == 1);
}
