#include "models/width_gate.h"

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/calibration.h"

using namespace adaptive;

TEST_CASE("gate targets: the narrowest width correct with a margin, else the narrowest",
          "[models][gate]") {
  // 4 clips, 2 classes, 3 widths. Labels: 0, 1, 0, 1.
  const at::Tensor labels = torch::tensor({0, 1, 0, 1}, torch::kLong);
  const std::vector<at::Tensor> probs = {
      // narrow: clip 0 right with margin 0.8
      torch::tensor({{0.9, 0.1}, {0.6, 0.4}, {0.55, 0.45}, {0.9, 0.1}}),
      // middle: clip 1 right (0.6)
      torch::tensor({{0.9, 0.1}, {0.2, 0.8}, {0.45, 0.55}, {0.8, 0.2}}),
      // wide: clip 2 right (0.5); clip 3 wrong everywhere
      torch::tensor({{0.9, 0.1}, {0.1, 0.9}, {0.75, 0.25}, {0.7, 0.3}}),
  };
  CHECK(at::equal(gate_targets(probs, labels, 0.2), torch::tensor({0, 1, 2, 0}, torch::kLong)));
  // With no margin, clip 2 is already right at the narrowest width.
  CHECK(at::equal(gate_targets(probs, labels, 0.0), torch::tensor({0, 1, 0, 0}, torch::kLong)));
}

TEST_CASE("gate operating point: a cost bias fitted to a compute target", "[models][gate]") {
  // 100 clips whose scores prefer widths 0, 1, 2 by a spread of margins.
  torch::manual_seed(3);
  const at::Tensor scores = torch::randn({100, 3}) * 2;
  const std::vector<double> cost = {0.1, 0.4, 1.1};
  const at::Tensor c = torch::tensor(std::vector<double>(cost.begin(), cost.end()));
  auto mean_cost = [&](double bias) {
    return c.index_select(0, gate_choice(scores, bias, cost)).mean().item<double>();
  };
  CHECK(at::equal(gate_choice(scores, 0, cost), scores.argmax(1)));
  for (double target : {0.2, 0.35, 0.5, 0.7}) {
    const double bias = fit_cost_bias(scores, cost, target);
    INFO("target " << target << " bias " << bias);
    CHECK(mean_cost(bias) <= target + 1e-9);
    CHECK(mean_cost(bias - 0.01) > target - 0.05);  // as close below as the choices allow
  }
  CHECK(mean_cost(fit_cost_bias(scores, cost, 0.05)) == Approx(0.1));  // all narrowest
  CHECK(mean_cost(fit_cost_bias(scores, cost, 2.0)) == Approx(1.1));   // all widest
  // Written into a gate head, it chooses the same.
  GateHead head(16, 5, 3, 8);
  const at::Tensor f = torch::randn({50, 16}), l = torch::randn({50, 5});
  torch::NoGradGuard no_grad;
  const at::Tensor before = head->forward(f, l);
  head->add_cost_bias(0.7, cost);
  CHECK(at::equal(head->forward(f, l).argmax(1), gate_choice(before, 0.7, cost)));
}

TEST_CASE("gate choice cost: one pass at the chosen width, the probe adding its own",
          "[models][gate]") {
  const std::vector<double> mflops = {10, 40, 100};
  CHECK(gate_choice_cost(mflops, 0) == std::vector<double>{0.1, 0.5, 1.1});
  CHECK(gate_choice_cost(mflops, 1) == std::vector<double>{0.1, 0.4, 1.0});
  CHECK(gate_choice_cost(mflops, 2) == std::vector<double>{0.1, 0.4, 1.0});
}

TEST_CASE("gate: a head per width, each scoring every width and counting its own cost",
          "[models][gate]") {
  WidthGate gate(WidthGateOptions{{16, 32, 48}, 5, 8});
  REQUIRE(gate->heads.size() == 3);
  for (int w = 0; w < 3; ++w) {
    const int64_t c = 16 * (w + 1);
    INFO("head " << w);
    CostTally cost;
    const at::Tensor s = gate->forward(w, torch::randn({4, c}), torch::randn({4, 5}), &cost);
    CHECK(s.sizes() == at::IntArrayRef({4, 3}));
    CHECK(cost.flops == 4 * 2.0 * ((c + 5) * 8 + 8 * 3));
    CHECK(cost.params == (c + 5) * 8 + 8 + 8 * 3 + 3);
  }
  CHECK_THROWS(gate->forward(3, torch::randn({4, 16}), torch::randn({4, 5})));
  // Saved by head: "head0.hidden.weight", ...
  CHECK(gate->named_parameters().contains("head2.out.bias"));
}

TEST_CASE("temperature fit lowers the calibration error of overconfident logits",
          "[models][calibration]") {
  torch::manual_seed(0);
  const int64_t n = 2000;
  const at::Tensor labels = torch::randint(0, 4, {n}, torch::kLong);
  // Informative logits made 4x too sharp.
  at::Tensor logits = torch::randn({n, 4});
  logits.scatter_add_(1, labels.view({-1, 1}), torch::full({n, 1}, 1.5));
  logits = logits * 4;
  const double t = fit_temperature(logits, labels);
  CHECK(t > 2.5);
  CHECK(t < 6);
  const double before = expected_calibration_error(logits, labels),
               after = expected_calibration_error(logits, labels, t);
  CHECK(after < before / 2);
  // A hand-made case: two clips at confidence 1.0, one right -> ECE 0.5.
  const at::Tensor sure = torch::tensor({{100.0, 0.0}, {100.0, 0.0}});
  CHECK(expected_calibration_error(sure, torch::tensor({0, 1}, torch::kLong)) == Approx(0.5));
}
