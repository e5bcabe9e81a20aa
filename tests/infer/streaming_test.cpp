// Streaming a causal model (infer/model_passes.h): each new frame computed
// once per width, width changes rebuilt or caught up at a bounded cost, and
// the run's mode and cost reported.
#include "infer/model_passes.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "datasets/frame_source.h"
#include "infer/engine.h"
#include "test_support.h"

using namespace adaptive;
using json = nlohmann::json;

namespace {

std::string causal_model() {
  return test::tiny_causal_run() + "/model.pt";
}
std::string stream_path() {
  return test::tiny_synth_dataset() + "/streams/test/stream_000.avi";
}

std::vector<Window> all_windows(const ModelArtifact& model, int64_t stride) {
  WindowReaderOptions o;
  o.stride = stride;
  WindowReader reader(open_frame_source(stream_path()), model.metadata().input, o);
  std::vector<Window> out;
  while (auto w = reader.next()) out.push_back(std::move(*w));
  REQUIRE(reader.end().error.empty());
  return out;
}

// Model frame f of the video, [1, 3, H, W], from the windows (stride s).
at::Tensor model_frame(const std::vector<Window>& windows, int64_t f, int64_t stride) {
  const int64_t w = std::min<int64_t>(f / stride, static_cast<int64_t>(windows.size()) - 1);
  return windows[static_cast<size_t>(w)].frames[static_cast<size_t>(f - w * stride)].unsqueeze(0);
}

}  // namespace

TEST_CASE(
    "a scripted sequence of width changes on a stream: rebuilt windows are the windowed "
    "model's, caught-up ones its stream's, each pass costed",
    "[infer][stream]") {
  const ModelArtifact model = ModelArtifact::load(causal_model());
  REQUIRE(model.metadata().streams);
  REQUIRE(model.num_widths() == 2);
  const auto& meta = model.metadata();
  const int64_t T = meta.input.frames;
  c10::InferenceMode inference;
  for (int64_t stride : {1, 2}) {
    CAPTURE(stride);
    const std::vector<Window> windows = all_windows(model, stride);
    REQUIRE(windows.size() > 3 * static_cast<size_t>(T));
    // Runs of each width: short gaps (caught up), a gap longer than a
    // window (rebuilt), and the two widths in one window.
    std::vector<std::vector<int>> script;
    for (size_t w = 0; w < windows.size(); ++w) {
      if (w < 3)
        script.push_back({0});
      else if (w < 5)
        script.push_back({1});
      else if (w < 6)
        script.push_back({0});  // width 0: a gap of 2 windows
      else if (w < 8)
        script.push_back({0, 1});
      else if (w < 8 + static_cast<size_t>(T) + 1)
        script.push_back({0});  // width 1 falls behind
      else
        script.push_back({1});
    }
    ModelPasses passes(model, StreamingMode::kAuto, stride);
    REQUIRE(passes.streaming());
    CHECK(passes.window_mflops(1) == Approx(stride * meta.widths[1].step_mflops));
    // The reference: per width, a stream of its own stepped frame by frame
    // from the frame its last rebuild started on.
    std::map<int, std::pair<ModelArtifact::StreamState, int64_t>> reference;  // state, next frame
    std::map<int, int64_t> last_window;
    for (size_t w = 0; w < windows.size(); ++w) {
      const Window& window = windows[w];
      const int64_t first = window.index * stride, last = first + T - 1;
      for (int i : script[w]) {
        INFO("window " << w << " width " << i);
        const PassResult p = passes.run(window, i, false);
        const auto seen = last_window.find(i);
        // Its state ended `behind` frames before this window's last one.
        const int64_t behind =
            seen == last_window.end() ? -1 : (window.index - seen->second) * stride;
        const bool rebuilt = behind < 0 || behind > T;
        CHECK(p.frames == (rebuilt ? T : behind));
        CHECK(p.mflops == Approx(static_cast<double>(p.frames) * meta.widths[i].step_mflops));
        if (rebuilt) {  // T steps from an empty state: the windowed model's answer
          const test::Parity d = test::parity(p.logits, model.forward_at(window.clip(), i));
          CHECK(d.diff <= d.bound);
          reference[i] = {model.init_state(i), first};
        }
        auto& [state, next] = reference[i];
        at::Tensor want;
        for (; next <= last; ++next) want = model.step(model_frame(windows, next, stride), state);
        const test::Parity d = test::parity(p.logits, want);
        CHECK(d.diff <= d.bound);
        last_window[i] = window.index;
      }
    }
    // Asked again for a window it has just run, a width costs nothing.
    const PassResult again = passes.run(windows.back(), script.back().back(), false);
    CHECK(again.frames == 0);
    CHECK(again.mflops == 0);
  }
}

TEST_CASE("a padded window (a video shorter than a window) is rebuilt, never carried on",
          "[infer][stream]") {
  const ModelArtifact model = ModelArtifact::load(causal_model());
  const auto& in = model.metadata().input;
  c10::InferenceMode inference;
  Window w;
  w.frames = torch::randn({3, in.frames, in.height, in.width}).unbind(1);
  w.padded = true;
  ModelPasses passes(model, StreamingMode::kOn, 1);
  for (int round = 0; round < 2; ++round) {
    const PassResult p = passes.run(w, 1, false);
    CHECK(p.frames == in.frames);
    const test::Parity d = test::parity(p.logits, model.forward_at(w.clip(), 1));
    CHECK(d.diff <= d.bound);
  }
}

TEST_CASE(
    "streaming against windowed on the same causal model: the mode, the frames computed "
    "and the full-width reference of each",
    "[infer][stream][engine]") {
  const ModelArtifact model = ModelArtifact::load(causal_model());
  const auto& meta = model.metadata();
  const int64_t T = meta.input.frames;
  const int widest = model.num_widths() - 1;
  std::map<StreamingMode, RunSummary> summaries;
  std::map<StreamingMode, std::vector<WindowResult>> results;
  for (StreamingMode mode : {StreamingMode::kAuto, StreamingMode::kOff}) {
    InferOptions o;
    o.throttle.policy = PolicyKind::kFixed;
    o.throttle.fixed_index = widest;
    o.streaming = mode;
    summaries[mode] =
        run_inference(model, stream_path(), o,
                      [&](const WindowResult& r, const Window&) { results[mode].push_back(r); });
  }
  const RunSummary& streamed = summaries[StreamingMode::kAuto];
  const RunSummary& windowed = summaries[StreamingMode::kOff];
  REQUIRE(streamed.error.empty());
  REQUIRE(streamed.windows == windowed.windows);
  REQUIRE(streamed.windows > T);
  CHECK(streamed.streaming);
  CHECK(!windowed.streaming);
  CHECK(summary_json(streamed, model)["mode"] == "streaming");
  CHECK(summary_json(windowed, model)["mode"] == "windowed");
  // Stride 1: the first window T frames, then one new frame each.
  CHECK(streamed.frames_computed == T + streamed.windows - 1);
  CHECK(windowed.frames_computed == T * windowed.windows);
  const auto& s = results[StreamingMode::kAuto];
  const auto& w = results[StreamingMode::kOff];
  for (size_t k = 0; k < s.size(); ++k) {
    INFO("window " << k);
    CHECK(s[k].frames_computed == (k == 0 ? T : 1));
    CHECK(s[k].mflops == Approx(s[k].frames_computed * meta.widths[widest].step_mflops));
    CHECK(w[k].frames_computed == T);
    CHECK(w[k].mflops == Approx(meta.widths[widest].mflops));
  }
  // The first window has no past: both modes answer alike.
  CHECK(s[0].label == w[0].label);
  CHECK(s[0].confidence == Approx(w[0].confidence).epsilon(1e-4));
  // Each run at fixed full width is its own full-width reference.
  for (const RunSummary* r : {&streamed, &windowed}) {
    CHECK(r->gflops == Approx(r->gflops_full_width));
    CHECK(r->compute_saving == Approx(0).margin(1e-9));
    CHECK(r->cost.time_saving == Approx(0).margin(1e-9));
  }
}

TEST_CASE(
    "the narrowest fixed width on a stream: the widest's reference is timed and costed "
    "per frame",
    "[infer][stream][engine]") {
  const ModelArtifact model = ModelArtifact::load(causal_model());
  const auto& meta = model.metadata();
  InferOptions o;
  o.throttle.policy = PolicyKind::kFixed;
  o.throttle.fixed_index = 0;
  const RunSummary s = run_inference(model, stream_path(), o, nullptr);
  REQUIRE(s.streaming);
  // Its pooled frames see before the window: streamed answers are not the windowed ones.
  CHECK(meta.stream_pooled_frames + meta.stream_reach_frames > meta.input.frames);
  CHECK_FALSE(meta.stream_exact);
  CHECK_FALSE(s.stream_exact);
  CHECK(summary_json(s, model)["stream_exact"] == false);
  const int64_t frames = meta.input.frames + s.windows - 1;
  CHECK(s.frames_computed == frames);
  CHECK(s.gflops == Approx(frames * meta.widths[0].step_mflops / 1e3));
  CHECK(s.gflops_full_width == Approx(frames * meta.widths.back().step_mflops / 1e3));
  CHECK(s.cost.pass_ms.back() > 0);  // timed after the run
  CHECK(s.cost.full_width_model_s > 0);
  CHECK(s.cost.time_saving == Approx(1 - s.cost.model_s / s.cost.full_width_model_s));
}

TEST_CASE("confidence and gate policies stream: every pass's frames and FLOPs add up",
          "[infer][stream][engine]") {
  const ModelArtifact model = ModelArtifact::load(causal_model());
  const auto& meta = model.metadata();
  REQUIRE(meta.has_gate);
  for (PolicyKind policy : {PolicyKind::kConfidence, PolicyKind::kGate}) {
    InferOptions o;
    o.throttle.policy = policy;
    o.throttle.threshold = 0.9;
    int64_t frames = 0;
    double mflops = 0;
    const RunSummary s =
        run_inference(model, stream_path(), o, [&](const WindowResult& r, const Window&) {
          CHECK(r.passes >= 1);
          CHECK(r.frames_computed <= meta.input.frames * r.passes);
          frames += r.frames_computed;
          mflops += r.mflops;
        });
    REQUIRE(s.error.empty());
    CHECK(s.streaming);
    CHECK(s.frames_computed == frames);
    CHECK(s.gflops == Approx(mflops / 1e3));
    // No window recomputes its whole clip at every width: far fewer frames
    // than the windowed mode's T per window.
    CHECK(frames < s.windows * meta.input.frames / 2);
  }
}

TEST_CASE(
    "adaptive-infer --streaming on for a model that cannot stream is a clear error, off runs "
    "windowed",
    "[infer][stream][cli]") {
  const std::string infer = std::string(ADAPTIVE_INFER) + " --quiet --input " + stream_path();
  const auto plain = test::run_command(infer + " --model " + test::tiny_trained_run() +
                                       "/model.pt --streaming on 2>&1");
  CHECK(plain.rc != 0);
  CHECK_THAT(plain.output,
             Catch::Contains("--streaming on needs a causal model") && Catch::Contains("model.pt"));
  const auto bad =
      test::run_command(infer + " --model " + causal_model() + " --streaming sometimes 2>&1");
  CHECK(bad.rc != 0);
  CHECK_THAT(bad.output,
             Catch::Contains("sometimes") && Catch::Contains("auto") && Catch::Contains("off"));
  for (const std::string mode : {"off", "on"}) {
    const auto r = test::run_command(infer + " --model " + causal_model() + " --streaming " + mode +
                                     " 2>/dev/null");
    REQUIRE(r.rc == 0);
    json summary;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line[0] == '{' && json::parse(line)["type"] == "summary")
        summary = json::parse(line);
    }
    REQUIRE(summary.is_object());
    CHECK(summary["mode"] == (mode == "on" ? "streaming" : "windowed"));
    CHECK(summary["climb"] == "step");  // the default in either mode
  }
  const auto climb = test::run_command(infer + " --model " + causal_model() +
                                       " --streaming on --climb jump 2>/dev/null");
  REQUIRE(climb.rc == 0);
  CHECK_THAT(climb.output, Catch::Contains(R"("climb":"jump")"));
  const auto fixed = test::run_command(infer + " --model " + causal_model() +
                                       " --streaming on --policy fixed 2>/dev/null");
  REQUIRE(fixed.rc == 0);
  CHECK_THAT(fixed.output, !Catch::Contains(R"("climb")"));  // the confidence policy's alone
  const auto bad_climb =
      test::run_command(infer + " --model " + causal_model() + " --climb sideways 2>&1");
  CHECK(bad_climb.rc != 0);
  CHECK_THAT(bad_climb.output, Catch::Contains("sideways") && Catch::Contains("jump"));
}

TEST_CASE("a live source streams: warm-up, deadlines and the summary in streaming mode",
          "[infer][stream][slow]") {
  const auto r = test::run_command(std::string(ADAPTIVE_INFER) + " --quiet --realtime --model " +
                                   causal_model() + " --input " + stream_path() +
                                   " --policy confidence 2>/dev/null");
  REQUIRE(r.rc == 0);
  json summary;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] == '{' && json::parse(line)["type"] == "summary")
      summary = json::parse(line);
  }
  REQUIRE(summary.is_object());
  INFO(summary.dump());
  CHECK(summary["mode"] == "streaming");
  REQUIRE(summary.contains("live"));
  CHECK(summary["warmup_s"].get<double>() > 0);
  CHECK(summary["windows"].get<int64_t>() > 0);
  // Streamed: fewer frames than one windowed pass (4 frames) per window.
  CHECK(summary["frames_computed"].get<int64_t>() < summary["windows"].get<int64_t>() * 4);
}

TEST_CASE(
    "idle stride: a windowed run skips windows after a sure idle answer and repeats it, a "
    "stream runs every window",
    "[infer][stream][engine]") {
  const ModelArtifact model = ModelArtifact::load(causal_model());
  const auto& labels = model.metadata().labels;
  InferOptions o;
  o.streaming = StreamingMode::kOff;
  o.throttle.policy = PolicyKind::kConfidence;
  o.throttle.threshold = 0.01;  // every answer sure: every window at the narrowest
  o.throttle.quality.enabled = false;
  o.throttle.idle_stride = 1;  // every window first
  const auto run = [&](std::vector<WindowResult>& results) {
    return run_inference(model, stream_path(), o,
                         [&](const WindowResult& r, const Window&) { results.push_back(r); });
  };
  std::vector<WindowResult> every;
  run(every);
  // The label this model names most often plays the idle one.
  std::map<int, int> votes;
  for (const auto& r : every) ++votes[r.label_index];
  const int idle = std::max_element(votes.begin(), votes.end(), [](auto a, auto b) {
                     return a.second < b.second;
                   })->first;
  REQUIRE(votes[idle] >= 2);
  o.idle_label = labels[static_cast<size_t>(idle)];
  o.throttle.idle_stride = 3;
  std::vector<WindowResult> strided;
  const RunSummary s = run(strided);
  REQUIRE(strided.size() == every.size());
  int skipped = 0, since_run = 0;
  for (size_t i = 0; i < strided.size(); ++i) {
    const WindowResult& r = strided[i];
    INFO("window " << i);
    if (r.decision == Decision::kSkip) {
      ++skipped;
      REQUIRE(i > 0);
      CHECK(++since_run <= 2);  // at most stride - 1 in a row
      CHECK(r.label_index == idle);
      CHECK(r.label_index == strided[i - 1].label_index);
      CHECK(r.confidence == strided[i - 1].confidence);
      CHECK(r.passes == 0);
      CHECK(r.mflops == 0);
    } else {  // a window run answers as in the run of every window
      since_run = 0;
      CHECK(r.passes == 1);
      CHECK(r.label_index == every[i].label_index);
      CHECK(r.confidence == Approx(every[i].confidence));
      // Skipped only after a sure idle answer, and then the next one unless the stride is done.
      if (i > 0 && strided[i - 1].label_index != idle) CHECK(r.decision != Decision::kSkip);
    }
  }
  CHECK(skipped > 0);
  CHECK(s.windows_skipped == skipped);
  CHECK(s.idle_stride == 3);
  CHECK(s.windows_per_width[0] + s.windows_skipped == s.windows);
  CHECK(s.gflops == Approx((s.windows - skipped) * model.metadata().widths[0].mflops / 1e3));

  // Streamed, every window runs: a stream's state needs every frame.
  o.streaming = StreamingMode::kAuto;
  const RunSummary streamed = run_inference(model, stream_path(), o, nullptr);
  CHECK(streamed.streaming);
  CHECK(streamed.idle_stride == 1);
  CHECK(streamed.windows_skipped == 0);
}
