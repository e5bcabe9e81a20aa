#include "infer/engine.h"

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <torch/script.h>
#include <torch/torch.h>
#include <catch2/catch.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include "datasets/timeline.h"
#include "infer/scoring.h"

#include "test_support.h"

using namespace adaptive;
using adaptive::test::TempDir;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string model_path() {
  return test::tiny_trained_run() + "/model.pt";
}
std::string stream_path() {
  return test::tiny_synth_dataset() + "/streams/test/stream_000.avi";
}

struct Command {
  int code = 0;
  std::string out;
};

// Runs adaptive-infer (killed after test::run_command's timeout); `out`
// holds its stdout, then its stderr (kept apart, so decoder messages do not
// cut JSON lines).
Command infer(const std::string& args) {
  TempDir dir;
  const std::string err = dir.str("stderr");
  const auto r = test::run_command(std::string(ADAPTIVE_INFER) + " --quiet " + args + " 2>" + err);
  Command c{r.rc, r.output};
  std::ifstream in(err);
  c.out += std::string((std::istreambuf_iterator<char>(in)), {});
  return c;
}

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') out.push_back(json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("a fixed width costs what the metadata says, window by window", "[infer][engine]") {
  const ModelArtifact model = ModelArtifact::load(model_path());
  for (int i = 0; i < model.num_widths(); ++i) {
    InferOptions o;
    o.throttle.policy = PolicyKind::kFixed;
    o.throttle.fixed_index = i;
    std::vector<WindowResult> results;
    const RunSummary s =
        run_inference(model, stream_path(), o,
                      [&](const WindowResult& r, const Window&) { results.push_back(r); });
    REQUIRE(s.windows > 10);
    CHECK(s.error.empty());
    CHECK(s.frames == 96);  // 6 s at 16 fps
    CHECK(static_cast<int64_t>(results.size()) == s.windows);
    for (const auto& r : results) {
      CHECK(r.width_index == i);
      CHECK(r.decision == Decision::kFixed);
      CHECK(r.mflops == Approx(model.metadata().widths[i].mflops));
      CHECK(r.confidence > 0);
      CHECK(r.confidence <= 1);
    }
    CHECK(s.gflops == Approx(s.windows * model.metadata().widths[i].mflops / 1e3));
    CHECK(s.windows_per_width[i] == s.windows);

    // What the device paid, in the same run.
    const DeviceCost& c = s.cost;
    CHECK(c.startup_cpu_s > 0);  // this process has loaded a model before its first window
    CHECK(c.cpu_s > 0);
    CHECK(c.cpu_per_video_s == Approx(c.cpu_s / s.duration_s));
    CHECK(c.decode_cpu_s > 0);
    CHECK(c.preprocess_cpu_s > 0);
    CHECK(c.model_cpu_s > 0);
    CHECK(c.other_cpu_s >= 0);
    // The parts are measured apart; they add up to no more than the whole.
    CHECK(c.decode_cpu_s + c.preprocess_cpu_s + c.model_cpu_s + c.output_cpu_s <=
          Approx(c.cpu_s).epsilon(0.05));
    CHECK(c.model_s > 0);
    CHECK(c.model_s <= s.wall_s);
    REQUIRE(c.pass_ms.size() == static_cast<size_t>(model.num_widths()));
    for (int j = 0; j < model.num_widths(); ++j) {
      INFO("width index " << j);
      // Only the width run has a pass time, and the widest, timed after the run.
      CHECK((c.pass_ms[j] > 0) == (j == i || j == model.num_widths() - 1));
    }
    CHECK(c.full_width_model_s == Approx(s.windows * c.pass_ms.back() / 1e3));
    CHECK(c.time_saving == Approx(1 - c.model_s / c.full_width_model_s));
    // Fixed at the widest, the run is its own full-width reference.
    if (i == model.num_widths() - 1) CHECK(c.time_saving == Approx(0).margin(1e-9));
    if (fs::exists("/sys/class/powercap/intel-rapl:0/energy_uj"))
      CHECK(c.energy_j >= 0);
    else
      CHECK(c.energy_j == -1);  // no counter: CPU time is the proxy
  }
}

TEST_CASE("confidence and gate policies decide per window and say why", "[infer][engine]") {
  const ModelArtifact model = ModelArtifact::load(model_path());
  const auto& widths = model.metadata().widths;
  for (PolicyKind policy : {PolicyKind::kConfidence, PolicyKind::kGate}) {
    InferOptions o;
    o.throttle.policy = policy;
    o.throttle.threshold = 0.5;
    o.throttle.rerun = true;  // the engine's re-run path
    o.throttle.dwell = 3;
    std::vector<WindowResult> results;
    const RunSummary s =
        run_inference(model, stream_path(), o,
                      [&](const WindowResult& r, const Window&) { results.push_back(r); });
    REQUIRE(!results.empty());
    for (const auto& r : results) {
      INFO(window_json(r).dump());
      if (policy == PolicyKind::kGate) {
        // The first window runs at the narrowest; every window runs once, at
        // the width the previous one's pass chose.
        CHECK(r.decision == (r.index == 0 ? Decision::kStart : Decision::kGate));
        if (r.index == 0) CHECK(r.width_index == 0);
        CHECK(r.passes == 1);
        CHECK(r.mflops == Approx(widths[r.width_index].mflops + model.metadata().gate_mflops));
      } else {
        CHECK_THAT(decision_names().name(r.decision),
                   Catch::Matches("start|escalate|confident|step_down|idle|futile|quality"));
        CHECK(r.mflops >= widths[0].mflops);
        CHECK(r.passes >= 1);
      }
    }
    CHECK(s.mean_width >= widths.front().width);
    CHECK(s.mean_width <= widths.back().width);
  }
}

TEST_CASE("gate on a stream: each window's pass chooses the next window's width, in one pass",
          "[infer][engine][gate]") {
  // Head 0 (the narrowest) sends every window to the widest width, head 1
  // (the widest) back to the narrowest: the first window runs at the
  // narrowest, then the widths alternate, one pass each, never above the
  // widest alone.
  TempDir dir;
  const ModelArtifact model =
      ModelArtifact::load(test::routed_gate_model(dir.str("routed.pt"), {1, 0}));
  REQUIRE(model.gates_every_width());
  const auto& widths = model.metadata().widths;
  const double gate = model.metadata().gate_mflops;
  InferOptions o;
  o.throttle.policy = PolicyKind::kGate;
  o.throttle.quality.enabled = false;  // nothing but the gate decides:
  o.idle_label = "";                   // no label is the idle one
  std::vector<WindowResult> results;
  std::vector<at::Tensor> clips;
  run_inference(model, stream_path(), o, [&](const WindowResult& r, const Window& w) {
    results.push_back(r);
    clips.push_back(w.clip());
  });
  REQUIRE(results.size() > 4);
  CHECK(results[0].decision == Decision::kStart);
  for (size_t k = 0; k < results.size(); ++k) {
    INFO("window " << k);
    CHECK(results[k].width_index == static_cast<int>(k % 2));
    CHECK(results[k].passes == 1);
    CHECK(results[k].mflops == Approx(widths[results[k].width_index].mflops + gate));
    CHECK(results[k].mflops < widths.back().mflops * 1.01);  // never above the widest alone
  }
  // The engine's choice is the exported gate's: the argmax of the head that
  // read the previous window's pass.
  c10::InferenceMode inference;
  for (size_t k = 0; k + 1 < results.size(); ++k) {
    const auto [logits, scores] = model.forward_and_gate(clips[k], results[k].width_index);
    CHECK(scores.argmax(1).item<int64_t>() == results[k + 1].width_index);
  }
}

TEST_CASE("gate bias: a cost on the gate's scores moves its operating point",
          "[infer][engine][gate]") {
  // Every head scores the widest 1 above the narrowest. The bias weighs what
  // each choice costs (gate_choice_cost): the probe head's widest choice
  // costs the narrowest pass more than its narrowest, 1 full width in all,
  // so a bias above 1 sends the first window, in its one probe pass, and
  // through head 0 every window after it, to the narrowest; below 1 every
  // window runs widest, the first after its probe (as a manifest's clips do).
  TempDir dir;
  const ModelArtifact model =
      ModelArtifact::load(test::routed_gate_model(dir.str("routed.pt"), {1, 1}));
  for (const double bias : {0.0, 0.9, 1.1, -5.0}) {
    INFO("bias " << bias);
    InferOptions o;
    o.throttle.policy = PolicyKind::kGate;
    o.throttle.gate_bias = bias;
    o.throttle.quality.enabled = false;
    o.idle_label = "";
    o.throttle.gate_probe_first = true;
    const bool narrow = bias > 1;
    int windows = 0;
    run_inference(model, stream_path(), o, [&](const WindowResult& r, const Window&) {
      CHECK(r.width_index == (narrow ? 0 : 1));
      CHECK(r.passes == (windows++ > 0 || narrow ? 1 : 2));
    });
    CHECK(windows > 2);
  }
}

TEST_CASE("JSON lines follow the output contract (docs/inference-output.md)", "[infer][cli]") {
  const Command c = infer("--model " + model_path() + " --input " + stream_path() + " --truth " +
                          test::tiny_synth_dataset() + "/streams/test/stream_000.json");
  INFO(c.out);
  REQUIRE(c.code == 0);
  const auto lines = json_lines(c.out);
  REQUIRE(lines.size() >= 2);
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    const json& w = lines[i];
    CHECK(w["type"] == "window");
    for (const char* key :
         {"index", "start_frame", "end_frame", "start_s", "end_s", "width", "width_index", "label",
          "label_index", "confidence", "mflops", "latency_ms", "decision"})
      CHECK(w.contains(key));
    CHECK(w["index"] == i);
  }
  const json& s = lines.back();
  CHECK(s["type"] == "summary");
  for (const char* key : {"frames", "windows", "duration_s", "mean_width", "gflops",
                          "gflops_full_width", "compute_saving", "fps", "latency_ms",
                          "windows_per_width", "truth", "cpu_s", "startup_cpu_s", "cpu_per_video_s",
                          "cpu_split_s", "model_s", "full_width_model_s", "time_saving", "pass_ms"})
    CHECK(s.contains(key));
  for (const char* part : {"decode", "preprocess", "model", "output", "other"})
    CHECK(s["cpu_split_s"][part].get<double>() >= 0);
  CHECK(s["time_saving"].get<double>() ==
        Approx(1 - s["model_s"].get<double>() / s["full_width_model_s"].get<double>()));
  CHECK(s["windows"] == lines.size() - 1);
  CHECK(s["latency_ms"].contains("p95"));
  CHECK(s["truth"].contains("segment_accuracy"));
  CHECK(s["compute_saving"].get<double>() ==
        Approx(1 - s["gflops"].get<double>() / s["gflops_full_width"].get<double>()));
}

TEST_CASE("csv, text, --output and the overlay video", "[infer][cli][slow]") {
  TempDir dir;
  Command c =
      infer("--model " + model_path() + " --input " + stream_path() + " --format csv --output " +
            dir.str("out.csv") + " --overlay " + dir.str("overlay.avi"));
  INFO(c.out);
  REQUIRE(c.code == 0);
  std::ifstream csv(dir.str("out.csv"));
  std::string header;
  std::getline(csv, header);
  CHECK_THAT(header, Catch::StartsWith("index,start_frame,end_frame,start_s,end_s,width"));
  int rows = 0;
  for (std::string line; std::getline(csv, line);) ++rows;
  CHECK(rows > 10);
  // The overlay decodes: the source's frames up to the last window, same size.
  auto overlay = open_frame_source(dir.str("overlay.avi"));
  cv::Mat frame;
  int frames = 0;
  while (overlay->read(frame)) {
    CHECK(frame.cols == 64);
    CHECK(frame.rows == 48);
    ++frames;
  }
  CHECK(frames > 80);
  CHECK(frames <= 96);
  CHECK_FALSE(fs::exists(dir.str("overlay.avi.tmp.avi")));

  c = infer("--model " + model_path() + " --input " + stream_path() + " --format text");
  CHECK(c.code == 0);
  CHECK_THAT(c.out, Catch::Contains("windows, windowed: mean width"));
  CHECK_THAT(c.out, Catch::Contains("device: CPU "));
  CHECK_THAT(c.out, Catch::Contains("at full width ("));
}

TEST_CASE("bad input: a clear message and a non-zero exit", "[infer][cli][slow]") {
  TempDir dir;
  const std::string model = " --model " + model_path();
  const std::string video = " --input " + stream_path();
  Command c = infer("--model " + dir.str("none.pt") + video);
  CHECK(c.code == 1);
  CHECK_THAT(c.out, Catch::Contains("none.pt: no such model file"));

  test::write_file(dir.path() / "corrupt.pt", "PK\x03\x04 not really a zip");
  c = infer("--model " + dir.str("corrupt.pt") + video);
  CHECK(c.code == 1);
  CHECK_THAT(c.out, Catch::Contains("corrupt.pt: not a loadable TorchScript file"));

  torch::jit::Module plain("__torch__.Plain");
  plain.define("def forward(self, x: Tensor) -> Tensor:\n    return x\n");
  plain.save(dir.str("plain.pt"));
  c = infer("--model " + dir.str("plain.pt") + video);
  CHECK(c.code == 1);
  CHECK_THAT(c.out, Catch::Contains("has no adaptive.json"));

  c = infer(model + " --input " + dir.str("none.avi"));
  CHECK(c.code == 1);
  CHECK_THAT(c.out, Catch::Contains("none.avi"));

  std::string noise(20000, '\0');
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>((i * 7919) % 251);
  test::write_file(dir.path() / "noise.avi", noise);
  c = infer(model + " --input " + dir.str("noise.avi"));
  CHECK(c.code == 1);
  CHECK_THAT(c.out, Catch::Contains("noise.avi"));
  test::write_file(dir.path() / "text.avi", "this is a text file\n");
  c = infer(model + " --input " + dir.str("text.avi"));
  CHECK(c.code == 1);
  CHECK_THAT(c.out, Catch::Contains("text.avi"));

  // A file cut short, as players show it: the windows before the cut, the
  // summary with a warning, exit 0; under --strict the same, then an error.
  std::ifstream whole(stream_path(), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(whole)), {});
  test::write_file(dir.path() / "cut.avi", bytes.substr(0, bytes.size() * 6 / 10));
  c = infer(model + " --input " + dir.str("cut.avi"));
  CHECK(c.code == 0);
  CHECK_THAT(c.out, Catch::Contains("adaptive-infer: warning: ") &&
                        Catch::Contains("cut.avi: decoding stopped at frame ") &&
                        Catch::Contains("frames the container announces (truncated or corrupt)"));
  auto lines = json_lines(c.out);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back()["type"] == "summary");
  CHECK(lines.back()["windows"].get<int>() > 0);
  CHECK(lines.back().contains("warning"));
  CHECK_FALSE(lines.back().contains("error"));
  CHECK(lines.back()["windows"].get<int64_t>() == static_cast<int64_t>(lines.size()) - 1);
  c = infer(model + " --input " + dir.str("cut.avi") + " --strict");
  CHECK(c.code == 1);
  CHECK_THAT(c.out, Catch::Contains("frames the container announces (truncated or corrupt)"));
  lines = json_lines(c.out);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back()["type"] == "summary");
  CHECK(lines.back()["windows"].get<int>() > 0);
  CHECK(lines.back().contains("error"));

  c = infer(model + video + " --policy greedy");
  CHECK(c.code == 2);
  CHECK_THAT(c.out, Catch::Contains("unknown policy 'greedy' (known: fixed, confidence, gate)"));
  c = infer(model + video + " --policy fixed --width 0.3");
  CHECK(c.code == 2);
  CHECK_THAT(c.out, Catch::Contains("--width 0.300 is not in the model (valid: 0.50, 1.00)"));
  c = infer(model + video + " --battery-curve 30:2");
  CHECK(c.code == 2);
  CHECK_THAT(c.out, Catch::Contains("battery curve entry '30:2'"));
  // Ranges are the library's (InferOptions::validate): refused before the model loads.
  c = infer("--model " + dir.str("none.pt") + video + " --threshold 1.5");
  CHECK(c.code == 2);
  CHECK_THAT(c.out, Catch::Contains("threshold must be in (0, 1], got 1.5"));
  c = infer(model + video + " --stride 0");
  CHECK(c.code == 2);
  CHECK_THAT(c.out, Catch::Contains("stride must be >= 1, got 0"));
  c = infer(model + video + " --battery-file " + dir.str("no_battery"));
  CHECK(c.code == 1);
  CHECK_THAT(c.out, Catch::Contains("no_battery: not a battery capacity file"));
  c = infer(model + video + " --output " + dir.str("no/such/dir/out.jsonl"));
  CHECK(c.code == 1);
  CHECK_THAT(c.out, Catch::Contains("out.jsonl"));
}

TEST_CASE("adaptive-infer pads a video shorter than one window and warns", "[infer][cli]") {
  TempDir dir;
  cv::VideoWriter writer(dir.str("short.avi"), cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 16,
                         {64, 48});
  for (int i = 0; i < 3; ++i) writer.write(cv::Mat(48, 64, CV_8UC3, cv::Scalar::all(40 * i)));
  writer.release();
  const Command c = infer("--model " + model_path() + " --input " + dir.str("short.avi"));
  INFO(c.out);
  CHECK(c.code == 0);
  CHECK_THAT(c.out, Catch::Contains("warning: "));
  CHECK_THAT(c.out, Catch::Contains("padded by repeating the last frame"));
  CHECK(json_lines(c.out).size() == 2);  // one window and the summary
}

TEST_CASE("a frame folder runs at the rate the model was trained with unless told another",
          "[infer][cli]") {
  TempDir dir;
  fs::create_directories(dir.path() / "frames");
  for (int i = 1; i <= 24; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "%05d.jpg", i);
    cv::imwrite((dir.path() / "frames" / name).string(),
                cv::Mat(40, 40, CV_8UC3, cv::Scalar::all(8 * i)));
  }
  // The tiny model's file, its training config saying the folders ran at 6 fps.
  torch::jit::ExtraFilesMap extra{{"adaptive.json", ""}};
  torch::jit::Module module = torch::jit::load(model_path(), c10::kCPU, extra);
  json meta = json::parse(extra["adaptive.json"]);
  meta["config"]["data"]["folder_fps"] = 6.0;
  module.save(dir.str("six.pt"), {{"adaptive.json", meta.dump()}});
  const auto duration = [&](const std::string& args) {
    const Command c = infer(args + " --input " + dir.str("frames"));
    INFO(c.out);
    REQUIRE(c.code == 0);
    return json_lines(c.out).back().at("duration_s").get<double>();
  };
  CHECK(duration("--model " + dir.str("six.pt")) == Approx(24.0 / 6));
  CHECK(duration("--model " + dir.str("six.pt") + " --folder-fps 12") == Approx(24.0 / 12));
  const Command bad =
      infer("--model " + model_path() + " --folder-fps 0 --input " + dir.str("frames"));
  CHECK(bad.code != 0);
  CHECK_THAT(bad.out, Catch::Contains("--folder-fps must be > 0, got 0"));
}

TEST_CASE("a battery file is read and caps the width", "[infer][cli]") {
  TempDir dir;
  test::write_file(dir.path() / "capacity", "12\n");
  const Command c = infer("--model " + model_path() + " --input " + stream_path() +
                          " --policy fixed --battery-file " + dir.str("capacity"));
  REQUIRE(c.code == 0);
  const auto lines = json_lines(c.out);
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    CHECK(lines[i]["width"] == 0.5);
    CHECK(lines[i]["decision"] == "battery");
  }
}

TEST_CASE("scoring against a timeline", "[infer][scoring]") {
  const std::vector<TimelineSegment> truth = {{"no_gesture", 0, 2},
                                              {"push", 2, 3},
                                              {"no_gesture", 3, 6},
                                              {"pull", 6, 7},
                                              {"no_gesture", 7, 9}};
  const std::vector<TimedPrediction> windows = {
      {0.0, 1.0, "no_gesture"}, {0.5, 1.5, "pull"},       // idle: one false alarm
      {2.0, 2.6, "push"},       {2.2, 2.8, "push"},       // push right, first ends at 2.6
      {4.0, 5.0, "no_gesture"},                           // idle
      {6.0, 6.8, "push"},       {6.1, 6.9, "no_gesture"}  // pull: wrong
  };
  const TruthScore s = score_timeline(windows, truth, "no_gesture");
  CHECK(s.segments == 2);
  CHECK(s.segments_correct == 1);
  CHECK(s.segment_accuracy == 0.5);
  CHECK(s.missed == 1);
  CHECK(s.mean_delay_s == Approx(0.6));
  CHECK(s.idle_windows == 3);
  CHECK(s.false_alarms == 1);
}

TEST_CASE("scoring counts labels that outlive their gesture", "[infer][scoring]") {
  const std::vector<TimelineSegment> truth = {{"no_gesture", 0, 2},
                                              {"push", 2, 3},
                                              {"no_gesture", 3, 8},
                                              {"pull", 8, 9},
                                              {"no_gesture", 9, 12}};
  const std::vector<TimedPrediction> windows = {
      {3.0, 4.0, "push"},       {3.5, 4.5, "push"},  // push held for 1 s after its end
      {4.0, 5.0, "no_gesture"}, {4.5, 5.5, "push"},  // released; then a false alarm later on
      {5.5, 6.5, "pull"},                            // too late to be push's
      {9.0, 10.0, "pull"},      {9.5, 10.5, "pull"}  // pull never released: to the last end
  };
  const TruthScore s = score_timeline(windows, truth, "no_gesture");
  CHECK(s.idle_windows == 7);
  CHECK(s.false_alarms == 6);
  // 3.0 and 3.5 start less than a window after 3 (4.5 does not); 9.0 and 9.5 after 9.
  CHECK(s.false_alarms_after_gesture == 4);
  CHECK(s.mean_release_s == Approx((1.0 + 1.5) / 2));
  CHECK(s.releases == 2);
}

TEST_CASE("a run slower than its real-time source drops the oldest windows and counts them",
          "[infer][engine][live][slow]") {
  // The stream file delivered at its own 16 fps (--realtime), and a
  // deliberately slow consumer: every window's callback takes 300 ms.
  const ModelArtifact model = ModelArtifact::load(model_path());
  int64_t last_end = -1;
  const InferOptions from_file;
  const RunSummary all =
      run_inference(model, stream_path(), from_file,
                    [&](const WindowResult& r, const Window&) { last_end = r.end_frame; });
  InferOptions o;
  o.input.realtime = true;
  std::vector<WindowResult> results;
  const RunSummary s =
      run_inference(model, stream_path(), o, [&](const WindowResult& r, const Window&) {
        results.push_back(r);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      });
  REQUIRE(s.live.has_value());
  CHECK_FALSE(all.live.has_value());
  CHECK(s.frames == all.frames);
  CHECK(s.live->dropped_windows > 0);
  CHECK(s.windows + s.live->dropped_windows == all.windows);
  int64_t dropped = 0;
  for (const auto& r : results) {
    CHECK(r.delay_ms >= 0);
    dropped += r.dropped_before;
  }
  CHECK(dropped == s.live->dropped_frames);
  CHECK(s.live->dropped_frames > 0);
  CHECK(results.back().end_frame == last_end);  // the newest window is the one kept
  CHECK(s.wall_s >= 5.9);                       // 96 frames at 16 fps
}

TEST_CASE("a manifest's clips are the frames its rows name, as training reads them",
          "[infer][cli]") {
  TempDir dir;
  cv::VideoWriter writer(dir.str("clip.avi"), cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 16,
                         {48, 48});
  for (int i = 0; i < 48; ++i) writer.write(cv::Mat(48, 48, CV_8UC3, cv::Scalar::all(4 * i)));
  writer.release();
  // The whole video, its dark first third, the rest; the last row again as a video of its own.
  test::write_file(dir.path() / "clips.csv",
                   "path,label,start_frame,end_frame\n"
                   "clip.avi,swipe_left,0,47\nclip.avi,swipe_left,0,15\nclip.avi,push,16,47\n");
  cv::VideoCapture in(dir.str("clip.avi"));
  cv::VideoWriter tail(dir.str("tail.avi"), cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 16,
                       {48, 48});
  cv::Mat frame;
  for (int i = 0; in.read(frame); ++i)
    if (i >= 16) tail.write(frame);
  tail.release();
  test::write_file(dir.path() / "tail.csv", "path,label\ntail.avi,push\n");
  for (const std::string batch : {"1", "4"}) {
    INFO("--batch " << batch);
    const std::string base =
        "--model " + model_path() + " --policy fixed --clips 3 --batch " + batch;
    const Command c = infer(base + " --input " + dir.str("clips.csv"));
    INFO(c.out);
    REQUIRE(c.code == 0);
    const auto lines = json_lines(c.out);
    REQUIRE(lines.size() == 4);
    for (size_t i = 0; i < 3; ++i) CHECK(lines[i]["windows"] == 3);  // --clips 3 each
    CHECK(lines[3]["windows_per_clip"] == 3);
    CHECK(lines[0]["confidence"] != lines[1]["confidence"]);
    // Frames 16-47 of the video are the tail video: the same answer.
    const Command t = infer(base + " --input " + dir.str("tail.csv"));
    REQUIRE(t.code == 0);
    const auto tail_line = json_lines(t.out).at(0);
    CHECK(tail_line["predicted"] == lines[2]["predicted"]);
    CHECK(std::abs(tail_line["confidence"].get<double>() - lines[2]["confidence"].get<double>()) <
          1e-4);
  }
  const Command bad =
      infer("--model " + model_path() + " --clips 0 --input " + dir.str("tail.csv"));
  CHECK(bad.code == 2);
  CHECK_THAT(bad.out, Catch::Contains("--clips must be >= 1, got 0"));
}

TEST_CASE("adaptive-infer on a manifest gives adaptive-train evaluate's top-1 at every width",
          "[infer][cli][evaluate]") {
  const std::string run = test::tiny_trained_run();
  const std::string manifest = test::tiny_synth_dataset() + "/test.csv";
  TempDir dir;
  for (const std::string clips : {"1", "3"}) {
    INFO("clips per video " << clips);
    // evaluate takes the run config's data.eval_clips; --clips says the same to adaptive-infer.
    const auto evaluated =
        test::run_command(std::string(ADAPTIVE_TRAIN) + " evaluate --checkpoint " + run +
                          "/checkpoints/final.pt --split " + manifest + " --json " +
                          dir.str("e.json") + (clips == "1" ? "" : " --clips " + clips));
    INFO(evaluated.output);
    REQUIRE(evaluated.rc == 0);
    const json e = json::parse(test::read_file(dir.str("e.json")));
    for (const json& w : e["widths"]) {
      const std::string width = std::to_string(w["width"].get<double>());
      const Command c = infer("--model " + model_path() + " --policy fixed --width " + width +
                              " --clips " + clips + " --input " + manifest);
      INFO("width " << width << "\n" << c.out);
      REQUIRE(c.code == 0);
      const json summary = json_lines(c.out).back();
      CHECK(summary["clips"] == e["clips"]);
      CHECK(summary["clip_accuracy"].get<double>() == Approx(w["top1"].get<double>()));
    }
  }
}

TEST_CASE("a manifest in throughput mode batches windows and agrees with one by one",
          "[infer][cli][slow]") {
  const std::string manifest = test::tiny_synth_dataset() + "/test.csv";
  const std::string base = "--model " + model_path() + " --input " + manifest + " --policy fixed";
  const Command one = infer(base);
  const Command batched = infer(base + " --batch 4");
  REQUIRE(one.code == 0);
  REQUIRE(batched.code == 0);
  const auto a = json_lines(one.out), b = json_lines(batched.out);
  REQUIRE(a.size() == b.size());
  REQUIRE(a.size() >= 3);  // clips and the summary
  for (size_t i = 0; i + 1 < a.size(); ++i) {
    INFO("clip " << i);
    CHECK(a[i]["path"] == b[i]["path"]);
    CHECK(a[i]["predicted"] == b[i]["predicted"]);
    CHECK(a[i]["windows"] == b[i]["windows"]);
    CHECK(std::abs(a[i]["confidence"].get<double>() - b[i]["confidence"].get<double>()) < 1e-4);
    CHECK(std::abs(a[i]["mflops"].get<double>() - b[i]["mflops"].get<double>()) < 1e-6);
  }
  const json& sa = a.back();
  const json& sb = b.back();
  CHECK(sb["type"] == "summary");
  CHECK(sb["batch"] == 4);
  CHECK(sb["width"] == sa["mean_width"]);
  CHECK(sb["clip_accuracy"] == sa["clip_accuracy"]);
  CHECK(sb["windows"] == sa["windows"]);
  CHECK(sb["clips_per_s"].get<double>() > 0);
  CHECK(sa["clips_per_s"].get<double>() > 0);

  const Command adaptive_batch =
      infer("--model " + model_path() + " --input " + manifest + " --policy confidence --batch 4");
  CHECK(adaptive_batch.code == 2);
  CHECK_THAT(adaptive_batch.out, Catch::Contains("--batch needs --policy fixed"));
  const Command video_batch =
      infer("--model " + model_path() + " --input " + stream_path() + " --policy fixed --batch 4");
  CHECK(video_batch.code == 2);
  CHECK_THAT(video_batch.out, Catch::Contains("--batch and --clips are for a manifest input"));
}
