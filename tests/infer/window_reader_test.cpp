#include "infer/window_reader.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <torch/torch.h>
#include <catch2/catch.hpp>
#include "datasets/clip_transform.h"
#include "datasets/errors.h"
#include "datasets/live_source.h"
#include "datasets/rng.h"

using namespace adaptive;

namespace {

ArtifactInput input_spec(double fps) {
  ArtifactInput in;
  in.frames = 4;
  in.height = in.width = 16;
  in.short_side = 20;
  in.mean = {0.5, 0.5, 0.5};
  in.std = {0.25, 0.25, 0.25};
  in.fps = fps;
  return in;
}

// Frame i: a flat grey of level 10 * i (so frames tell which they are).
std::vector<cv::Mat> numbered_frames(int n) {
  std::vector<cv::Mat> frames;
  for (int i = 0; i < n; ++i) frames.emplace_back(24, 32, CV_8UC3, cv::Scalar::all((10 * i) % 256));
  return frames;
}

std::vector<Window> all_windows(WindowReader& reader) {
  std::vector<Window> out;
  while (auto w = reader.next()) out.push_back(std::move(*w));
  return out;
}

// A source whose decoder fails at frame `fail_at`.
class FailingSource : public FrameSource {
 public:
  explicit FailingSource(int fail_at) : fail_at_(fail_at) {}
  bool read(cv::Mat& rgb) override {
    if (next_ == fail_at_) throw BadSampleError("broken.avi", "cannot decode frame");
    rgb = cv::Mat(24, 32, CV_8UC3, cv::Scalar::all(next_++));
    return true;
  }
  double fps() const override { return 10; }
  int64_t announced_frames() const override { return 100; }
  const std::string& name() const override { return name_; }

 private:
  int fail_at_, next_ = 0;
  std::string name_ = "broken.avi";
};

// Decodes each frame into the caller's buffer, as OpenCV's decoders do:
// frame i a flat grey of level 10 * i, 12 frames at 8 fps.
class ReusingSource : public FrameSource {
 public:
  bool read(cv::Mat& rgb) override {
    if (next_ == 12) return false;
    rgb.create(24, 32, CV_8UC3);
    rgb.setTo(cv::Scalar::all(10 * next_++));
    return true;
  }
  double fps() const override { return 8; }
  int64_t announced_frames() const override { return 12; }
  const std::string& name() const override { return name_; }

 private:
  int next_ = 0;
  std::string name_ = "reused.avi";
};

}  // namespace

TEST_CASE("frames already at the model's size keep their pixels, not the decoder's next ones",
          "[infer][windows]") {
  ArtifactInput in = input_spec(8);
  in.short_side = 24;  // the source's: nothing to resize
  WindowReader reader(std::make_unique<ReusingSource>(), in, {});
  const auto windows = all_windows(reader);
  REQUIRE(windows.size() == 9);
  for (const auto& w : windows) {
    for (int64_t t = 0; t < 4; ++t) {
      INFO("window " << w.index << ", frame " << t);
      const double level = 10.0 * static_cast<double>(w.index + t) / 255;
      CHECK(w.clip()[0][0][t].mean().item<double>() == Approx((level - 0.5) / 0.25).margin(1e-4));
    }
  }
}

TEST_CASE("frames are resampled to the model's rate", "[infer][windows]") {
  CHECK(source_frame_at(0, 16, 16.0 / 3) == 0);
  CHECK(source_frame_at(1, 16, 16.0 / 3) == 3);
  CHECK(source_frame_at(5, 16, 16.0 / 3) == 15);
  CHECK(source_frame_at(3, 30, 8) == 11);  // floor(3 * 3.75)
  CHECK(source_frame_at(3, 10, 20) == 1);  // a slower source: frames repeat
  CHECK(source_frame_at(7, 25, 0) == 7);   // unknown model rate: every frame
  const WindowSpan span = window_span(2, 8, 3);
  CHECK(span.first_model_frame == 6);
  CHECK(span.last_model_frame == 13);
}

TEST_CASE("windows slide by the stride over resampled, preprocessed frames", "[infer][windows]") {
  // 40 frames at 16 fps, model at 8 fps: model frames are source frames 0, 2, ..., 38.
  WindowReaderOptions o;
  o.stride = 2;
  o.keep_frames = true;
  WindowReader reader(memory_frame_source(numbered_frames(40), 16), input_spec(8), o);
  const auto windows = all_windows(reader);
  // 20 model frames, windows of 4 every 2: starts 0, 2, ..., 16.
  REQUIRE(windows.size() == 9);
  CHECK(reader.end().error.empty());
  CHECK(reader.end().frames == 40);
  CHECK(windows[0].start_frame == 0);
  CHECK(windows[0].end_frame == 6);
  CHECK(windows[1].start_frame == 4);
  CHECK(windows[1].end_frame == 10);
  CHECK(windows[8].end_frame == 38);
  CHECK(windows[1].start_s == Approx(4.0 / 16));
  CHECK(windows[1].end_s == Approx(11.0 / 16));
  CHECK(windows[0].new_frames.size() == 7);  // source frames 0..6
  CHECK(windows[1].new_frames.size() == 4);  // 7..10
  for (const auto& w : windows) CHECK_FALSE(w.padded);

  // The clip is exactly what the training transform makes of frames 4, 6, 8, 10.
  ClipTransformOptions t;
  t.short_side = 20;
  t.crop_height = t.crop_width = 16;
  t.mean = {0.5f, 0.5f, 0.5f};
  t.std = {0.25f, 0.25f, 0.25f};
  const ClipTransform transform(t);
  const auto source = numbered_frames(40);
  std::vector<cv::Mat> resized;
  for (int i : {4, 6, 8, 10}) resized.push_back(transform.resize(source[i]));
  std::vector<const cv::Mat*> ptrs;
  for (const auto& f : resized) ptrs.push_back(&f);
  Rng rng(0);
  const at::Tensor expected = transform.apply(ptrs, 0, false, rng).data.unsqueeze(0);
  REQUIRE(windows[1].clip().sizes() == at::IntArrayRef({1, 3, 4, 16, 16}));
  CHECK(windows[1].clip().equal(expected));
  // Its quality is what the window's frames measure together, though each
  // frame was measured once, as it arrived.
  const WindowQuality q = measure_quality(resized), got = windows[1].quality;
  CHECK(got.luma == q.luma);
  CHECK(got.sharpness == q.sharpness);
  CHECK(got.motion == Approx(q.motion).margin(1e-12));
  CHECK(q.motion > 0);
}

// Counts how the reader takes another source's frames.
class CountingSource : public FrameSource {
 public:
  CountingSource(std::unique_ptr<FrameSource> inner, int* reads, int* skips)
      : inner_(std::move(inner)), reads_(reads), skips_(skips) {}
  bool read(cv::Mat& rgb) override { return counted(inner_->read(rgb), reads_); }
  bool skip() override { return counted(inner_->skip(), skips_); }
  double fps() const override { return inner_->fps(); }
  int64_t announced_frames() const override { return inner_->announced_frames(); }
  const std::string& name() const override { return inner_->name(); }

 private:
  // Counts a frame the source gave (not the end's failed call).
  static bool counted(bool got, int* count) {
    if (got) ++*count;
    return got;
  }
  std::unique_ptr<FrameSource> inner_;
  int *reads_, *skips_;
};

// 40 frames at 16 fps through a model at 8 fps, stride 2: the windows, and
// how many frames the reader read and skipped.
struct CountedRead {
  std::vector<Window> windows;
  int reads = 0, skips = 0;
  int64_t frames = 0;  // ReaderEnd::frames
};
CountedRead read_counted(bool keep_frames) {
  WindowReaderOptions o;
  o.stride = 2;
  o.keep_frames = keep_frames;
  CountedRead r;
  WindowReader reader(std::make_unique<CountingSource>(memory_frame_source(numbered_frames(40), 16),
                                                       &r.reads, &r.skips),
                      input_spec(8), o);
  r.windows = all_windows(reader);
  r.frames = reader.end().frames;
  return r;
}

TEST_CASE("source frames no model frame shows are skipped, not converted", "[infer][windows]") {
  // The odd source frames are never shown.
  const CountedRead skipping = read_counted(false);
  CHECK(skipping.reads == 20);
  CHECK(skipping.skips == 20);
  CHECK(skipping.frames == 40);
  // The same windows as a reader that converts every frame (it keeps them).
  const CountedRead every = read_counted(true);
  CHECK(every.reads == 40);
  CHECK(every.skips == 0);
  REQUIRE(every.windows.size() == skipping.windows.size());
  for (size_t i = 0; i < every.windows.size(); ++i) {
    CHECK(every.windows[i].end_frame == skipping.windows[i].end_frame);
    CHECK(every.windows[i].clip().equal(skipping.windows[i].clip()));
  }
}

TEST_CASE("a video shorter than one window is padded with a warning", "[infer][windows]") {
  WindowReader reader(memory_frame_source(numbered_frames(5), 16), input_spec(8), {});
  const auto windows = all_windows(reader);
  REQUIRE(windows.size() == 1);
  CHECK(windows[0].padded);
  CHECK(windows[0].clip().size(2) == 4);
  CHECK_THAT(reader.end().warning,
             Catch::Contains("3 frames at the model's 8.000 fps, fewer than one window of 4"));
  CHECK(reader.end().error.empty());
}

TEST_CASE("a decoding error mid-file ends the windows and names the frame", "[infer][windows]") {
  // Default: the windows decoded are kept, and the end says what happened.
  WindowReader tolerant(std::make_unique<FailingSource>(25), input_spec(0), {});
  CHECK(all_windows(tolerant).size() == 22);  // frames 0..24: windows ending at frames 3..24
  CHECK(tolerant.end().error.empty());
  CHECK_THAT(tolerant.end().warning,
             Catch::Contains("decoding failed at frame 25: cannot decode frame") &&
                 Catch::EndsWith("kept the 22 windows of the 25 frames that decoded"));
  // Strict: the same windows, and an error.
  WindowReaderOptions strict;
  strict.strict = true;
  WindowReader reader(std::make_unique<FailingSource>(25), input_spec(0), strict);
  const auto windows = all_windows(reader);
  CHECK(windows.size() == 22);
  CHECK_THAT(reader.end().error,
             Catch::StartsWith("decoding failed at frame 25: cannot decode frame"));
  // Before the first window it is an error either way.
  WindowReader early(std::make_unique<FailingSource>(2), input_spec(0), {});
  CHECK(all_windows(early).empty());
  CHECK_THAT(early.end().error, Catch::StartsWith("decoding failed at frame 2"));
}

TEST_CASE("window quality: darkness, detail and motion", "[infer][windows]") {
  const std::vector<cv::Mat> dark(4, cv::Mat(16, 16, CV_8UC3, cv::Scalar::all(5)));
  WindowQuality q = measure_quality(dark);
  CHECK(q.luma < 0.03);
  CHECK(q.sharpness == Approx(0));
  CHECK(q.motion == Approx(0));
  std::vector<cv::Mat> noisy;
  cv::RNG rng(1);
  for (int i = 0; i < 4; ++i) {
    cv::Mat m(16, 16, CV_8UC3);
    rng.fill(m, cv::RNG::UNIFORM, 0, 255);
    noisy.push_back(m);
  }
  q = measure_quality(noisy);
  CHECK(q.luma > 0.3);
  CHECK(q.sharpness > 1000);
  CHECK(q.motion > 0.2);
}

TEST_CASE("a live source that outpaces its reader loses its oldest windows, not its newest",
          "[infer][windows][live]") {
  // 60 frames delivered at 100 fps, each window taken 40 ms after the last:
  // the reader is deliberately slower than the source.
  const int frames = 60;
  WindowReaderOptions keep;
  keep.keep_frames = true;
  WindowReader reader(paced_source(memory_frame_source(numbered_frames(frames), 100)),
                      input_spec(0), keep);
  std::vector<Window> taken;
  while (auto w = reader.next()) {
    taken.push_back(std::move(*w));
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
  }
  const ReaderEnd& end = reader.end();
  CHECK(end.live);
  CHECK(end.frames == frames);
  REQUIRE(end.dropped_windows > 0);
  // Every source frame is in exactly one account: a taken window's new
  // frames, or the frames dropped before it; the overlay still gets every
  // frame's pixels.
  int64_t dropped = 0, previous_end = -1;
  size_t pixels = 0;
  for (const Window& w : taken) {
    CHECK(w.end_frame - previous_end == w.dropped_before + w.new_frame_count);
    CHECK(w.new_frames.size() == static_cast<size_t>(w.end_frame - previous_end));
    dropped += w.dropped_before;
    pixels += w.new_frames.size();
    previous_end = w.end_frame;
  }
  CHECK(dropped == end.dropped_frames);
  CHECK(taken.back().end_frame == frames - 1);  // the newest window is never the one dropped
  CHECK(pixels == static_cast<size_t>(frames));
  // Windows 0..56 end at frames 3..59: those taken plus those dropped.
  CHECK(static_cast<int64_t>(taken.size()) + end.dropped_windows == frames - 3);
}

TEST_CASE("a file waits for its reader: nothing is dropped", "[infer][windows][live]") {
  WindowReader reader(memory_frame_source(numbered_frames(30), 100), input_spec(0), {});
  int64_t windows = 0;
  while (auto w = reader.next()) {
    CHECK(w->dropped_before == 0);
    ++windows;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(windows == 27);
  CHECK_FALSE(reader.end().live);
  CHECK(reader.end().dropped_frames == 0);
}

TEST_CASE("close() or a stop flag ends a live reader at once", "[infer][windows][live]") {
  std::atomic<bool> stop{false};
  // 10 s of frames at 100 fps.
  WindowReader reader(paced_source(memory_frame_source(numbered_frames(1000), 100)), input_spec(0),
                      {});
  REQUIRE(reader.next(&stop).has_value());
  stop = true;
  CHECK_FALSE(reader.next(&stop).has_value());
  reader.close();
  CHECK(reader.end().stopped);
  CHECK(reader.end().error.empty());
  CHECK(reader.end().warning.empty());  // not "ended early": it was asked to stop
  CHECK(reader.end().frames < 1000);
}
