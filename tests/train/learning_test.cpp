// Training learns: the sandwich step and the optimizer of adaptive-train
// take a tiny network from chance to clearly above it on an easy task, in a
// few seconds; the same run with the optimizer's steps doing nothing stays at
// chance, so the check can fail.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "datasets/rng.h"
#include "train/optimizer.h"
#include "train/sandwich.h"
#include "train/train_config.h"

using namespace adaptive;

namespace {

constexpr int kClasses = 4;

// Clips [N, 3, 4, 16, 16] of a bright 4x4 square moving one pixel a frame
// right, left, down or up (the label) over noise, from a random start.
std::pair<at::Tensor, at::Tensor> moving_squares(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  at::Tensor clips = torch::randn({n, 3, 4, 16, 16}) * 0.3;
  const at::Tensor labels = torch::randint(kClasses, {n}, torch::kLong);
  Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(labels[i].item<int64_t>());
    const int dx = label == 0 ? 1 : label == 1 ? -1 : 0, dy = label == 2 ? 1 : label == 3 ? -1 : 0;
    int x = static_cast<int>(rng.uniform_int(3, 9)), y = static_cast<int>(rng.uniform_int(3, 9));
    for (int t = 0; t < 4; ++t, x += dx, y += dy)
      clips[i].narrow(1, t, 1).narrow(2, y, 4).narrow(3, x, 4).add_(2.0);
  }
  return {clips, labels};
}

// Top-1 at every width after `steps` sandwich steps; `lr` 0 is a step that
// changes nothing.
std::vector<double> train_and_score(double lr, int steps) {
  ModelOptions m;
  m.name = "r2plus1d";
  m.num_classes = kClasses;
  m.widths = {0.5, 1.0};
  m.base_channels = 8;
  m.blocks = {1};
  m.dropout = 0;
  torch::manual_seed(0);
  auto model = build_model(m);
  OptimConfig o;
  o.optimizer = "adamw";
  o.lr = lr;
  o.weight_decay = 0.01;
  auto optimizer = make_optimizer(*model, o);
  const auto [train_x, train_y] = moving_squares(256, 1);
  Rng rng(2);
  model->train();
  for (int step = 0; step < steps; ++step) {
    const int64_t begin = (step * 32) % 256;
    const auto choices =
        sample_step_widths(WidthSampling::kSandwich, model->widths(), WidthMode::kDiscrete, 0, rng);
    clear_gradients(*optimizer);
    sandwich_step(*model, train_x.slice(0, begin, begin + 32), train_y.slice(0, begin, begin + 32),
                  choices, SandwichOptions{});
    optimizer->step();
  }
  model->eval();
  torch::NoGradGuard no_grad;
  const auto [test_x, test_y] = moving_squares(200, 3);
  std::vector<double> top1;
  for (int i = 0; i < 2; ++i) {
    const at::Tensor logits = model->forward(test_x, model->at_width(i));
    top1.push_back(logits.argmax(1).eq(test_y).to(torch::kDouble).mean().item<double>());
  }
  return top1;
}

}  // namespace

TEST_CASE("training learns an easy task at every width, and a step that does nothing does not",
          "[train][learning][slow]") {
  const std::vector<double> trained = train_and_score(0.01, 200);
  const std::vector<double> untrained = train_and_score(0.0, 200);
  for (size_t i = 0; i < trained.size(); ++i) {
    INFO("width index " << i << ": top-1 " << trained[i] << " trained, " << untrained[i]
                        << " with a step that does nothing (chance 0.25)");
    CHECK(trained[i] >= 0.8);
    CHECK(untrained[i] <= 0.45);
  }
}
