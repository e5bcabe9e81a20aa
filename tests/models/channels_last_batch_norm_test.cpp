#include "models/channels_last_batch_norm.h"

#include <torch/torch.h>
#include <catch2/catch.hpp>

using namespace adaptive;

namespace {

struct Result {
  at::Tensor y, dx, dw, db, mean, var;
};

// Forward, backward of a fixed upstream gradient, and the running statistics
// after one update, through `custom` or at::batch_norm.
Result run(const at::Tensor& input, const at::Tensor& grad, bool custom, bool track) {
  const int64_t c = input.size(1);
  const at::Tensor x = input.detach().clone(at::MemoryFormat::ChannelsLast).requires_grad_();
  const at::Tensor w = torch::linspace(0.5, 1.5, c).requires_grad_();
  const at::Tensor b = torch::linspace(-0.2, 0.3, c).requires_grad_();
  at::Tensor mean, var;
  if (track) {
    mean = torch::full({c}, 0.5);
    var = torch::full({c}, 2.0);
  }
  const at::Tensor y = custom ? channels_last_batch_norm(x, w, b, mean, var, true, 0.1, 1e-5)
                              : at::batch_norm(x, w, b, mean, var, true, 0.1, 1e-5, false);
  const auto g = torch::autograd::grad({y}, {x, w, b}, {grad});
  return {y.detach(), g[0], g[1], g[2], mean, var};
}

}  // namespace

TEST_CASE("channels-last batch norm matches LibTorch's: output, gradients, running statistics",
          "[models][bn]") {
  torch::manual_seed(3);
  for (const int64_t c : {4, 12, 16, 24}) {
    for (const bool track : {true, false}) {
      CAPTURE(c, track);
      // Off-centre inputs (mean 3, std 0.5): a one-pass variance would lose digits.
      const at::Tensor x =
          (torch::randn({6, c, 5, 7}) * 0.5 + 3).contiguous(at::MemoryFormat::ChannelsLast);
      const at::Tensor grad = torch::randn_like(x);
      const Result ours = run(x, grad, true, track), ref = run(x, grad, false, track);
      CHECK(ours.y.is_contiguous(at::MemoryFormat::ChannelsLast));
      CHECK(torch::allclose(ours.y, ref.y, 1e-4, 1e-5));
      CHECK(torch::allclose(ours.dx, ref.dx, 1e-4, 1e-5));
      CHECK(torch::allclose(ours.dw, ref.dw, 1e-4, 1e-4));
      CHECK(torch::allclose(ours.db, ref.db, 1e-4, 1e-4));
      if (track) {
        CHECK(torch::allclose(ours.mean, ref.mean, 1e-5, 1e-6));
        CHECK(torch::allclose(ours.var, ref.var, 1e-5, 1e-6));
      }
    }
  }
}

TEST_CASE("channels-last batch norm in eval mode matches LibTorch's, gradients too",
          "[models][bn]") {
  torch::manual_seed(4);
  for (const int64_t c : {4, 12, 32}) {
    CAPTURE(c);
    const at::Tensor x = torch::randn({3, c, 4, 5}).contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor w = torch::linspace(0.5, 1.5, c).requires_grad_();
    const at::Tensor b = torch::linspace(-0.2, 0.3, c).requires_grad_();
    const at::Tensor mean = torch::linspace(-1, 1, c), var = torch::linspace(0.5, 2, c);
    const at::Tensor grad = torch::randn_like(x);
    const at::Tensor ours = channels_last_batch_norm(x, w, b, mean, var, false, 0.1, 1e-5);
    const at::Tensor ref = at::batch_norm(x, w, b, mean, var, false, 0.1, 1e-5, false);
    CHECK(ours.is_contiguous(at::MemoryFormat::ChannelsLast));
    CHECK(torch::allclose(ours, ref, 1e-5, 1e-6));
    const auto g_ours = torch::autograd::grad({ours}, {w, b}, {grad});
    const auto g_ref = torch::autograd::grad({ref}, {w, b}, {grad});
    CHECK(torch::allclose(g_ours[0], g_ref[0], 1e-4, 1e-4));
    CHECK(torch::allclose(g_ours[1], g_ref[1], 1e-4, 1e-4));
    CHECK(torch::equal(mean, torch::linspace(-1, 1, c)));  // eval leaves statistics alone
  }
}

TEST_CASE("channels-last batch norm takes channels-last CPU float frames only", "[models][bn]") {
  const at::Tensor frames = torch::randn({2, 4, 3, 3});
  CHECK_FALSE(takes_channels_last_batch_norm(frames));  // NCHW
  CHECK(takes_channels_last_batch_norm(frames.contiguous(at::MemoryFormat::ChannelsLast)));
  CHECK_FALSE(takes_channels_last_batch_norm(torch::randn({2, 4, 3, 3, 3})));
  CHECK_FALSE(takes_channels_last_batch_norm(
      frames.to(at::kDouble).contiguous(at::MemoryFormat::ChannelsLast)));
  const at::Tensor c = torch::ones({4});
  CHECK_THROWS_WITH(channels_last_batch_norm(frames, c, c, {}, {}, true, 0.1, 1e-5),
                    Catch::Contains("channels-last"));
  // The faster one for the channel count: LibTorch's at multiples of 16.
  CHECK(channels_last_batch_norm_is_faster(frames.contiguous(at::MemoryFormat::ChannelsLast)));
  CHECK_FALSE(channels_last_batch_norm_is_faster(
      torch::randn({2, 32, 3, 3}).contiguous(at::MemoryFormat::ChannelsLast)));
}
