#include "train/optimizer.h"

#include <map>
#include <string>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "train/sandwich.h"
#include "train/train_config.h"

using namespace adaptive;

namespace {

std::shared_ptr<SlimmableNet> tiny_model() {
  ModelOptions o;
  o.name = "tsm_mobile";
  o.num_classes = 4;
  o.widths = {0.25, 0.5, 0.75, 1.0};
  o.base_channels = 32;
  o.blocks = {1};
  torch::manual_seed(3);
  return build_model(o);
}

std::map<std::string, at::Tensor> snapshot(const torch::nn::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value().detach().clone();
  return out;
}

// Copies of the optimizer's state of parameter `p`: SGD's momentum, or
// AdamW's moments and step count; nothing before its first step.
std::vector<at::Tensor> state_of(torch::optim::Optimizer& o, const at::Tensor& p) {
  const auto it = o.state().find(c10::guts::to_string(p.unsafeGetTensorImpl()));
  if (it == o.state().end()) return {};
  if (auto* s = dynamic_cast<torch::optim::SGDParamState*>(it->second.get()))
    return {s->momentum_buffer().clone()};
  if (auto* a = dynamic_cast<torch::optim::AdamWParamState*>(it->second.get()))
    return {a->exp_avg().clone(), a->exp_avg_sq().clone(), torch::tensor(a->step())};
  return {};
}

bool same_state(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!a[i].equal(b[i])) return false;
  return true;
}

}  // namespace

TEST_CASE("a step leaves the parameters of widths it did not train bitwise unchanged",
          "[train][optimizer]") {
  for (const std::string name : {"sgd", "adamw"}) {
    INFO(name);
    auto model = tiny_model();
    model->train();
    OptimConfig config;
    config.optimizer = name;
    config.lr = 0.05;
    config.weight_decay = 0.01;
    auto optimizer = make_optimizer(*model, config);
    const at::Tensor x = torch::randn({4, 3, 2, 16, 16});
    const at::Tensor y = torch::tensor({0, 1, 2, 3});
    const SandwichOptions sandwich;
    auto step = [&](const std::vector<int>& indices) {
      std::vector<WidthChoice> choices;
      for (int i : indices) choices.push_back({model->widths()[i], i, i == 3});
      clear_gradients(*optimizer);
      sandwich_step(*model, x, y, choices, sandwich);
      optimizer->step();
    };
    step({3, 0, 1});  // every optimizer state exists for widths 0, 1, 3
    const auto before = snapshot(*model);
    std::map<std::string, std::vector<at::Tensor>> state_before;
    for (const auto& p : model->named_parameters())
      state_before[p.key()] = state_of(*optimizer, p.value());
    step({3, 0});  // width 0.5 (index 1) sits this step out
    step({3, 0});
    int unused = 0, moved = 0;
    for (const auto& p : model->named_parameters()) {
      const bool width1_bn = p.key().find("bn.weight1") != std::string::npos ||
                             p.key().find("bn.bias1") != std::string::npos;
      const bool same = p.value().detach().equal(before.at(p.key()));
      if (width1_bn) {
        ++unused;
        CHECK(same);
        REQUIRE(!state_before.at(p.key()).empty());
        CHECK(same_state(state_of(*optimizer, p.value()), state_before.at(p.key())));
      } else if (!same) {
        ++moved;
      }
    }
    CHECK(unused > 0);
    CHECK(moved > 0);  // the widths that trained did move
  }
}
