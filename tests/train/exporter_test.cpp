#include "train/exporter.h"
#include "train/training_data.h"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>

#include <torch/script.h>
#include <torch/serialize.h>
#include <torch/torch.h>
#include <catch2/catch.hpp>
#include "datasets/video_clip_dataset.h"
#include "infer/model_artifact.h"
#include "models/width_gate.h"
#include "train/checkpoint.h"
#include "train/evaluation.h"
#include "train/train_config.h"

#include "test_support.h"

using namespace adaptive;
using adaptive::test::TempDir;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct TrainedRun {
  TrainConfig config;
  std::shared_ptr<SlimmableNet> model;  // final.pt, eval mode
  WidthGate gate{nullptr};
  Checkpoint checkpoint;
  std::string dir;
};

TrainedRun trained_run() {
  TrainedRun r;
  r.dir = test::tiny_trained_run();
  const std::string final_pt = r.dir + "/checkpoints/final.pt";
  r.checkpoint = read_checkpoint(final_pt);
  r.config = train_config_from_json(json::parse(r.checkpoint.config_json));
  r.model = build_model(model_options(r.config, 10));
  r.gate = WidthGate(gate_options_for(*r.model, r.config.gate.hidden));
  load_checkpoint(final_pt, *r.model, nullptr, r.gate.ptr().get());
  r.model->eval();
  r.gate->eval();
  return r;
}

// Real validation clips of the tiny dataset, preprocessed as in training.
at::Tensor validation_clips(const TrainConfig& config, const std::vector<std::string>& labels,
                            int n) {
  VideoClipDataset set(open_split(dataset_source(config.data), DatasetSplit::kVal, labels),
                       clip_dataset_options(config, labels));
  std::vector<at::Tensor> clips;
  Rng rng(1);
  for (int i = 0; i < n; ++i) clips.push_back(set.get(i, false, rng).data);
  return torch::stack(clips);
}

// The input the Python check rebuilds from the same formula.
at::Tensor formula_input(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return torch::sin(torch::arange(n, torch::kFloat) * 0.37).reshape(shape);
}

std::vector<std::vector<double>> rows(const at::Tensor& t) {
  std::vector<std::vector<double>> out;
  const at::Tensor d = t.to(torch::kDouble).contiguous();
  for (int64_t i = 0; i < d.size(0); ++i) {
    out.emplace_back(d[i].data_ptr<double>(), d[i].data_ptr<double>() + d.size(1));
  }
  return out;
}

// Exports `r` after `route` rewrote its gate's narrowest head (returning each clip's width
// index) through a checkpoint, as adaptive-train export does; returns the
// model file's path.
std::string export_routed(TrainedRun& r, const std::string& out,
                          const std::function<void(GateHeadImpl&)>& route) {
  route(*r.gate->heads[0]);
  const std::string checkpoint = out + ".checkpoint.pt";
  save_checkpoint(checkpoint, *r.model, nullptr, r.checkpoint, r.gate.ptr().get());
  export_checkpoint({checkpoint, out, {}});
  fs::remove(checkpoint);
  return out;
}

std::string load_error(const std::string& path) {
  try {
    ModelArtifact::load(path);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a finished run exports model.pt that matches final.pt at every width",
          "[train][export]") {
  TrainedRun r = trained_run();
  const ModelArtifact artifact = ModelArtifact::load(r.dir + "/model.pt");
  const ArtifactMetadata& m = artifact.metadata();
  CHECK(m.json["format"] == "adaptive-torchscript");
  CHECK(m.format_version == 1);
  CHECK(m.labels == r.checkpoint.labels);
  CHECK(m.labels.size() == 10);
  CHECK(m.input.frames == 4);
  CHECK(m.input.height == 32);
  CHECK(m.input.short_side == 36);
  CHECK(m.input.fps == Approx(16.0 / 2));  // the tiny set's 16 fps, every 2nd frame
  CHECK(m.input.mean == r.config.data.transform.mean);
  REQUIRE(m.widths.size() == 2);
  CHECK(m.default_width_index == 1);
  CHECK(m.has_gate);
  CHECK(m.json["config"] == json::parse(r.checkpoint.config_json));
  CHECK(m.json["producer"]["name"] == "adaptive-video");
  // model.onnx beside it (train.export_onnx), the same metadata in its own format.
  const std::string onnx = test::read_file(r.dir + "/model.onnx");
  CHECK(onnx.find("\"format\": \"adaptive-onnx\"") != std::string::npos);
  CHECK(onnx.find(m.labels[0]) != std::string::npos);
  const at::Tensor temps = r.checkpoint.extra.at("temperature");
  for (int i = 0; i < 2; ++i) {
    CHECK(m.widths[i].width == r.model->widths()[i]);
    CHECK(m.widths[i].temperature == Approx(temps[i].item<double>()));
    CHECK(m.widths[i].mflops == Approx(model_cost(*r.model, i, 4, 32, 32).flops / 1e6));
  }

  torch::NoGradGuard no_grad;
  const at::Tensor clips = validation_clips(r.config, m.labels, 5);
  for (int i = 0; i < 2; ++i) {
    INFO("width " << m.widths[i].width);
    const test::Parity p =
        test::parity(artifact.forward_at(clips, i), r.model->forward(clips, r.model->at_width(i)));
    INFO("max|logits| " << p.scale);
    CHECK(p.diff <= p.bound);
  }
  const at::Tensor features = r.model->features(clips, r.model->at_width(0));
  const at::Tensor scores =
      r.gate->forward(0, features, r.model->classify(features, r.model->at_width(0)));
  const test::Parity p = test::parity(artifact.gate(clips), scores);
  INFO("max|scores| " << p.scale);
  CHECK(p.diff <= p.bound);
  CHECK(artifact.forward_gated(clips).second.equal(scores.argmax(1)));
  // The head of each width reads that width's pass.
  REQUIRE(artifact.gates_every_width());
  for (int i = 0; i < 2; ++i) {
    INFO("forward_and_gate at width " << m.widths[i].width);
    const ForwardContext ctx = r.model->at_width(i);
    const at::Tensor f = r.model->features(clips, ctx);
    const at::Tensor logits = r.model->classify(f, ctx);
    const auto [got_logits, got_scores] = artifact.forward_and_gate(clips, i);
    const test::Parity l = test::parity(got_logits, logits);
    CHECK(l.diff <= l.bound);
    const test::Parity s = test::parity(got_scores, r.gate->forward(i, f, logits));
    CHECK(s.diff <= s.bound);
  }
}

TEST_CASE("an exported model's forward_gated runs the width its gate picks, on every route",
          "[train][export]") {
  // The trained gate sends the tiny set's clips to one width; rewritten
  // gates send them all to each width in turn, then spread them over both.
  TrainedRun r = trained_run();
  TempDir dir;
  torch::NoGradGuard no_grad;
  const at::Tensor clips = validation_clips(r.config, r.checkpoint.labels, 6);
  const at::Tensor features = r.model->features(clips, r.model->at_width(0));
  const at::Tensor narrow_logits = r.model->classify(features, r.model->at_width(0));
  std::vector<at::Tensor> at_width;  // the C++ model's logits at each width
  for (int i = 0; i < 2; ++i) at_width.push_back(r.model->forward(clips, r.model->at_width(i)));
  std::vector<std::pair<std::string, at::Tensor>> routings;
  for (int64_t i = 0; i < 2; ++i) {
    routings.push_back({"all to " + std::to_string(i), torch::full({6}, i, torch::kLong)});
  }
  routings.push_back({"in turn", at::Tensor()});
  for (size_t k = 0; k < routings.size(); ++k) {
    at::Tensor& routes = routings[k].second;
    INFO("routes: " << routings[k].first);
    const std::string out = dir.str("routed" + std::to_string(k) + ".pt");
    const std::string model = export_routed(r, out, [&](GateHeadImpl& gate) {
      if (routes.defined()) {
        test::route_all_to(gate, routes[0].item<int64_t>());
      } else {
        routes = test::route_in_turn(gate, features);
      }
    });
    INFO("routes " << routes);
    REQUIRE(r.gate->forward(0, features, narrow_logits).argmax(1).equal(routes));
    const auto [logits, choice] = ModelArtifact::load(model).forward_gated(clips);
    CHECK(choice.equal(routes));
    for (int64_t j = 0; j < clips.size(0); ++j) {
      const int64_t w = routes[j].item<int64_t>();
      INFO("clip " << j << " at width index " << w);
      const test::Parity p = test::parity(logits[j], at_width[w][j]);
      INFO("max|logits| " << p.scale);
      CHECK(p.diff <= p.bound);
    }
  }
}

TEST_CASE("adaptive-train export writes a chosen subset of widths", "[train][export]") {
  const TrainedRun r = trained_run();
  TempDir dir;
  const ExportSummary s =
      export_checkpoint({r.dir + "/checkpoints/final.pt", dir.str("sub/wide.pt"), {1.0}});
  CHECK(s.bytes == static_cast<int64_t>(fs::file_size(dir.str("sub/wide.pt"))));
  const ModelArtifact wide = ModelArtifact::load(dir.str("sub/wide.pt"));
  REQUIRE(wide.num_widths() == 1);
  CHECK(wide.metadata().widths[0].width == 1.0);
  CHECK_FALSE(wide.metadata().has_gate);  // the gate needs every width
  // A training checkpoint (no calibration yet) exports with temperature 1.
  export_checkpoint({r.dir + "/checkpoints/last.pt", dir.str("last.pt"), {}});
  const ModelArtifact last = ModelArtifact::load(dir.str("last.pt"));
  CHECK(last.metadata().widths[0].temperature == 1.0);
  CHECK(last.metadata().json["calibrated"] == false);
  CHECK_THROWS_WITH(export_checkpoint({r.dir + "/checkpoints/final.pt", dir.str("x.pt"), {0.3}}),
                    "export: width 0.3 is not one of the model's widths ([0.5,1.0])");
  CHECK_FALSE(fs::exists(dir.str("x.pt")));
  CHECK_THROWS_WITH(export_checkpoint({dir.str("none.pt"), dir.str("y.pt"), {}}),
                    Catch::Contains("no such checkpoint file"));
}

TEST_CASE("the model loader names what is wrong with a bad file", "[train][export]") {
  const std::string good = test::tiny_trained_run() + "/model.pt";
  TempDir dir;
  std::ifstream in(good, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});

  CHECK_THAT(load_error(dir.str("missing.pt")), Catch::EndsWith("missing.pt: no such model file"));
  CHECK_THAT(load_error(dir.str()), Catch::Contains("not a file"));
  test::write_file(dir.path() / "truncated.pt", bytes.substr(0, bytes.size() / 2));
  CHECK_THAT(
      load_error(dir.str("truncated.pt")),
      Catch::Contains("truncated.pt: not a loadable TorchScript file (truncated or corrupt?)"));
  test::write_file(dir.path() / "noise.pt", std::string(4096, '\x5a'));
  CHECK_THAT(load_error(dir.str("noise.pt")), Catch::Contains("not a loadable TorchScript file"));

  // TorchScript, but not ours: no adaptive.json.
  torch::jit::Module plain("__torch__.Plain");
  plain.define("def forward(self, x: Tensor) -> Tensor:\n    return x\n");
  plain.save(dir.str("plain.pt"));
  CHECK_THAT(load_error(dir.str("plain.pt")),
             Catch::Contains("plain.pt: has no adaptive.json: a TorchScript file, but not an "
                             "adaptive model"));

  // Ours, with metadata from a newer toolkit or disagreeing with the module.
  torch::jit::ExtraFilesMap extra{{"adaptive.json", ""}};
  torch::jit::Module module = torch::jit::load(good, c10::kCPU, extra);
  json meta = json::parse(extra["adaptive.json"]);
  json newer = meta;
  newer["format_version"] = 2;
  module.save(dir.str("newer.pt"), {{"adaptive.json", newer.dump()}});
  CHECK_THAT(load_error(dir.str("newer.pt")),
             Catch::Contains("format_version 2 is not supported (this reader knows 1..1"));
  json widths = meta;
  widths["widths"] = {0.25, 1.0};
  widths["default_width"] = 1.0;
  module.save(dir.str("widths.pt"), {{"adaptive.json", widths.dump()}});
  CHECK_THAT(load_error(dir.str("widths.pt")),
             Catch::Contains("adaptive.json lists widths [0.25,1.0], the module holds [0.5,1.0]"));
  json missing = meta;
  missing["input"].erase("frames");
  module.save(dir.str("missing_key.pt"), {{"adaptive.json", missing.dump()}});
  CHECK_THAT(load_error(dir.str("missing_key.pt")),
             Catch::Contains("adaptive.json has no '/input/frames'"));
}

TEST_CASE("a C++ consumer linking LibTorch alone classifies a clip at every width",
          "[train][export][slow]") {
  const TrainedRun r = trained_run();
  const ModelArtifact artifact = ModelArtifact::load(r.dir + "/model.pt");
  TempDir dir;
  const at::Tensor clip = validation_clips(r.config, artifact.metadata().labels, 1)[0];
  const std::vector<char> bytes = torch::pickle_save(clip);
  test::write_file(dir.path() / "clip.pt", std::string(bytes.begin(), bytes.end()));
  const auto run = test::run_command(std::string(ADAPTIVE_CLASSIFY_CLIP) + " " + r.dir +
                                     "/model.pt " + dir.str("clip.pt"));
  const std::string& out = run.output;
  INFO(out);
  REQUIRE(run.rc == 0);
  CHECK_THAT(out, Catch::Contains("model: 10 classes, input [N, 3, 4, 32, 32] at 8.00 fps"));
  torch::NoGradGuard no_grad;
  for (int i = 0; i < 2; ++i) {
    const at::Tensor p = artifact.probabilities(artifact.forward_at(clip.unsqueeze(0), i), i)[0];
    const int64_t label = p.argmax().item<int64_t>();
    char line[160];
    std::snprintf(line, sizeof line, "width %.4g: %s %.4f", artifact.metadata().widths[i].width,
                  artifact.metadata().labels[label].c_str(), p[label].item<double>());
    CHECK_THAT(out, Catch::Contains(line));
  }
  CHECK_THAT(out, Catch::Contains("gate chose width"));
  CHECK_THAT(out, !Catch::Contains("stream"));  // it cannot stream

  // A causal model is also streamed, a frame at a time, at two widths.
  const std::string causal = test::tiny_causal_run() + "/model.pt";
  const ModelArtifact streamed = ModelArtifact::load(causal);
  const auto streamed_run = test::run_command(std::string(ADAPTIVE_CLASSIFY_CLIP) + " " + causal +
                                              " " + dir.str("clip.pt"));
  INFO(streamed_run.output);
  REQUIRE(streamed_run.rc == 0);
  for (int i = 0; i < 2; ++i) {
    ModelArtifact::StreamState state = streamed.init_state(i);
    at::Tensor logits;
    for (int64_t t = 0; t < clip.size(1); ++t)
      logits = streamed.step(clip.select(1, t).unsqueeze(0), state);
    const at::Tensor p = streamed.probabilities(logits, i)[0];
    const int64_t label = p.argmax().item<int64_t>();
    char line[160];
    std::snprintf(line, sizeof line, "stream %.4g: %s %.4f (%.1f MFLOPs a frame)",
                  streamed.metadata().widths[i].width, streamed.metadata().labels[label].c_str(),
                  p[label].item<double>(), streamed.metadata().widths[i].step_mflops);
    CHECK_THAT(streamed_run.output, Catch::Contains(line));
  }
  // A bad model file is an error with a non-zero exit, not a crash.
  test::write_file(dir.path() / "bad.pt", "not a model");
  CHECK(test::run_command(std::string(ADAPTIVE_CLASSIFY_CLIP) + " " + dir.str("bad.pt") + " " +
                          dir.str("clip.pt"))
            .rc == 1);
}

TEST_CASE("a C++ consumer linking OpenCV alone classifies a clip at every width from ONNX files",
          "[train][export][onnx]") {
  const TrainedRun r = trained_run();
  const ModelArtifact artifact = ModelArtifact::load(r.dir + "/model.pt");
  TempDir dir;
  const std::string checkpoint = r.dir + "/checkpoints/final.pt";
  std::string files;
  for (int i = 0; i < artifact.num_widths(); ++i) {
    const std::string file = dir.str("width" + std::to_string(i) + ".onnx");
    export_checkpoint(
        {checkpoint, file, {artifact.metadata().widths[i].width}, ExportFormat::kOnnx});
    files += " " + file;
  }
  const at::Tensor clip =
      validation_clips(r.config, artifact.metadata().labels, 1)[0].unsqueeze(0).contiguous();
  test::write_file(dir.path() / "clip.f32", std::string(static_cast<const char*>(clip.data_ptr()),
                                                        clip.numel() * sizeof(float)));
  const std::string example = std::string(ADAPTIVE_CLASSIFY_CLIP_ONNX) + " " + dir.str("clip.f32");
  const auto run = test::run_command(example + files);
  INFO(run.output);
  REQUIRE(run.rc == 0);
  torch::NoGradGuard no_grad;
  for (int i = 0; i < artifact.num_widths(); ++i) {
    const at::Tensor p = artifact.probabilities(artifact.forward_at(clip, i), i)[0];
    const int64_t label = p.argmax().item<int64_t>();
    char line[160];
    std::snprintf(line, sizeof line, "width %.4g: %s %.4f", artifact.metadata().widths[i].width,
                  artifact.metadata().labels[label].c_str(), p[label].item<double>());
    CHECK_THAT(run.output, Catch::Contains(line));
  }
  // Files it cannot use: named, with what was expected, and a non-zero exit.
  export_checkpoint({checkpoint, dir.str("model.onnx"), {}, ExportFormat::kOnnx});
  const auto every_width = test::run_command(example + " " + dir.str("model.onnx"));
  CHECK(every_width.rc == 1);
  CHECK_THAT(every_width.output, Catch::Contains(dir.str("model.onnx") + ": holds 2 widths") &&
                                     Catch::Contains("export one file per width"));
  test::write_file(dir.path() / "other.onnx", "not a model of ours");
  const auto other = test::run_command(example + " " + dir.str("other.onnx"));
  CHECK(other.rc == 1);
  CHECK_THAT(other.output, Catch::Contains(dir.str("other.onnx") + ": "));
  test::write_file(dir.path() / "short.f32", "1234");
  const auto short_clip = test::run_command(std::string(ADAPTIVE_CLASSIFY_CLIP_ONNX) + " " +
                                            dir.str("short.f32") + files);
  CHECK(short_clip.rc == 1);
  CHECK_THAT(short_clip.output, Catch::Contains("4 bytes, expected 49152"));
}

TEST_CASE("adaptive-train export --format onnx: the file, its summary and its errors",
          "[train][export][onnx]") {
  const TrainedRun r = trained_run();
  TempDir dir;
  const std::string checkpoint = r.dir + "/checkpoints/final.pt";
  const auto run = test::run_command(std::string(ADAPTIVE_TRAIN) + " export --checkpoint " +
                                     checkpoint + " --out " + dir.str("m.onnx"));
  INFO(run.output);
  REQUIRE(run.rc == 0);
  CHECK_THAT(run.output, Catch::Contains("m.onnx: ") && Catch::Contains("gated"));
  const std::string bytes = test::read_file(dir.path() / "m.onnx");
  CHECK(bytes.find("adaptive-onnx") != std::string::npos);
  // --format wins over the extension; an unknown format is a usage error.
  const auto forced =
      test::run_command(std::string(ADAPTIVE_TRAIN) + " export --checkpoint " + checkpoint +
                        " --out " + dir.str("m.bin") + " --format onnx");
  REQUIRE(forced.rc == 0);
  CHECK(test::read_file(dir.path() / "m.bin") == bytes);
  const auto unknown =
      test::run_command(std::string(ADAPTIVE_TRAIN) + " export --checkpoint " + checkpoint +
                        " --out " + dir.str("m.x") + " --format tflite");
  CHECK(unknown.rc == 2);
  CHECK_THAT(unknown.output, Catch::Contains("unknown export format 'tflite' (known: "
                                             "torchscript, onnx)"));
  CHECK_FALSE(fs::exists(dir.path() / "m.x"));
  const auto width =
      test::run_command(std::string(ADAPTIVE_TRAIN) + " export --checkpoint " + checkpoint +
                        " --out " + dir.str("w.onnx") + " --widths 0.3");
  CHECK(width.rc != 0);
  CHECK_THAT(width.output, Catch::Contains("width 0.3 is not one of the model's widths"));
  CHECK_FALSE(fs::exists(dir.path() / "w.onnx"));
  // The tools that run TorchScript say what an ONNX file is and what to do.
  CHECK_THAT(load_error(dir.str("m.onnx")),
             Catch::Contains(dir.str("m.onnx") + ": an ONNX file") &&
                 Catch::Contains("adaptive-train export --out model.pt"));
}

// Not run by default: writes the files tests/interop/check_artifact.py checks
// from Python (CTest runs it as the interop.python fixture). The model is the
// tiny run's with its gate rewritten to spread the 3 input clips over both
// widths, so that Python's forward_gated takes every route.
TEST_CASE("write the Python interop files", "[.interop]") {
  const char* out = std::getenv("ADAPTIVE_INTEROP_DIR");
  REQUIRE(out != nullptr);
  fs::create_directories(out);
  TrainedRun r = trained_run();
  torch::NoGradGuard no_grad;
  const std::vector<int64_t> shape = {3, 3, 4, 32, 32};
  const at::Tensor x = formula_input(shape);
  const std::string model =
      export_routed(r, std::string(out) + "/model.pt", [&](GateHeadImpl& gate) {
        test::route_in_turn(gate, r.model->features(x, r.model->at_width(0)));
      });
  const ModelArtifact artifact = ModelArtifact::load(model);
  json logits = json::array(), gate_at = json::array();
  for (int i = 0; i < artifact.num_widths(); ++i) {
    logits.push_back(rows(artifact.forward_at(x, i)));
    gate_at.push_back(rows(artifact.forward_and_gate(x, i).second));
  }
  const auto gated = artifact.forward_gated(x);
  std::vector<int64_t> choice(gated.second.data_ptr<int64_t>(),
                              gated.second.data_ptr<int64_t>() + gated.second.numel());
  const json expected = {{"shape", shape},        {"formula", "sin(arange(numel) * 0.37)"},
                         {"forward_at", logits},  {"gate", rows(artifact.gate(x))},
                         {"gate_at", gate_at},    {"gated_logits", rows(gated.first)},
                         {"gated_choice", choice}};
  test::write_file(std::string(out) + "/expected.json", expected.dump());

  // The same model as ONNX (tests/interop/check_onnx.py and check_onnx.js):
  // every width in one file, and each width alone (the form for runtimes
  // without If); the clip's float32 bytes, so that no runtime recomputes it.
  const at::Tensor contiguous = x.contiguous();
  test::write_file(std::string(out) + "/clip.f32",
                   std::string(static_cast<const char*>(contiguous.data_ptr()),
                               contiguous.numel() * sizeof(float)));
  const std::string checkpoint = std::string(out) + "/routed.pt";
  save_checkpoint(checkpoint, *r.model, nullptr, r.checkpoint, r.gate.ptr().get());
  export_checkpoint({checkpoint, std::string(out) + "/model.onnx", {}, ExportFormat::kOnnx});
  for (int i = 0; i < artifact.num_widths(); ++i) {
    export_checkpoint({checkpoint,
                       std::string(out) + "/width" + std::to_string(i) + ".onnx",
                       {artifact.metadata().widths[i].width},
                       ExportFormat::kOnnx});
  }
  fs::remove(checkpoint);

  // A causal model's stream: every width stepped through a video longer
  // than its window, the logits after each frame.
  const std::string causal = std::string(out) + "/causal";
  fs::create_directories(causal);
  fs::copy_file(test::tiny_causal_run() + "/model.pt", causal + "/model.pt",
                fs::copy_options::overwrite_existing);
  const ModelArtifact streamed = ModelArtifact::load(causal + "/model.pt");
  const std::vector<int64_t> video_shape = {2, 3, 7, 32, 32};
  const at::Tensor video = formula_input(video_shape);
  json steps = json::array();
  for (int i = 0; i < streamed.num_widths(); ++i) {
    ModelArtifact::StreamState state = streamed.init_state(i);
    json per_frame = json::array();
    for (int64_t t = 0; t < video.size(2); ++t)
      per_frame.push_back(rows(streamed.step(video.select(2, t), state)));
    steps.push_back(per_frame);
  }
  test::write_file(causal + "/expected.json",
                   json({{"shape", video_shape}, {"step", steps}}).dump());
}

TEST_CASE(
    "a final checkpoint whose gate has the old single head: export says how to retrain it, "
    "evaluate reads it",
    "[train][export]") {
  TrainedRun r = trained_run();
  TempDir dir;
  // The old format: one head's parameters at the gate's top level.
  GateHead single(gate_options_for(*r.model, r.config.gate.hidden).feature_channels[0], 10, 2,
                  r.config.gate.hidden);
  const std::string old = dir.str("final.pt");
  save_checkpoint(old, *r.model, nullptr, r.checkpoint, single.ptr().get());
  CHECK_THROWS_WITH(export_checkpoint({old, dir.str("model.pt"), {}}),
                    Catch::Contains(old + ": its gate has one head") &&
                        Catch::Contains("adaptive-train --resume auto"));
  CHECK_FALSE(fs::exists(dir.str("model.pt")));
  // Evaluation needs only the widths: it reads such a checkpoint.
  const CheckpointEvaluation e = evaluate_checkpoint(old, "val");  // the run's own val split
  CHECK(e.widths.size() == 2);
}
