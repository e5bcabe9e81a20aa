#include "train/optimizer.h"

#include <algorithm>
#include <cmath>

#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include "train/train_config.h"

namespace adaptive {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& model,
                                                        const OptimConfig& t) {
  std::vector<at::Tensor> decay, no_decay;
  for (auto& p : model.parameters()) (p.dim() > 1 ? decay : no_decay).push_back(p);
  if (t.optimizer == "sgd") {
    auto with_decay = torch::optim::SGDOptions(t.lr).momentum(t.momentum).nesterov(t.nesterov);
    auto without = with_decay;
    with_decay.weight_decay(t.weight_decay);
    return std::make_unique<torch::optim::SGD>(
        std::vector<torch::optim::OptimizerParamGroup>{
            {decay, std::make_unique<torch::optim::SGDOptions>(with_decay)},
            {no_decay, std::make_unique<torch::optim::SGDOptions>(without)}},
        with_decay);
  }
  auto with_decay = torch::optim::AdamWOptions(t.lr).betas({t.momentum, 0.999});
  auto without = with_decay;
  with_decay.weight_decay(t.weight_decay);
  without.weight_decay(0);
  return std::make_unique<torch::optim::AdamW>(
      std::vector<torch::optim::OptimizerParamGroup>{
          {decay, std::make_unique<torch::optim::AdamWOptions>(with_decay)},
          {no_decay, std::make_unique<torch::optim::AdamWOptions>(without)}},
      with_decay);
}

double cosine_lr(int64_t step, int64_t total, int64_t warmup, double peak, double floor) {
  if (warmup > 0 && step < warmup) return peak * (step + 1) / warmup;
  const double progress =
      total > warmup ? static_cast<double>(step - warmup) / (total - warmup) : 1.0;
  return floor + (peak - floor) * 0.5 * (1 + std::cos(M_PI * std::min(1.0, progress)));
}

void clear_gradients(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params()) p.mutable_grad() = at::Tensor();
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace adaptive
