#include "models/slimmable_net.h"

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/backbones.h"
#include "models/net_backends.h"
#include "test_support.h"

using namespace adaptive;

namespace {
ModelOptions tiny(const std::string& name, WidthMode mode = WidthMode::kDiscrete) {
  ModelOptions o;
  o.name = name;
  o.num_classes = 5;
  o.widths = {0.25, 0.5, 1.0};
  o.width_mode = mode;
  o.base_channels = 16;
  o.blocks = {1, 1};
  return o;
}

// `ctx` pooling only the clip's last frame: a stream's step on its own.
ForwardContext last_frame(ForwardContext ctx) {
  ctx.pooled_frames = 1;
  return ctx;
}
}  // namespace

TEST_CASE("every backbone: shapes and one backward step at every width", "[models][net]") {
  for (const std::string& name : model_names()) {
    for (WidthMode mode : {WidthMode::kDiscrete, WidthMode::kUniversal}) {
      INFO(name << " " << to_string(mode));
      torch::manual_seed(1);
      auto model = build_model(tiny(name, mode));
      model->train();
      const at::Tensor x = torch::randn({2, 3, 4, 32, 32});
      const at::Tensor y = torch::tensor({1, 3}, torch::kLong);
      for (int i = 0; i < 3; ++i) {
        model->zero_grad();
        const at::Tensor logits = model->forward(x, model->at_width(i));
        REQUIRE(logits.sizes() == at::IntArrayRef({2, 5}));
        torch::cross_entropy_loss(logits, y).backward();
        // The classifier's used columns get gradient, the unused ones none.
        const at::Tensor g = model->named_parameters()["classifier.weight"].grad();
        REQUIRE(g.defined());
        const int64_t used = channels_at(model->feature_channels(), model->widths()[i],
                                         model->options().channel_multiple);
        CHECK(g.narrow(1, 0, used).abs().sum().item<float>() > 0);
        if (used < g.size(1))
          CHECK(g.narrow(1, used, g.size(1) - used).abs().sum().item<float>() == 0);
      }
      if (mode == WidthMode::kUniversal) {  // a width between the listed ones trains too
        const at::Tensor logits = model->forward(x, ForwardContext{0.7, -1});
        CHECK(logits.sizes() == at::IntArrayRef({2, 5}));
      }
    }
  }
}

TEST_CASE("unknown model names list the known ones", "[models][net]") {
  ModelOptions o = tiny("resnet_9000");
  CHECK_THROWS_WITH(build_model(o), "unknown model 'resnet_9000' (known: r2plus1d, tsm_mobile)");
  o = tiny("r2plus1d");
  o.widths = {0.5, 0.25};
  CHECK_THROWS_WITH(build_model(o), "model.widths: expected strictly ascending widths");
  o.widths = {0.25, 0.5, 1.0};
  o.channel_multiple = 8;  // 0.25 and 0.5 of 16 channels both round to 8
  CHECK_THROWS_WITH(build_model(o),
                    "model.widths: widths 0.25 and 0.5 both run 8 of the 16 channels of stage 1 "
                    "(model.base_channels 16, model.channel_multiple 8): every width must be a "
                    "distinct sub-network; lower channel_multiple or raise base_channels");
}

TEST_CASE("model cost grows with width and matches a hand count", "[models][cost]") {
  ModelOptions o = tiny("tsm_mobile");
  o.blocks = {1};
  o.widths = {0.5, 1.0};
  auto model = build_model(o);
  const CostTally narrow = model_cost(*model, 0, 2, 8, 8), full = model_cost(*model, 1, 2, 8, 8);
  CHECK(narrow.flops < full.flops);
  // Full width, 2 frames of 8x8: stem 3->16 3x3 stride 2 (4x4 out), depthwise
  // 3x3 on 16 channels, pointwise 16->16, classifier 16->5.
  const double stem = 2.0 * 2 * 16 * 4 * 4 * 3 * 9;
  const double dw = 2.0 * 2 * 16 * 4 * 4 * 9;
  const double pw = 2.0 * 2 * 16 * 4 * 4 * 16;
  const double fc = 2.0 * 16 * 5;
  CHECK(full.flops == stem + dw + pw + fc);
  // Params: conv weights + BN scale and shift + classifier.
  CHECK(full.params == (16 * 27 + 32) + (16 * 9 + 32) + (16 * 16 + 32) + (16 * 5 + 5));

  // A model pooling the last 2 frames: a one-frame clip (a stream's step)
  // pools its frame, and costs half of two frames but the classifier.
  o.pool_frames = 2;
  auto pooling_two = build_model(o);
  const CostTally step = model_cost(*pooling_two, 1, 1, 8, 8);
  CHECK(step.flops == (stem + dw + pw) / 2 + fc);
  CHECK(model_cost(*pooling_two, 1, 2, 8, 8).flops == full.flops);
}

TEST_CASE("temporal shift moves a fraction of channels one frame each way", "[models][tsm]") {
  // 1 clip, 3 frames, 8 channels, 1x1; value = 10 * frame + channel.
  at::Tensor x = torch::zeros({3, 8, 1, 1});
  for (int t = 0; t < 3; ++t) {
    for (int c = 0; c < 8; ++c) x[t][c][0][0] = 10 * t + c;
  }
  const at::Tensor y = temporal_shift(x, 3, 0.5);  // fold = 2
  CHECK(y[1][0][0][0].item<float>() == 0);         // frame 1, channel 0 <- frame 0
  CHECK(y[0][0][0][0].item<float>() == 0);         // zero-filled
  CHECK(y[2][1][0][0].item<float>() == 11);        // frame 2, channel 1 <- frame 1
  CHECK(y[0][2][0][0].item<float>() == 12);        // frame 0, channel 2 <- frame 1
  CHECK(y[2][3][0][0].item<float>() == 0);         // zero-filled
  CHECK(y[1][5][0][0].item<float>() == 15);        // unshifted

  const at::Tensor causal = temporal_shift(x, 3, 0.5, /*causal=*/true);
  CHECK(causal[0][3][0][0].item<float>() == 0);   // zero-filled: no frame -1
  CHECK(causal[2][3][0][0].item<float>() == 13);  // frame 2, channel 3 <- frame 1
  CHECK(causal[1][2][0][0].item<float>() == 2);   // frame 1, channel 2 <- frame 0
  CHECK(causal[1][5][0][0].item<float>() == 15);  // unshifted
}

TEST_CASE("a causal model's frame features depend on no later frame", "[models][causal]") {
  // Frame k's features, computed on the clip cut after frame k (pooled over
  // that last frame), averaged over k, are the whole clip's pooled features
  // only when no frame's features read a later frame.
  for (const std::string name : {"r2plus1d", "tsm_mobile"}) {
    for (bool factorized : {true, false}) {
      if (name == "tsm_mobile" && !factorized) continue;
      for (bool causal : {true, false}) {
        CAPTURE(name, factorized, causal);
        ModelOptions o;
        o.name = name;
        o.num_classes = 4;
        o.widths = {0.5, 1.0};
        o.blocks = {1, 1};
        o.factorized = factorized;
        o.causal = causal;
        auto model = test::trained_looking(o);  // every residual branch counts
        torch::NoGradGuard no_grad;
        const at::Tensor x = torch::randn({2, 3, 6, 16, 16});
        for (int i = 0; i < 2; ++i) {
          at::Tensor sum;
          for (int64_t k = 0; k < 6; ++k) {
            EagerBackend b(last_frame(model->at_width(i)), k + 1);
            const at::Tensor f =
                model->apply_features(b, EagerBackend::value(x.narrow(2, 0, k + 1))).tensor;
            sum = k == 0 ? f : sum + f;
          }
          const at::Tensor whole = model->features(x, model->at_width(i));
          CHECK(torch::allclose(sum / 6, whole, 1e-4, 1e-5) == causal);
        }
      }
    }
  }
}

TEST_CASE("a causal model's temporal reach is the frames back its last frame's features read",
          "[models][causal]") {
  // Changing the frame `reach` frames before the last moves the last frame's
  // features; changing the one before it does not.
  struct Case {
    std::string name;
    bool factorized, motion;
    int64_t temporal_from_stage, reach;
  };
  // r2plus1d, 2 stages of 1 block: stem 1 temporal conv, each block 2, kt 3.
  for (const Case& c :
       {Case{"r2plus1d", true, true, 0, 1 + 2 * 5}, Case{"r2plus1d", true, false, 0, 2 * 5},
        Case{"r2plus1d", false, true, 0, 1 + 2 * 5}, Case{"r2plus1d", true, true, 2, 1 + 2 * 2},
        Case{"r2plus1d", true, false, 2, 2 * 2},
        Case{"tsm_mobile", true, false, 0, 2}}) {  // a shift per block
    CAPTURE(c.name, c.factorized, c.motion, c.temporal_from_stage);
    ModelOptions o;
    o.name = c.name;
    o.num_classes = 4;
    o.widths = {0.5, 1.0};
    o.blocks = {1, 1};
    o.factorized = c.factorized;
    o.motion_input = c.motion;
    o.temporal_from_stage = c.temporal_from_stage;
    o.causal = true;
    auto model = test::trained_looking(o);
    const int64_t reach = temporal_reach(*model);
    CHECK(reach == c.reach);
    torch::NoGradGuard no_grad;
    const int64_t frames = reach + 3;
    const at::Tensor x = torch::randn({1, 3, frames, 16, 16});
    const ForwardContext ctx = last_frame(model->at_width(1));
    const at::Tensor last = model->features(x, ctx);
    const auto changed_at = [&](int64_t t) {
      at::Tensor y = x.clone();
      y.select(2, t).add_(1);
      return !torch::allclose(model->features(y, ctx), last, 1e-5, 1e-6);
    };
    CHECK(changed_at(frames - 1 - reach));
    if (reach < frames - 1) CHECK_FALSE(changed_at(frames - 2 - reach));
  }
}

TEST_CASE("a causal model streams exactly when it pools only frames whose reach is the window's",
          "[models][causal]") {
  ModelOptions o;
  o.num_classes = 4;
  o.widths = {0.5, 1.0};
  o.blocks = {1, 1};
  o.temporal_from_stage = 2;  // reach 5: motion 1, two kt 3 convs
  struct Case {
    bool causal;
    int64_t pool;
    bool exact;
  };
  for (const auto& [causal, pool, exact] :
       {Case{true, 3, true}, Case{true, 4, false}, Case{true, 0, false}, Case{false, 1, false}}) {
    CAPTURE(causal, pool);
    o.causal = causal;
    o.pool_frames = pool;
    auto model = build_model(o);
    CHECK(pooled_frames(*model, 8) == (pool > 0 ? pool : 8));
    CHECK(streams_exactly(*model, 8) == exact);
  }
}

TEST_CASE(
    "a causal model pools a clip with past frames over its last T, the past read as a stream "
    "reads it",
    "[models][causal]") {
  ModelOptions o;
  o.num_classes = 4;
  o.widths = {0.5, 1.0};
  o.blocks = {1, 1};
  o.causal = true;
  auto model = test::trained_looking(o);
  torch::NoGradGuard no_grad;
  const at::Tensor x = torch::randn({2, 3, 7, 16, 16});  // 3 past frames, then a window of 4
  for (int i = 0; i < 2; ++i) {
    ForwardContext ctx = model->at_width(i);
    ctx.pooled_frames = 4;
    const at::Tensor pooled = model->features(x, ctx);
    at::Tensor sum;  // frames 3..6, each from every frame before it
    for (int64_t k = 3; k < 7; ++k) {
      EagerBackend b(last_frame(model->at_width(i)), k + 1);
      const at::Tensor f =
          model->apply_features(b, EagerBackend::value(x.narrow(2, 0, k + 1))).tensor;
      sum = k == 3 ? f : sum + f;
    }
    CHECK(torch::allclose(pooled, sum / 4, 1e-4, 1e-5));
    // The window alone (its past padded) is another answer: the past counts.
    const at::Tensor window = model->features(x.narrow(2, 3, 4), model->at_width(i));
    CHECK_FALSE(torch::allclose(pooled, window, 1e-3, 1e-4));
  }
}

TEST_CASE("frames with motion: the clip's frame differences, folded into channels-last frames",
          "[models][fold]") {
  torch::manual_seed(7);
  for (int64_t n : {1, 3}) {
    CAPTURE(n);
    const at::Tensor clips = torch::randn({n, 3, 4, 5, 6});
    const at::Tensor motion = with_motion(clips);
    // Frame 0's difference is zero; frame t's is frame t less frame t - 1.
    CHECK(motion.slice(1, 3).select(2, 0).abs().max().item<float>() == 0);
    CHECK(
        torch::allclose(motion.slice(1, 3).select(2, 2), clips.select(2, 2) - clips.select(2, 1)));
    const at::Tensor frames = fold_frames_with_motion(clips);
    CHECK(frames.sizes() == at::IntArrayRef({n * 4, 6, 5, 6}));
    CHECK(frames.is_contiguous(at::MemoryFormat::ChannelsLast));
    CHECK(torch::equal(frames, fold_frames(motion)));
  }
}
