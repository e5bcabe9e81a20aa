#include "models/width_gate.h"

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/calibration.h"

using namespace adaptive;

TEST_CASE("gate targets: the narrowest width correct with a margin", "[models][gate]") {
  // 3 clips, 2 classes, 3 widths. Labels: 0, 1, 0.
  const at::Tensor labels = torch::tensor({0, 1, 0}, torch::kLong);
  const std::vector<at::Tensor> probs = {
      torch::tensor(
          {{0.9, 0.1}, {0.6, 0.4}, {0.55, 0.45}}),  // narrow: clip 0 right with margin 0.8
      torch::tensor({{0.9, 0.1}, {0.2, 0.8}, {0.58, 0.42}}),  // middle: clip 1 right (0.6)
      torch::tensor(
          {{0.9, 0.1}, {0.1, 0.9}, {0.52, 0.48}}),  // wide: clip 2 never clears the margin
  };
  CHECK(at::equal(gate_targets(probs, labels, 0.2), torch::tensor({0, 1, 2}, torch::kLong)));
  // With no margin, clip 2 is already right at the narrowest width.
  CHECK(at::equal(gate_targets(probs, labels, 0.0), torch::tensor({0, 1, 0}, torch::kLong)));
}

TEST_CASE("gate loss: cost weight pushes towards narrow widths", "[models][gate]") {
  const at::Tensor targets = torch::tensor({2}, torch::kLong);
  const at::Tensor wide = torch::tensor({{0.0, 0.0, 5.0}}),
                   narrow = torch::tensor({{5.0, 0.0, 0.0}});
  const std::vector<double> costs = {10, 40, 100};
  // Without cost the target width is best; with a large cost weight the narrow choice wins.
  CHECK(gate_loss(wide, targets, costs, 0).item<float>() <
        gate_loss(narrow, targets, costs, 0).item<float>());
  CHECK(gate_loss(wide, targets, costs, 20).item<float>() >
        gate_loss(narrow, targets, costs, 20).item<float>());
}

TEST_CASE("gate scores every width and counts its own cost", "[models][gate]") {
  WidthGate gate(WidthGateOptions{16, 5, 3, 8});
  CostTally cost;
  const at::Tensor s = gate->forward(torch::randn({4, 16}), torch::randn({4, 5}), &cost);
  CHECK(s.sizes() == at::IntArrayRef({4, 3}));
  CHECK(cost.flops == 4 * 2.0 * (21 * 8 + 8 * 3));
  CHECK(cost.params == 21 * 8 + 8 + 8 * 3 + 3);
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
