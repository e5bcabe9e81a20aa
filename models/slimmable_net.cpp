#include "models/slimmable_net.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <torch/nn/functional/dropout.h>
#include <torch/torch.h>

#include "models/backbones.h"

namespace adaptive {
namespace {

using Builder = std::function<std::shared_ptr<SlimmableNet>(const ModelOptions&)>;

// The registry: a plain table from name to builder.
const std::vector<std::pair<std::string, Builder>>& registry() {
  static const std::vector<std::pair<std::string, Builder>> table = {
      {"r2plus1d", build_r2plus1d},
      {"tsm_mobile", build_tsm_mobile},
  };
  return table;
}

}  // namespace

void validate(const ModelOptions& o) {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(what);
  };
  require(o.num_classes >= 2, "model: num_classes must be >= 2");
  require(!o.widths.empty(), "model.widths: at least one width");
  for (size_t i = 0; i < o.widths.size(); ++i) {
    require(o.widths[i] > 0 && o.widths[i] <= 1, "model.widths: every width must be in (0, 1]");
    require(i == 0 || o.widths[i] > o.widths[i - 1],
            "model.widths: widths must be strictly ascending");
  }
  require(o.channel_multiple >= 1, "model.channel_multiple must be >= 1");
  require(o.base_channels >= o.channel_multiple && o.base_channels % o.channel_multiple == 0,
          "model.base_channels must be a multiple of model.channel_multiple");
  require(!o.blocks.empty(), "model.blocks: at least one stage");
  for (int b : o.blocks) require(b >= 1, "model.blocks: every stage needs >= 1 block");
  require(o.temporal_kernel >= 1 && o.temporal_kernel % 2 == 1,
          "model.temporal_kernel must be odd and >= 1");
  require(o.shift_fraction >= 0 && o.shift_fraction <= 1, "model.shift_fraction must be in [0, 1]");
  require(o.dropout >= 0 && o.dropout < 1, "model.dropout must be in [0, 1)");
}

ConvBnImpl::ConvBnImpl(const SlimConvOptions& c, const ModelOptions& model, bool zero_scale) {
  SlimConvOptions options = c;
  options.channel_multiple = model.channel_multiple;
  conv = register_module("conv", SlimConv(options));
  bn = register_module("bn", SwitchableBatchNorm(c.out_channels, model.widths, model.width_mode,
                                                 model.channel_multiple, zero_scale));
}

at::Tensor ConvBnImpl::forward(const at::Tensor& x, const ForwardContext& ctx, bool relu) {
  at::Tensor y = bn->forward(conv->forward(x, ctx), ctx);
  return relu ? at::relu(y) : y;
}

SlimmableNet::SlimmableNet(ModelOptions options) : options_(std::move(options)) {
  validate(options_);
}

void SlimmableNet::build_classifier() {
  classifier_ = register_module("classifier", SlimLinear(feature_channels(), options_.num_classes));
}

at::Tensor SlimmableNet::classify(const at::Tensor& features, const ForwardContext& ctx) {
  at::Tensor x = features;
  if (options_.dropout > 0 && is_training()) x = at::dropout(x, options_.dropout, true);
  return classifier_->forward(x, ctx);
}

void SlimmableNet::reset_bn_statistics() {
  for (auto& m : modules()) {
    if (auto* bn = m->as<SwitchableBatchNormImpl>()) bn->reset_statistics();
  }
}

std::shared_ptr<SlimmableNet> build_model(const ModelOptions& options) {
  for (const auto& [name, builder] : registry()) {
    if (name == options.name) return builder(options);
  }
  std::string known;
  for (const auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown model '" + options.name + "' (known: " + known + ")");
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& entry : registry()) names.push_back(entry.first);
  return names;
}

CostTally model_cost(SlimmableNet& model, int width_index, int64_t frames, int64_t height,
                     int64_t width) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  CostTally cost;
  ForwardContext ctx = model.at_width(width_index);
  ctx.cost = &cost;
  const auto device = model.parameters().front().device();
  model.forward(torch::zeros({1, 3, frames, height, width}, torch::TensorOptions().device(device)),
                ctx);
  model.train(was_training);
  return cost;
}

}  // namespace adaptive
