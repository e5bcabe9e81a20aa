#include "train/sandwich.h"

#include <cmath>
#include <limits>
#include <set>

#include <torch/torch.h>
#include <catch2/catch.hpp>

using namespace adaptive;

namespace {
std::shared_ptr<SlimmableNet> tiny_model(WidthMode mode = WidthMode::kDiscrete) {
  ModelOptions o;
  o.name = "tsm_mobile";
  o.num_classes = 4;
  o.widths = {0.25, 0.5, 0.75, 1.0};
  o.width_mode = mode;
  o.base_channels = 32;
  o.blocks = {1};
  torch::manual_seed(3);
  return build_model(o);
}
}  // namespace

TEST_CASE("sandwich widths: widest, narrowest, then random ones", "[train][sandwich]") {
  const std::vector<double> widths = {0.25, 0.5, 0.75, 1.0};
  std::set<int> middle;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Rng rng(seed);
    const auto c =
        sample_step_widths(WidthSampling::kSandwich, widths, WidthMode::kDiscrete, 2, rng);
    REQUIRE(c.size() == 4);
    CHECK(c[0].index == 3);
    CHECK(c[0].widest);
    CHECK(c[1].index == 0);
    CHECK_FALSE(c[1].widest);
    for (int i : {2, 3}) {
      CHECK((c[i].index == 1 || c[i].index == 2));
      middle.insert(c[i].index);
    }
  }
  CHECK(middle.size() == 2);
  Rng rng(1);
  const auto u =
      sample_step_widths(WidthSampling::kSandwich, widths, WidthMode::kUniversal, 3, rng);
  for (size_t i = 2; i < u.size(); ++i) {
    CHECK(u[i].index == -1);
    CHECK(u[i].width >= 0.25);
    CHECK(u[i].width <= 1.0);
  }
  CHECK(sample_step_widths(WidthSampling::kAll, widths, WidthMode::kDiscrete, 2, rng).size() == 4);
  CHECK(sample_step_widths(WidthSampling::kSingle, widths, WidthMode::kDiscrete, 2, rng).size() ==
        1);
}

TEST_CASE("a sandwich step touches exactly the widths it trains", "[train][sandwich]") {
  auto model = tiny_model();
  model->train();
  const at::Tensor x = torch::randn({4, 3, 2, 16, 16});
  const at::Tensor y = torch::tensor({0, 1, 2, 3}, torch::kLong);
  const std::vector<WidthChoice> choices = {{1.0, 3, true}, {0.25, 0, false}};
  const auto losses = sandwich_step(*model, x, y, choices, SandwichOptions{});
  CHECK(losses.size() == 2);
  // Switchable BN: per-width scales get gradient only for widths 0 and 3.
  const auto params = model->named_parameters();
  for (int i = 0; i < 4; ++i) {
    const at::Tensor g = params["stem.bn.weight" + std::to_string(i)].grad();
    INFO("width index " << i);
    if (i == 0 || i == 3) {
      REQUIRE(g.defined());
      CHECK(g.abs().sum().item<float>() > 0);
    } else {
      CHECK((!g.defined() || g.abs().sum().item<float>() == 0));
    }
  }
}

TEST_CASE("distillation: narrow widths learn from the widest's soft predictions",
          "[train][sandwich]") {
  const at::Tensor teacher = torch::tensor({{2.0, 0.0, -1.0}});
  // Zero when the student matches the teacher, positive otherwise, scaled by T^2.
  CHECK(distillation_loss(teacher, teacher, 1.0).item<float>() == Approx(0).margin(1e-6));
  const at::Tensor student = torch::tensor({{0.0, 0.0, 0.0}});
  const at::Tensor p = torch::softmax(teacher, 1);
  const double kl = (p * (p.log() - std::log(1.0 / 3))).sum().item<double>();
  CHECK(distillation_loss(student, teacher, 1.0).item<double>() == Approx(kl));
  const at::Tensor p2 = torch::softmax(teacher / 2, 1);
  const double kl2 = (p2 * (p2.log() - std::log(1.0 / 3))).sum().item<double>();
  CHECK(distillation_loss(student, teacher, 2.0).item<double>() == Approx(4 * kl2));

  // In a step, the narrow loss does not depend on the labels when distilling.
  auto model = tiny_model();
  model->eval();  // no dropout or batch statistics: the same forward twice
  const at::Tensor x = torch::randn({2, 3, 2, 16, 16});
  const std::vector<WidthChoice> choices = {{1.0, 3, true}, {0.25, 0, false}};
  const auto a =
      sandwich_step(*model, x, torch::tensor({0, 1}, torch::kLong), choices, SandwichOptions{});
  const auto b =
      sandwich_step(*model, x, torch::tensor({2, 3}, torch::kLong), choices, SandwichOptions{});
  CHECK(a[0] != Approx(b[0]));
  CHECK(a[1] == Approx(b[1]));
  SandwichOptions labels_only;
  labels_only.distill = false;
  const auto c =
      sandwich_step(*model, x, torch::tensor({2, 3}, torch::kLong), choices, labels_only);
  CHECK(c[1] != Approx(b[1]));
}

TEST_CASE("a non-finite loss stops the step and names the width", "[train][sandwich]") {
  auto model = tiny_model();
  model->train();
  {
    torch::NoGradGuard no_grad;
    model->named_parameters()["classifier.bias"].fill_(std::numeric_limits<float>::quiet_NaN());
  }
  const std::vector<WidthChoice> choices = {{1.0, 3, true}, {0.25, 0, false}};
  CHECK_THROWS_WITH(sandwich_step(*model, torch::randn({2, 3, 2, 16, 16}),
                                  torch::tensor({0, 1}, torch::kLong), choices, SandwichOptions{}),
                    "loss is NaN at width 1");
}

TEST_CASE("narrow_weight scales the narrower widths' part of the gradient, not their loss",
          "[train][sandwich]") {
  auto model = tiny_model();
  model->train();
  torch::manual_seed(5);
  const at::Tensor x = torch::randn({4, 3, 2, 16, 16});
  const at::Tensor y = torch::tensor({0, 1, 2, 3}, torch::kLong);
  const std::vector<WidthChoice> choices = {{1.0, 3, true}, {0.25, 0, false}, {0.5, 1, false}};
  auto gradients = [&](double narrow_weight, std::vector<double>& losses) {
    for (auto& p : model->parameters()) p.mutable_grad() = at::Tensor();
    SandwichOptions o;
    o.narrow_weight = narrow_weight;
    torch::manual_seed(7);  // the same dropout masks in every call
    losses = sandwich_step(*model, x, y, choices, o);
    std::vector<at::Tensor> grads;
    for (auto& p : model->parameters())
      grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
    return grads;
  };
  std::vector<double> l_full, l_none, l_half;
  const auto full = gradients(1.0, l_full);
  const auto none = gradients(0.0, l_none);  // the widest's gradient alone
  const auto half = gradients(0.5, l_half);
  CHECK(l_full == l_half);  // losses are reported unweighted
  double narrow_part = 0, worst = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    narrow_part += (full[i] - none[i]).abs().sum().item<double>();
    const at::Tensor expected = none[i] + 0.5 * (full[i] - none[i]);
    worst = std::max(worst, (half[i] - expected).abs().max().item<double>());
  }
  CHECK(narrow_part > 1e-3);  // the narrower widths do contribute
  CHECK(worst < 1e-5);
}
