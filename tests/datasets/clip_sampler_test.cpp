#include "datasets/clip_sampler.h"

#include <set>

#include <catch2/catch.hpp>

using namespace adaptive;
using Indices = std::vector<int64_t>;

TEST_CASE("stride and centred evaluation clip", "[datasets][sampler]") {
  ClipSampler sampler(
      {/*frames=*/4, /*frame_stride=*/2, /*target_fps=*/0, ShortVideoPolicy::kLoop});
  // 20 frames, clip spans 7 frames: last start 13, centred start 6.
  CHECK(sampler.eval_clip(20, 25) == Indices{6, 8, 10, 12});
}

TEST_CASE("several evaluation clips spread from first to last offset", "[datasets][sampler]") {
  ClipSampler sampler({4, 2, 0, ShortVideoPolicy::kLoop});
  CHECK(sampler.eval_clip(20, 25, 0, 3) == Indices{0, 2, 4, 6});
  CHECK(sampler.eval_clip(20, 25, 1, 3) == Indices{6, 8, 10, 12});
  CHECK(sampler.eval_clip(20, 25, 2, 3) == Indices{13, 15, 17, 19});
  CHECK_THROWS_WITH(sampler.eval_clip(20, 25, 3, 3), "eval_clip: clip 3 of 3");
}

TEST_CASE("short videos loop or repeat the last frame", "[datasets][sampler]") {
  ClipSampler loop({6, 1, 0, ShortVideoPolicy::kLoop});
  ClipSampler repeat({6, 1, 0, ShortVideoPolicy::kRepeatLast});
  CHECK(loop.eval_clip(4, 25) == Indices{0, 1, 2, 3, 0, 1});
  CHECK(repeat.eval_clip(4, 25) == Indices{0, 1, 2, 3, 3, 3});
  Rng rng(1);
  CHECK(repeat.random_clip(1, 25, rng) == Indices{0, 0, 0, 0, 0, 0});
}

TEST_CASE("target fps sets a fractional stride from the source rate", "[datasets][sampler]") {
  ClipSampler sampler({4, 1, /*target_fps=*/10, ShortVideoPolicy::kLoop});
  CHECK(sampler.stride(25) == Approx(2.5));
  // 30 frames at 25 fps; clip spans 7.5 frames; last start 21.5, centred 10.75 -> 10.
  CHECK(sampler.eval_clip(30, 25) == Indices{10, 12, 15, 17});
}

TEST_CASE("training clips jitter in time, deterministically", "[datasets][sampler]") {
  ClipSampler sampler({4, 2, 0, ShortVideoPolicy::kLoop});
  std::set<int64_t> starts;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Rng a(seed), b(seed);
    const Indices clip = sampler.random_clip(20, 25, a);
    CHECK(clip == sampler.random_clip(20, 25, b));
    REQUIRE(clip.size() == 4);
    for (size_t t = 1; t < clip.size(); ++t) CHECK(clip[t] - clip[t - 1] == 2);
    CHECK(clip.back() <= 19);
    starts.insert(clip.front());
  }
  // Every start offset 0..13 is reachable.
  CHECK(starts.size() == 14);
  CHECK(*starts.begin() == 0);
  CHECK(*starts.rbegin() == 13);
}

TEST_CASE("training clips with past frames: the same clip after that many frames before it",
          "[datasets][sampler]") {
  ClipSampler plain({4, 2, 0, ShortVideoPolicy::kLoop});
  ClipSampler with_past({4, 2, 0, ShortVideoPolicy::kLoop, /*past_frames=*/3});
  std::set<int64_t> firsts;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    Rng a(seed), b(seed);
    const Indices clip = plain.random_clip(20, 25, a), long_clip = with_past.random_clip(20, 25, b);
    REQUIRE(long_clip.size() == 7);
    CHECK(Indices(long_clip.begin() + 3, long_clip.end()) == clip);
    for (int t = 0; t < 3; ++t)  // at the stride, the video's first frame before it starts
      CHECK(long_clip[t] == std::max<int64_t>(0, clip.front() - 2 * (3 - t)));
    firsts.insert(long_clip.front());
  }
  CHECK(*firsts.begin() == 0);  // starts near the beginning repeat frame 0
  CHECK(*firsts.rbegin() == 7);
  // Evaluation clips are windows: no past.
  CHECK(with_past.eval_clip(20, 25) == plain.eval_clip(20, 25));
  // A video with `lead` frames before its first: the past reaches into them.
  for (uint64_t seed = 0; seed < 100; ++seed) {
    Rng a(seed), b(seed);
    const Indices clip = plain.random_clip(20, 25, a);
    const Indices led = with_past.random_clip(20, 25, b, /*lead=*/4);
    for (int t = 0; t < 3; ++t) CHECK(led[t] == std::max<int64_t>(-4, clip.front() - 2 * (3 - t)));
  }
  CHECK(with_past.past_reach(25) == 6);
  CHECK_THROWS_WITH(ClipSampler({4, 2, 0, ShortVideoPolicy::kLoop, -1}),
                    "past_frames must be >= 0, got -1");
}

TEST_CASE("sampler options are validated", "[datasets][sampler]") {
  CHECK_THROWS_WITH(ClipSampler({0, 2, 0, ShortVideoPolicy::kLoop}),
                    "clip frames must be >= 1, got 0");
  CHECK_THROWS_WITH(parse_short_video_policy("wrap"),
                    "unknown short-video policy 'wrap' (known: loop, repeat_last)");
}
