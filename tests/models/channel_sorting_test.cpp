#include "models/channel_sorting.h"

#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace adaptive;

namespace {

// Batch norms with statistics and scales of their own, so that a channel
// moved without its statistics would show.
void randomize_batch_norms(SlimmableNet& net) {
  torch::NoGradGuard no_grad;
  for (const auto& m : net.modules()) {
    auto* bn = m->as<SwitchableBatchNormImpl>();
    if (!bn) continue;
    for (int i = 0; i < static_cast<int>(net.widths().size()); ++i) {
      const auto p = bn->params_at(i);
      p.weight.uniform_(0.5, 1.5);
      p.bias.uniform_(-0.2, 0.2);
      p.mean.uniform_(-0.1, 0.1);
      p.var.uniform_(0.5, 2.0);
    }
  }
}

std::vector<at::Tensor> weights_of(SlimmableNet& net) {
  std::vector<at::Tensor> out;
  for (const auto& p : net.parameters()) out.push_back(p.clone());
  for (const auto& b : net.buffers()) out.push_back(b.clone());
  return out;
}

}  // namespace

TEST_CASE("sorting channels by importance keeps the widest width's answer and orders them once",
          "[models][init]") {
  std::vector<ModelOptions> variants = test::export_variants();
  variants.push_back(test::tiny_export_options("r2plus1d"));
  variants.back().causal = true;
  variants.push_back(test::tiny_export_options("r2plus1d"));
  variants.back().widths = {0.25, 0.5, 0.75};  // a widest width below 1 runs a prefix
  int sorted_somewhere = 0;
  for (const ModelOptions& o : variants) {
    INFO(o.name << (o.width_mode == WidthMode::kUniversal ? " universal" : " discrete")
                << (o.factorized ? " (2+1)D" : " 3D") << (o.motion_input ? " motion" : "")
                << (o.causal ? " causal" : "") << " widest " << o.widths.back());
    torch::manual_seed(3);
    auto net = build_model(o);
    randomize_batch_norms(*net);
    net->eval();
    torch::NoGradGuard no_grad;
    const at::Tensor clip = torch::randn({2, 3, 4, 32, 32});
    const int widest = static_cast<int>(o.widths.size()) - 1;
    const at::Tensor before = net->forward(clip, net->at_width(widest));
    const at::Tensor narrow_before = net->forward(clip, net->at_width(0));
    const ChannelSortSummary s = sort_channels_by_importance(*net, 4);
    CHECK(s.groups_sorted + s.groups_fixed > 0);
    sorted_somewhere += s.groups_sorted;
    const at::Tensor after = net->forward(clip, net->at_width(widest));
    CHECK(torch::allclose(after, before, 1e-4, 1e-5));
    if (s.groups_sorted > 0) {
      // The narrowest width now runs other channels.
      CHECK_FALSE(torch::allclose(net->forward(clip, net->at_width(0)), narrow_before, 1e-4, 1e-5));
      // Sorted channels sort to themselves.
      const auto sorted = weights_of(*net);
      sort_channels_by_importance(*net, 4);
      const auto again = weights_of(*net);
      for (size_t i = 0; i < sorted.size(); ++i) CHECK(torch::equal(sorted[i], again[i]));
    }
  }
  CHECK(sorted_somewhere > 0);
}

TEST_CASE("a temporal shift's channels stay where they are", "[models][init]") {
  ModelOptions o = test::tiny_export_options("tsm_mobile");
  auto net = build_model(o);
  const ChannelSortSummary s = sort_channels_by_importance(*net, 4);
  CHECK(s.groups_fixed > 0);  // the shift moves channels by their position
}
