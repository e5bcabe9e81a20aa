// Batch norm for frames in channels-last memory.
//
// A (2+1)D network trains on clips held as frames [N*T, C, H, W] in
// channels-last memory (see ForwardContext::folded_frames). LibTorch 1.13's
// CPU batch norm on that layout is fast when C is a multiple of 16 and slow
// otherwise: in training, forward and backward of 128x4x24x24 take 6.9 ms
// against 0.36 ms here, 128x24x12x12 0.63 ms against 0.36; in eval mode
// 128x4x24x24 takes 1.1 ms against 0.02 ms for the same tensor in NCHW (2
// threads, this project's 2-core machine). Slimmable widths give such
// channel counts (4, 8, 12, 24 of a 16-channel base). This one views the
// memory as rows of k*C values (k whole pixels, k*C up to 256), so every
// pass is a long vectorised column sum or element-wise op, whatever C is; at
// multiples of 16 LibTorch's is faster (1.7 ms against 3.7 ms at
// 128x16x24x24).
#pragma once

#include <ATen/core/Tensor.h>

namespace adaptive {

// at::batch_norm(x, weight, bias, running_mean, running_var, training,
// momentum, eps) for a 4D CPU float tensor `x` in channels-last memory, with
// autograd for x, weight and bias; the output is channels-last. Training:
// batch statistics in two passes (mean, then centred squares);
// `running_mean` and `running_var` may be undefined, and when defined are
// updated in place as at::batch_norm does (the variance unbiased). Eval:
// the running statistics, which must be defined.
at::Tensor channels_last_batch_norm(const at::Tensor& x, const at::Tensor& weight,
                                    const at::Tensor& bias, const at::Tensor& running_mean,
                                    const at::Tensor& running_var, bool training, double momentum,
                                    double eps);

// Whether channels_last_batch_norm() takes `x`: 4D, CPU, float, channels-last
// memory (and not also plain contiguous, where at::batch_norm is as fast).
bool takes_channels_last_batch_norm(const at::Tensor& x);
// Whether it takes `x` and is the faster of the two for it (C not a multiple
// of 16, measured above).
bool channels_last_batch_norm_is_faster(const at::Tensor& x);

}  // namespace adaptive
