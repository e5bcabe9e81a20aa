// The optimizer and the learning-rate schedule of a training run.
#pragma once

#include <cstdint>
#include <memory>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

namespace adaptive {

struct OptimConfig;

// SGD (momentum, Nesterov) or AdamW, as train.optimizer says, with weight
// decay on conv and linear weights only (not on BN parameters and biases).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& model,
                                                        const OptimConfig& config);

// Learning rate at optimizer step `step` of `total`: linear warm-up over
// `warmup` steps to `peak`, then a cosine down to `floor`.
double cosine_lr(int64_t step, int64_t total, int64_t warmup, double peak, double floor);

// Makes every gradient undefined before a step's backward passes, so a
// parameter the step does not use (the switchable BN of a width it did not
// sample) keeps no gradient, and the optimizer leaves it and its state
// (momentum, Adam's moments, weight decay) bitwise unchanged. LibTorch 1.13's
// zero_grad() keeps defined zeros instead, which those still act on.
void clear_gradients(torch::optim::Optimizer& optimizer);

// Sets every parameter group's learning rate.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace adaptive
