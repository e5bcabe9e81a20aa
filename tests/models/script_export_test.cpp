#include "models/script_export.h"

#include <algorithm>
#include <sstream>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/backbones.h"
#include "models/net_backends.h"

#include "test_support.h"

using namespace adaptive;

namespace {

ModelOptions tiny(const std::string& name) {
  return test::tiny_export_options(name);
}

// A random gate (eval mode) for `model`, seeded.
WidthGate random_gate(const SlimmableNet& model, uint64_t seed) {
  torch::manual_seed(seed);
  WidthGate gate(gate_options_for(model, 16));
  gate->eval();
  return gate;
}

constexpr ScriptInputShape kInput{3, 4, 32, 32};

at::Tensor clips(int64_t n) {
  return torch::randn({n, 3, 4, 32, 32});
}

// Saves and loads the module, as a consumer would see it.
torch::jit::Module round_trip(const torch::jit::Module& module) {
  std::stringstream bytes;
  module.save(bytes);
  return torch::jit::load(bytes);
}

}  // namespace

TEST_CASE("exported logits match the training model at every width", "[models][export]") {
  const std::vector<ModelOptions> variants = test::export_variants();
  REQUIRE(variants.size() == 11);
  for (const ModelOptions& options : variants) {
    INFO(options.name << (options.factorized ? " (2+1)D" : " 3D kernels")
                      << (options.motion_input ? ", motion input" : "") << ", "
                      << to_string(options.width_mode) << ", temporal from stage "
                      << options.temporal_from_stage << ", pooled frames " << options.pool_frames);
    auto model = test::trained_looking(options);
    torch::jit::Module script = round_trip(lower_to_torchscript(*model, nullptr, {}, kInput));
    torch::NoGradGuard no_grad;
    const at::Tensor x = clips(3);
    for (int i = 0; i < static_cast<int>(options.widths.size()); ++i) {
      INFO("width " << options.widths[i]);
      const at::Tensor expected = model->forward(x, model->at_width(i));
      const at::Tensor got = script.get_method("forward_at")({x, int64_t{i}}).toTensor();
      const test::Parity p = test::parity(got, expected);
      INFO("max|logits| " << p.scale);
      CHECK(p.diff <= p.bound);
    }
  }
}

TEST_CASE("a batch of large clips runs in chunks and gives the whole batch logits",
          "[models][export]") {
  CHECK(clips_per_chunk({3, 16, 112, 112}) == 1);  // 2.4 MB a clip
  CHECK(clips_per_chunk({3, 8, 48, 48}) == 18);    // 221 KB a clip
  const ScriptInputShape large{3, 4, 300, 300};    // 4.3 MB a clip, over kChunkInputBytes
  REQUIRE(clips_per_chunk(large) == 1);
  auto model = test::trained_looking(tiny("r2plus1d"));
  torch::jit::Module script = round_trip(lower_to_torchscript(*model, nullptr, {0, 3}, large));
  CHECK(script.get_method("_features_0").graph()->toString().find("aten::split") !=
        std::string::npos);
  torch::NoGradGuard no_grad;
  const at::Tensor x = torch::randn({3, 3, 4, 300, 300});
  for (int k = 0; k < 2; ++k) {
    const at::Tensor expected = model->forward(x, model->at_width(k == 0 ? 0 : 3));
    const test::Parity p =
        test::parity(script.get_method("forward_at")({x, int64_t{k}}).toTensor(), expected);
    INFO("width index " << k << ", max|logits| " << p.scale);
    CHECK(p.diff <= p.bound);
  }
}

TEST_CASE("the width knob: set_width, get_width, widths, forward", "[models][export]") {
  auto model = test::trained_looking(tiny("r2plus1d"));
  torch::jit::Module script = round_trip(lower_to_torchscript(*model, nullptr, {}, kInput));
  torch::NoGradGuard no_grad;
  const at::Tensor x = clips(2);
  CHECK(script.run_method("widths").toDoubleList().vec() ==
        std::vector<double>{0.25, 0.5, 0.75, 1.0});
  CHECK(script.run_method("get_width").toDouble() == 1.0);  // widest by default
  script.run_method("set_width", 0.5);
  CHECK(script.run_method("get_width").toDouble() == 0.5);
  const at::Tensor at_half = model->forward(x, model->at_width(1));
  const test::Parity p = test::parity(script.forward({x}).toTensor(), at_half);
  INFO("max|logits| " << p.scale);
  CHECK(p.diff <= p.bound);
  // forward_at leaves the knob where it was.
  script.run_method("forward_at", x, int64_t{0});
  CHECK(script.run_method("get_width").toDouble() == 0.5);

  const std::string bad_width = test::error_of([&] { script.run_method("set_width", 0.3); });
  CHECK_THAT(bad_width,
             Catch::Contains("is not in this model; valid widths: [0.25, 0.5, 0.75, 1]"));
  const std::string bad_index =
      test::error_of([&] { script.run_method("forward_at", x, int64_t{4}); });
  CHECK_THAT(bad_index, Catch::Contains("width_index 4 is out of range: valid indices are 0..3"));
  const std::string bad_shape = test::error_of([&] {
    script.forward({torch::randn({1, 3, 8, 32, 32})});
  });
  CHECK_THAT(bad_shape, Catch::Contains("expected input [N, 3, 4, 32, 32]"));
  CHECK_THAT(bad_shape, Catch::Contains("got [1, 3, 8, 32, 32]"));
}

TEST_CASE("a subset of widths exports each as its own contiguous weights", "[models][export]") {
  auto model = test::trained_looking(tiny("tsm_mobile"));
  torch::jit::Module script = lower_to_torchscript(*model, nullptr, {0, 3}, kInput, 0);
  CHECK(script.run_method("widths").toDoubleList().vec() == std::vector<double>{0.25, 1.0});
  CHECK(script.run_method("get_width").toDouble() == 0.25);
  int64_t count = 0;
  for (const auto& p : script.named_parameters()) {
    CHECK_FALSE(p.value.requires_grad());
    CHECK(p.value.is_contiguous());
    ++count;
  }
  CHECK(count > 0);
  CHECK_FALSE(script.is_training());
  torch::NoGradGuard no_grad;
  const at::Tensor x = clips(1);
  const at::Tensor narrow = script.run_method("forward_at", x, int64_t{0}).toTensor();
  const test::Parity p = test::parity(narrow, model->forward(x, model->at_width(0)));
  INFO("max|logits| " << p.scale);
  CHECK(p.diff <= p.bound);
  CHECK_THROWS_WITH(lower_to_torchscript(*model, nullptr, {2, 1}, kInput),
                    Catch::Contains("ascending"));
}

TEST_CASE("the gate exports with forward_gated routing each clip to its width",
          "[models][export]") {
  auto model = test::trained_looking(tiny("r2plus1d"));
  WidthGate gate = random_gate(*model, 5);
  torch::NoGradGuard no_grad;
  const at::Tensor x = clips(8);
  const at::Tensor features = model->features(x, model->at_width(0));
  const at::Tensor logits0 = model->classify(features, model->at_width(0));
  std::vector<at::Tensor> at_width;  // the C++ model's logits at each width
  for (int i = 0; i < 4; ++i) at_width.push_back(model->forward(x, model->at_width(i)));
  // The random gate as it is, then rewritten to send every clip to each
  // width in turn, then to spread the clips over all four.
  for (int routing = 0; routing < 6; ++routing) {
    if (routing >= 1 && routing <= 4) test::route_all_to(*gate->heads[0], routing - 1);
    const at::Tensor spread =
        routing == 5 ? test::route_in_turn(*gate->heads[0], features) : at::Tensor();
    torch::jit::Module script = round_trip(lower_to_torchscript(*model, gate.get(), {}, kInput));
    const at::Tensor scores = gate->forward(0, features, logits0);
    INFO("routing " << routing << ": gate's choice " << scores.argmax(1));
    if (spread.defined()) REQUIRE(scores.argmax(1).equal(spread));
    if (routing >= 1 && routing <= 4) REQUIRE((scores.argmax(1) == routing - 1).all().item<bool>());
    if (!spread.defined()) {
      // (The spreading gate's scores are small multiples of one feature's
      // differences between clips, so that feature's rounding, at the
      // features' scale, dominates them. Their choice is checked: it leads
      // by >= 1e-4.)
      const test::Parity p = test::parity(script.run_method("gate", x).toTensor(), scores);
      INFO("max|scores| " << p.scale);
      CHECK(p.diff <= p.bound);
    }
    const auto out = script.run_method("forward_gated", x).toTuple();
    const at::Tensor choice = out->elements()[1].toTensor();
    CHECK(choice.equal(scores.argmax(1)));
    const at::Tensor got = out->elements()[0].toTensor();
    for (int64_t j = 0; j < x.size(0); ++j) {
      const int64_t w = choice[j].item<int64_t>();
      INFO("clip " << j << " at width index " << w);
      const test::Parity p = test::parity(got[j], at_width[w][j]);
      INFO("max|logits| " << p.scale);
      CHECK(p.diff <= p.bound);
    }
  }
  CHECK_THROWS_WITH(lower_to_torchscript(*model, gate.get(), {0, 3}, kInput),
                    Catch::Contains("export every width"));
}

TEST_CASE("forward_and_gate: a pass at any width and the scores of the head that reads it",
          "[models][export]") {
  auto model = test::trained_looking(tiny("r2plus1d"));
  WidthGate gate = random_gate(*model, 6);
  torch::NoGradGuard no_grad;
  // Head w sends every clip to width 3 - w, so each head's choice is its own.
  for (int w = 0; w < 4; ++w) test::route_all_to(*gate->heads[w], 3 - w);
  torch::jit::Module script = round_trip(lower_to_torchscript(*model, gate.get(), {}, kInput));
  const at::Tensor x = clips(3);
  for (int w = 0; w < 4; ++w) {
    INFO("width index " << w);
    const ForwardContext ctx = model->at_width(w);
    const at::Tensor features = model->features(x, ctx);
    const at::Tensor logits = model->classify(features, ctx);
    const auto out = script.get_method("forward_and_gate")({x, int64_t{w}}).toTuple();
    const test::Parity p = test::parity(out->elements()[0].toTensor(), logits);
    CHECK(p.diff <= p.bound);
    const at::Tensor scores = out->elements()[1].toTensor();
    CHECK(test::parity(scores, gate->forward(w, features, logits)).diff <= 1e-4);
    CHECK((scores.argmax(1) == 3 - w).all().item<bool>());
  }
  CHECK_THROWS_WITH(script.get_method("forward_and_gate")({x, int64_t{4}}),
                    Catch::Contains("valid indices are 0..3"));
}

namespace {

// The exported stream's state, as a consumer holds it.
c10::List<at::Tensor> init_state(torch::jit::Module& script, int width_index) {
  return script.get_method("init_state")({int64_t{width_index}}).toTensorList();
}

// step(frame, state): the logits, the state replaced by the next.
at::Tensor step(torch::jit::Module& script, const at::Tensor& frame, c10::List<at::Tensor>& state) {
  const auto out = script.get_method("step")({frame, state}).toTuple();
  state = out->elements()[1].toTensorList();
  return out->elements()[0].toTensor();
}

}  // namespace

TEST_CASE(
    "a causal model streams: each step's logits are the causal model's over every frame "
    "so far, pooled over the last window",
    "[models][export][stream]") {
  std::vector<ModelOptions> variants;
  for (const std::string name : {"r2plus1d", "tsm_mobile"}) {
    for (bool factorized : {true, false}) {
      for (bool motion : {true, false}) {
        if (name == "tsm_mobile" && (!factorized || !motion)) continue;
        variants.push_back(tiny(name));
        variants.back().factorized = factorized;
        variants.back().motion_input = motion;
        variants.back().causal = true;
      }
    }
  }
  variants.push_back(tiny("r2plus1d"));  // pooling the window's last 2 frames
  variants.back().causal = true;
  variants.back().pool_frames = 2;
  REQUIRE(variants.size() == 6);
  const int64_t window = kInput.frames, steps = window + 5;
  for (const ModelOptions& options : variants) {
    INFO(options.name << (options.factorized ? " (2+1)D" : " 3D kernels")
                      << (options.motion_input ? ", motion input" : "") << ", pooled frames "
                      << options.pool_frames);
    auto model = test::trained_looking(options);
    torch::jit::Module script = round_trip(lower_to_torchscript(*model, nullptr, {}, kInput));
    torch::NoGradGuard no_grad;
    const at::Tensor video = torch::randn({2, 3, steps, 32, 32});
    for (int i = 0; i < static_cast<int>(options.widths.size()); ++i) {
      INFO("width " << options.widths[i]);
      c10::List<at::Tensor> state = init_state(script, i);
      for (int64_t t = 0; t < steps; ++t) {
        INFO("frame " << t);
        // The caller's frame memory is reused: the state must not keep it.
        at::Tensor frame = video.select(2, t).clone();
        const at::Tensor got = step(script, frame, state);
        frame.fill_(1e3);
        if (t < window - 1) continue;  // the first window is not full yet
        const at::Tensor so_far = video.narrow(2, 0, t + 1);
        ForwardContext last_window = model->at_width(i);  // the model's pool_frames, or T
        if (last_window.pooled_frames == 0) last_window.pooled_frames = window;
        EagerBackend eager(last_window, t + 1);
        const at::Tensor want = model->classify(
            model->apply_features(eager, EagerBackend::value(so_far)).tensor, model->at_width(i));
        test::Parity p = test::parity(got, want);
        INFO("max|logits| " << p.scale);
        CHECK(p.diff <= p.bound);
        if (t == window - 1) {  // T steps from an empty state: the windowed model
          const at::Tensor windowed =
              script.get_method("forward_at")({so_far, int64_t{i}}).toTensor();
          p = test::parity(got, windowed);
          CHECK(p.diff <= p.bound);
        }
      }
      // prefill: the first window in one pass gives its logits and the
      // state its T steps leave, so the stream goes on as if it had stepped.
      const at::Tensor first = video.narrow(2, 0, window);
      const auto out = script.get_method("prefill")({first, int64_t{i}}).toTuple();
      c10::List<at::Tensor> prefilled = out->elements()[1].toTensorList();
      state = init_state(script, i);
      at::Tensor stepped;
      for (int64_t t = 0; t < window; ++t) stepped = step(script, video.select(2, t), state);
      test::Parity p = test::parity(out->elements()[0].toTensor(), stepped);
      CHECK(p.diff <= p.bound);
      REQUIRE(prefilled.size() == state.size());
      CHECK(torch::equal(prefilled.get(0), state.get(0)));  // the header: its width
      for (size_t k = 1; k < state.size(); ++k) {
        INFO("state slot " << k);
        REQUIRE(prefilled.get(k).sizes() == state.get(k).sizes());
        p = test::parity(prefilled.get(k), state.get(k));
        CHECK(p.diff <= p.bound);
      }
      for (int64_t t = window; t < steps; ++t) {
        INFO("frame " << t << " after a prefill");
        p = test::parity(step(script, video.select(2, t), prefilled),
                         step(script, video.select(2, t), state));
        CHECK(p.diff <= p.bound);
      }
    }
  }
}

TEST_CASE(
    "a causal model that pools only frames whose reach lies in the window streams exactly as "
    "its windowed model runs",
    "[models][export][stream]") {
  // Temporal convs in the last stage only: a frame sees 5 frames back (the
  // motion input 1, two kt 3 convs 2 each), so of a window of 8 the last 3
  // never see its padding.
  ModelOptions options = tiny("r2plus1d");
  options.causal = true;
  options.temporal_from_stage = 2;
  const ScriptInputShape input{3, 8, 32, 32};
  const int64_t steps = input.frames + 6;
  torch::NoGradGuard no_grad;
  const at::Tensor video = torch::randn({1, 3, steps, 32, 32});
  for (int64_t pooled : {3, 4}) {
    INFO("pooled frames " << pooled);
    options.pool_frames = pooled;
    auto model = test::trained_looking(options);
    CHECK(temporal_reach(*model) == 5);
    CHECK(streams_exactly(*model, input.frames) == (pooled == 3));  // as the steps show
    torch::jit::Module script = round_trip(lower_to_torchscript(*model, nullptr, {}, input));
    for (int i = 0; i < static_cast<int>(options.widths.size()); ++i) {
      INFO("width " << options.widths[i]);
      c10::List<at::Tensor> state = init_state(script, i);
      double worst = 0;
      for (int64_t t = 0; t < steps; ++t) {
        const at::Tensor got = step(script, video.select(2, t), state);
        if (t < input.frames - 1) continue;
        const at::Tensor window = video.narrow(2, t - input.frames + 1, input.frames);
        const at::Tensor windowed =
            script.get_method("forward_at")({window, int64_t{i}}).toTensor();
        const test::Parity p = test::parity(got, windowed);
        worst = std::max(worst, p.diff / p.bound);
      }
      // 3 frames: every window's logits, within the parity rule; 4: the
      // oldest pooled frame sees the padding, and later windows differ.
      CHECK((worst <= 1) == (pooled == 3));
    }
  }
}

TEST_CASE("the stream's methods: step_and_gate, and errors that say what is valid",
          "[models][export][stream]") {
  ModelOptions options = tiny("r2plus1d");
  auto plain = test::trained_looking(options);
  const torch::jit::Module windowed = round_trip(lower_to_torchscript(*plain, nullptr, {}, kInput));
  CHECK(!windowed.find_method("step"));  // a model that sees the future cannot stream
  CHECK(!windowed.find_method("init_state"));

  options.causal = true;
  auto model = test::trained_looking(options);
  WidthGate gate = random_gate(*model, 8);
  torch::jit::Module script = round_trip(lower_to_torchscript(*model, gate.get(), {}, kInput));
  torch::NoGradGuard no_grad;
  const at::Tensor video = torch::randn({1, 3, kInput.frames, 32, 32});
  for (int w = 0; w < 4; ++w) {
    INFO("width index " << w);
    c10::List<at::Tensor> plain_state = init_state(script, w), gated_state = init_state(script, w);
    at::Tensor logits, scores, want;
    for (int64_t t = 0; t < kInput.frames; ++t) {
      const at::Tensor frame = video.select(2, t);
      want = step(script, frame, plain_state);
      const auto out = script.get_method("step_and_gate")({frame, gated_state}).toTuple();
      logits = out->elements()[0].toTensor();
      scores = out->elements()[1].toTensor();
      gated_state = out->elements()[2].toTensorList();
    }
    CHECK(torch::equal(logits, want));
    const auto prefilled = script.get_method("prefill_and_gate")({video, int64_t{w}}).toTuple();
    CHECK(test::parity(prefilled->elements()[0].toTensor(), logits).diff <= 1e-4);
    CHECK(test::parity(prefilled->elements()[1].toTensor(), scores).diff <= 1e-4);
    CHECK(prefilled->elements()[2].toTensorList().size() == gated_state.size());
    const ForwardContext ctx = model->at_width(w);
    const at::Tensor features = model->features(video, ctx);
    CHECK(test::parity(scores, gate->forward(w, features, model->classify(features, ctx))).diff <=
          1e-4);
  }
  c10::List<at::Tensor> state = init_state(script, 0);
  CHECK_THROWS_WITH(script.get_method("init_state")({int64_t{4}}),
                    Catch::Contains("valid indices are 0..3"));
  CHECK_THROWS_WITH(script.get_method("prefill")({video, int64_t{4}}),
                    Catch::Contains("valid indices are 0..3"));
  CHECK_THROWS_WITH(script.get_method("prefill")({video.narrow(2, 0, 2), int64_t{0}}),
                    Catch::Contains("expected input"));
  CHECK_THROWS_WITH(step(script, torch::randn({1, 3, 16, 32}), state),
                    Catch::Contains("expected a frame [N, 3, 32, 32]"));
  c10::List<at::Tensor> short_state({state.get(0)});
  CHECK_THROWS_WITH(step(script, torch::randn({1, 3, 32, 32}), short_state),
                    Catch::Contains("not a state of this model"));
}
