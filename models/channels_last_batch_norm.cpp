#include "models/channels_last_batch_norm.h"

#include <stdexcept>

#include <torch/autograd.h>
#include <torch/torch.h>

namespace adaptive {
namespace {

constexpr int64_t kRowValues = 256;  // target k*C: long enough to vectorise, short enough to cache

// Channels-last memory [N, H, W, C] as [N*H*W / k, k*C], k a power of two.
struct Rows {
  at::Tensor values;
  int64_t k = 1, channels = 0, pixels = 0;
};

Rows as_rows(const at::Tensor& x) {
  Rows r;
  r.channels = x.size(1);
  r.pixels = x.numel() / r.channels;
  while (r.channels * r.k * 2 <= kRowValues && r.pixels % (r.k * 2) == 0) r.k *= 2;
  r.values = x.permute({0, 2, 3, 1}).reshape({r.pixels / r.k, r.k * r.channels});
  return r;
}

at::Tensor per_channel_sum(const at::Tensor& rows, const Rows& r) {
  return rows.sum(0).view({r.k, r.channels}).sum(0);
}

at::Tensor as_frames(const at::Tensor& rows, const at::Tensor& like) {
  return rows.view({like.size(0), like.size(2), like.size(3), like.size(1)}).permute({0, 3, 1, 2});
}

// Statistics updated in place; not inputs of the autograd function, which
// takes no undefined tensor.
struct RunningStatistics {
  at::Tensor mean, var;
  double momentum;
};

struct TrainingBatchNorm : torch::autograd::Function<TrainingBatchNorm> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                            const at::Tensor& weight, const at::Tensor& bias,
                            const RunningStatistics* running, double eps) {
    const Rows r = as_rows(x);
    const double n = static_cast<double>(r.pixels);
    const at::Tensor mean = per_channel_sum(r.values, r) / n;
    const at::Tensor centred = r.values - mean.repeat(r.k);
    const at::Tensor var = per_channel_sum(centred.square(), r) / n;
    const at::Tensor invstd = (var + eps).rsqrt();
    const at::Tensor scale = weight * invstd;
    const at::Tensor y = at::addcmul(bias.repeat(r.k), centred, scale.repeat(r.k));
    const double m = running->momentum;
    if (running->mean.defined()) running->mean.mul_(1 - m).add_(mean, m);
    if (running->var.defined()) running->var.mul_(1 - m).add_(var, m * n / std::max(1.0, n - 1));
    ctx->save_for_backward({centred, weight, invstd});
    return as_frames(y, x);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &centred = saved[0], &weight = saved[1], &invstd = saved[2];
    const at::Tensor g = grads[0].contiguous(at::MemoryFormat::ChannelsLast);
    const Rows r = as_rows(g);
    const double n = static_cast<double>(r.pixels);
    const at::Tensor grad_bias = per_channel_sum(r.values, r);
    const at::Tensor grad_weight = per_channel_sum(r.values * centred, r) * invstd;
    at::Tensor grad_x;
    if (ctx->needs_input_grad(0)) {
      // dx = scale * (g - mean(g) - xhat * mean(g * xhat)), xhat = centred * invstd
      const at::Tensor scale = weight * invstd;
      const at::Tensor offset = -scale * grad_bias / n;
      const at::Tensor slope = -scale * invstd * grad_weight / n;
      grad_x = at::addcmul(offset.repeat(r.k), r.values, scale.repeat(r.k));
      grad_x.addcmul_(centred, slope.repeat(r.k));
      grad_x = as_frames(grad_x, g);
    }
    return {grad_x, grad_weight, grad_bias, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool takes_channels_last_batch_norm(const at::Tensor& x) {
  return x.dim() == 4 && x.device().is_cpu() && x.scalar_type() == at::kFloat &&
         x.is_contiguous(at::MemoryFormat::ChannelsLast) && !x.is_contiguous();
}

bool channels_last_batch_norm_is_faster(const at::Tensor& x) {
  return takes_channels_last_batch_norm(x) && x.size(1) % 16 != 0;
}

at::Tensor channels_last_batch_norm(const at::Tensor& x, const at::Tensor& weight,
                                    const at::Tensor& bias, const at::Tensor& running_mean,
                                    const at::Tensor& running_var, bool training, double momentum,
                                    double eps) {
  if (!takes_channels_last_batch_norm(x)) {
    throw std::invalid_argument(
        "channels_last_batch_norm: expected a 4D CPU float tensor in channels-last memory");
  }
  if (!training) {  // a scale and shift per channel, in one pass
    const Rows r = as_rows(x);
    const at::Tensor scale = weight * (running_var + eps).rsqrt();
    const at::Tensor shift = bias - running_mean * scale;
    return as_frames(at::addcmul(shift.repeat(r.k), r.values, scale.repeat(r.k)), x);
  }
  const RunningStatistics running{running_mean, running_var, momentum};
  return TrainingBatchNorm::apply(x, weight, bias, &running, eps);
}

}  // namespace adaptive
