#include "models/slimmable_layers.h"

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/net_backends.h"

using namespace adaptive;

TEST_CASE("channels per width round to the multiple, within [multiple, max]", "[models][width]") {
  CHECK(channels_at(64, 1.0, 8) == 64);
  CHECK(channels_at(64, 0.25, 8) == 16);
  CHECK(channels_at(64, 0.3, 8) == 16);   // 19.2 -> 16
  CHECK(channels_at(64, 0.32, 8) == 24);  // 20.48 -> 24
  CHECK(channels_at(16, 0.25, 8) == 8);   // never below the multiple
  CHECK(channels_at(12, 1.0, 8) == 12);   // never above the layer
  CHECK(channels_at(100, 0.5, 1) == 50);
}

TEST_CASE("slim conv FLOPs and params match hand counts", "[models][cost]") {
  SlimConvOptions o;
  o.in_channels = 16;
  o.out_channels = 32;
  o.kernel = {3, 3, 3};
  o.stride = {1, 2, 2};
  o.padding = {1, 1, 1};
  SlimConv conv(o);
  CostTally cost;
  ForwardContext ctx{0.5, 1, -1, &cost};
  // Input with 8 of 16 channels; width 0.5 -> 16 of 32 outputs.
  const at::Tensor y = conv->forward(torch::randn({1, 8, 4, 10, 10}), ctx);
  CHECK(y.sizes() == at::IntArrayRef({1, 16, 4, 5, 5}));
  // 2 x (outputs 16*4*5*5) x (inputs 8 x kernel 27)
  CHECK(cost.flops == 2.0 * (16 * 4 * 5 * 5) * (8 * 27));
  CHECK(cost.params == 16 * 8 * 27);

  SlimConvOptions dw;
  dw.in_channels = dw.out_channels = 32;
  dw.kernel = {3, 3};
  dw.stride = {1, 1};
  dw.padding = {1, 1};
  dw.depthwise = true;
  SlimConv depthwise(dw);
  CostTally c2;
  ForwardContext ctx2{1.0, 0, -1, &c2};
  const at::Tensor z = depthwise->forward(torch::randn({2, 24, 6, 6}), ctx2);
  CHECK(z.sizes() == at::IntArrayRef({2, 24, 6, 6}));
  CHECK(c2.flops == 2.0 * (2 * 24 * 6 * 6) * 9);  // a batch of 2 counts twice
  CHECK(c2.params == 24 * 9);
}

TEST_CASE("slim linear keeps its outputs and counts 2 x in x out", "[models][cost]") {
  SlimLinear fc(64, 10);
  CostTally cost;
  ForwardContext ctx{0.25, 0, -1, &cost};
  CHECK(fc->forward(torch::randn({1, 16}), ctx).sizes() == at::IntArrayRef({1, 10}));
  CHECK(cost.flops == 2.0 * 16 * 10);
  CHECK(cost.params == 16 * 10 + 10);
}

TEST_CASE("switchable BN keeps separate statistics and affine per width", "[models][bn]") {
  SwitchableBatchNorm bn(SwitchableBatchNormOptions{32, {0.5, 1.0}, WidthMode::kDiscrete, 8});
  bn->train();
  bn->forward(torch::randn({4, 16, 3, 3}) * 3 + 5, ForwardContext{0.5, 0});
  const auto narrow = bn->params_at(0), wide = bn->params_at(1);
  CHECK(narrow.mean.size(0) == 16);
  CHECK(wide.mean.size(0) == 32);
  CHECK(narrow.mean.mean().item<float>() == Approx(0.5).margin(0.05));  // momentum 0.1 towards 5
  CHECK(wide.mean.abs().max().item<float>() == 0);                      // untouched
  CHECK(narrow.weight.data_ptr() != wide.weight.data_ptr());
  // A width outside the list has no statistics in discrete mode.
  CHECK_THROWS_WITH(bn->forward(torch::randn({2, 16, 2, 2}), ForwardContext{0.6, -1}),
                    "width 0.6 is not one of the model's widths (discrete mode)");
}

TEST_CASE("universal BN shares affine, recalibrates statistics per width", "[models][bn]") {
  SwitchableBatchNorm bn(SwitchableBatchNormOptions{32, {0.5, 1.0}, WidthMode::kUniversal, 8});
  CHECK(bn->params_at(0).weight.data_ptr() == bn->params_at(1).weight.data_ptr());
  bn->train();
  // Training at any width uses batch statistics only.
  bn->forward(torch::randn({4, 24, 2, 2}) + 7, ForwardContext{0.75, -1});
  CHECK(bn->params_at(1).mean.abs().max().item<float>() == 0);
  // Recalibration: cumulative average over batches (momentum 1/(k+1)).
  torch::NoGradGuard no_grad;
  for (int k = 0; k < 2; ++k) {
    ForwardContext ctx{0.5, 0};
    ctx.bn_calibration_momentum = 1.0 / (k + 1);
    bn->forward(torch::full({4, 16, 2, 2}, k == 0 ? 2.0 : 4.0), ctx);
  }
  CHECK(bn->params_at(0).mean.mean().item<float>() == Approx(3.0));
  CHECK(bn->params_at(1).mean.abs().max().item<float>() == 0);
  bn->eval();
  const at::Tensor y = bn->forward(torch::full({1, 16, 1, 1}, 3.0), ForwardContext{0.5, 0});
  CHECK(y.abs().max().item<float>() < 1e-3);
}

TEST_CASE("3D convs over frames in channels-last memory match conv3d on the clip",
          "[models][fold]") {
  torch::manual_seed(5);
  const int64_t n = 2, t = 5, h = 7, w = 6;
  const at::Tensor clip = torch::randn({n, 8, t, h, w});
  const at::Tensor frames = fold_frames(clip);
  CHECK(frames.sizes() == at::IntArrayRef({n * t, 8, h, w}));
  CHECK(frames.is_contiguous(at::MemoryFormat::ChannelsLast));
  const auto unfold = [&](const at::Tensor& f) {  // frames -> [N, C, T, H, W]
    return f.view({n, t, f.size(1), f.size(2), f.size(3)}).transpose(1, 2);
  };
  CHECK(torch::equal(unfold(frames), clip));
  struct Case {
    std::vector<int64_t> kernel, stride, padding;
    int64_t groups;
  };
  for (const Case& k :
       {Case{{1, 3, 3}, {1, 2, 2}, {0, 1, 1}, 1}, Case{{3, 1, 1}, {1, 1, 1}, {1, 0, 0}, 1},
        Case{{5, 1, 1}, {1, 1, 1}, {2, 0, 0}, 8}, Case{{1, 1, 1}, {1, 2, 2}, {0, 0, 0}, 1}}) {
    CAPTURE(k.kernel, k.stride, k.groups);
    at::Tensor weight = torch::randn(
        {6 * (k.groups > 1 ? 4 : 1), 8 / k.groups, k.kernel[0], k.kernel[1], k.kernel[2]});
    const at::Tensor bias = torch::randn({weight.size(0)});
    const at::Tensor ref = at::conv3d(clip, weight, bias, k.stride, k.padding, {1, 1, 1}, k.groups);
    const at::Tensor y = conv3d_over_frames(frames, weight, bias, k.stride, k.padding, k.groups, t);
    CHECK(y.is_contiguous(at::MemoryFormat::ChannelsLast));
    CHECK(torch::allclose(unfold(y), ref, 1e-4, 1e-5));
  }
  CHECK(torch::allclose(pool_frames(frames, t), clip.mean({2, 3, 4}), 1e-5, 1e-6));
  // A full 3D kernel is not a 2D conv over frames.
  CHECK_THROWS_WITH(
      conv3d_over_frames(frames, torch::randn({4, 8, 3, 3, 3}), {}, {1, 1, 1}, {1, 1, 1}, 1, t),
      Catch::Contains("neither spatial"));
}

TEST_CASE("A strided 1x1 conv over frames trains: gradients match conv3d's", "[models][fold]") {
  // The shape at which LibTorch 1.13's oneDNN backward of a strided 1x1 conv
  // on channels-last input (8 < 16 input channels) corrupted the heap: a
  // Jester-scale model's first strided shortcut at width 0.25.
  torch::manual_seed(6);
  const int64_t n = 2, t = 8;
  const at::Tensor clip = torch::randn({n, 8, t, 56, 56});
  const at::Tensor weight = torch::randn({16, 8, 1, 1, 1});
  const at::Tensor frames = fold_frames(clip).requires_grad_();
  const at::Tensor w = weight.clone().requires_grad_();
  const at::Tensor y = conv3d_over_frames(frames, w, {}, {1, 2, 2}, {0, 0, 0}, 1, t);
  const at::Tensor g = torch::randn_like(y);
  y.backward(g);
  const at::Tensor ref_clip = clip.clone().requires_grad_(),
                   ref_w = weight.clone().requires_grad_();
  const at::Tensor ref = at::conv3d(ref_clip, ref_w, {}, {1, 2, 2});
  ref.backward(g.view({n, t, 16, 28, 28}).transpose(1, 2));
  CHECK(torch::allclose(y.view({n, t, 16, 28, 28}).transpose(1, 2), ref, 1e-4, 1e-4));
  CHECK(torch::allclose(w.grad(), ref_w.grad(), 1e-3, 1e-3));
  CHECK(torch::allclose(frames.grad().view({n, t, 8, 56, 56}).transpose(1, 2), ref_clip.grad(),
                        1e-4, 1e-5));
}
