#include "models/slimmable_net.h"

#include <algorithm>
#include <map>
#include <sstream>
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

void ModelOptions::visit(ConfigVisitor& v) {
  v.choice("name", name, model_names(), "backbone");
  v.field("widths", widths, 0.01, 1.0, 1, 32, "width multipliers, ascending");
  v.choice("width_mode", width_mode, width_mode_names(),
           "discrete: switchable BN per width; universal: any width, BN recalibrated");
  v.field("channel_multiple", channel_multiple, 1, 256, "channels per width rounded to this");
  v.field("base_channels", base_channels, 1, 4096, "full-width channels of the first stage");
  v.field("blocks", blocks, 1, 64, 1, 8, "blocks per stage");
  v.field("temporal_kernel", temporal_kernel, 1, 15, "temporal kernel size (odd)");
  v.field("factorized", factorized, "r2plus1d: (2+1)D convs instead of full 3D");
  v.field("shift_fraction", shift_fraction, 0, 1, "tsm_mobile: share of channels shifted in time");
  v.field("dropout", dropout, 0, 0.95, "dropout before the classifier");
  v.field("motion_input", motion_input, "r2plus1d: frame differences as 3 extra input channels");
}

void validate(const ModelOptions& o) {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(what);
  };
  const auto text = [](auto x) {
    std::ostringstream out;
    out << x;
    return out.str();
  };
  require(o.num_classes >= 2,
          "model.num_classes: expected at least 2 classes, got " + text(o.num_classes));
  require(!o.widths.empty(), "model.widths: expected at least one width");
  for (size_t i = 0; i < o.widths.size(); ++i) {
    require(o.widths[i] > 0 && o.widths[i] <= 1,
            "model.widths: expected widths in (0, 1], got " + text(o.widths[i]));
    require(i == 0 || o.widths[i] > o.widths[i - 1],
            "model.widths: expected strictly ascending widths");
  }
  require(o.channel_multiple >= 1,
          "model.channel_multiple: expected at least 1, got " + text(o.channel_multiple));
  require(o.base_channels >= o.channel_multiple && o.base_channels % o.channel_multiple == 0,
          "model.base_channels: expected a multiple of model.channel_multiple (" +
              text(o.channel_multiple) + "), got " + text(o.base_channels));
  require(!o.blocks.empty(), "model.blocks: expected at least one stage");
  for (size_t stage = 0; stage < o.blocks.size(); ++stage) {
    const int64_t full = o.base_channels << stage;
    for (size_t i = 1; i < o.widths.size(); ++i) {
      const int64_t narrower = channels_at(full, o.widths[i - 1], o.channel_multiple);
      require(channels_at(full, o.widths[i], o.channel_multiple) > narrower,
              "model.widths: widths " + text(o.widths[i - 1]) + " and " + text(o.widths[i]) +
                  " both run " + text(narrower) + " of the " + text(full) + " channels of stage " +
                  text(stage + 1) + " (model.base_channels " + text(o.base_channels) +
                  ", model.channel_multiple " + text(o.channel_multiple) +
                  "): every width must be a distinct sub-network; lower channel_multiple or "
                  "raise base_channels");
    }
  }
  for (int b : o.blocks)
    require(b >= 1, "model.blocks: expected at least 1 block per stage, got " + text(b));
  require(o.temporal_kernel >= 1 && o.temporal_kernel % 2 == 1,
          "model.temporal_kernel: expected an odd number, got " + text(o.temporal_kernel));
  require(o.shift_fraction >= 0 && o.shift_fraction <= 1,
          "model.shift_fraction: expected a number in [0, 1], got " + text(o.shift_fraction));
  require(o.dropout >= 0 && o.dropout < 1,
          "model.dropout: expected a number in [0, 1), got " + text(o.dropout));
}

ConvBnImpl::ConvBnImpl(const SlimConvOptions& c, const ModelOptions& model, bool zero_scale) {
  SlimConvOptions options = c;
  options.channel_multiple = model.channel_multiple;
  conv = register_module("conv", SlimConv(options));
  SwitchableBatchNormOptions bn_options;
  bn_options.channels = c.out_channels;
  bn_options.widths = model.widths;
  bn_options.mode = model.width_mode;
  bn_options.channel_multiple = model.channel_multiple;
  bn_options.zero_scale = zero_scale;
  bn = register_module("bn", SwitchableBatchNorm(bn_options));
}

at::Tensor ConvBnImpl::forward(const at::Tensor& x, const ForwardContext& ctx, bool relu) {
  at::Tensor y = bn->forward(conv->forward(x, ctx), ctx);
  return relu ? at::relu(y) : y;
}

ScriptValue ConvBnImpl::lower(ScriptBuilder& s, const std::string& name, const ScriptValue& x,
                              const ForwardContext& ctx, bool relu) const {
  const SlimConvOptions& o = conv->options();
  const int64_t c_out = o.depthwise ? x.channels : conv->out_channels_at(ctx.width);
  at::Tensor w = conv->weight.detach().narrow(0, 0, c_out);
  if (!o.depthwise) w = w.narrow(1, 0, x.channels);
  const SwitchableBatchNormImpl::Params bn_at = bn->params_at(ctx.model_width_index);
  if (bn_at.mean.size(0) != c_out) {
    throw std::logic_error("ConvBn::lower: " + name + " has " + std::to_string(c_out) +
                           " outputs at width index " + std::to_string(ctx.model_width_index) +
                           ", its BN " + std::to_string(bn_at.mean.size(0)));
  }
  // Folded in double precision, stored as float.
  const at::Tensor scale =
      bn_at.weight.to(at::kDouble) / (bn_at.var.to(at::kDouble) + bn->eps()).sqrt();
  std::vector<int64_t> scale_shape(w.dim(), 1);
  scale_shape[0] = c_out;
  at::Tensor shift = bn_at.bias.to(at::kDouble) - bn_at.mean.to(at::kDouble) * scale;
  if (conv->bias.defined())
    shift = shift + conv->bias.detach().narrow(0, 0, c_out).to(at::kDouble) * scale;
  at::Tensor folded_weight = w.to(at::kDouble) * scale.view(scale_shape);
  const bool is3d = o.kernel.size() == 3;
  if (x.time_folded) {
    if (!is3d) throw std::logic_error("ConvBn::lower: " + name + ": a 2D conv on a folded clip");
    return lower_folded(s, name, x, folded_weight, shift, relu);
  }
  const std::string weight = s.tensor(name + "_weight", folded_weight);
  const std::string bias = s.tensor(name + "_bias", shift);
  const std::string call = std::string(is3d ? "torch.conv3d(" : "torch.conv2d(") + x.name + ", " +
                           weight + ", " + bias + ", " + script_list(o.stride) + ", " +
                           script_list(o.padding) + ", " + (is3d ? "[1, 1, 1]" : "[1, 1]") + ", " +
                           std::to_string(o.depthwise ? x.channels : 1) + ")";
  return s.let(relu ? "torch.relu_(" + call + ")" : call, c_out);
}

ScriptValue ConvBnImpl::lower_folded(ScriptBuilder& s, const std::string& name,
                                     const ScriptValue& x, const at::Tensor& weight,
                                     const at::Tensor& bias, bool relu) const {
  const SlimConvOptions& o = conv->options();
  const auto& k = o.kernel;
  const auto& st = o.stride;
  const auto& p = o.padding;
  const int64_t c_out = weight.size(0);
  const auto conv2d = [&](const std::string& input, const at::Tensor& w2d,
                          std::vector<int64_t> stride, std::vector<int64_t> padding) {
    const std::string call = "torch.conv2d(" + input + ", " +
                             s.tensor(name + "_weight", w2d, at::MemoryFormat::ChannelsLast) +
                             ", " + s.tensor(name + "_bias", bias) + ", " + script_list(stride) +
                             ", " + script_list(padding) + ", [1, 1], " +
                             std::to_string(o.depthwise ? x.channels : 1) + ")";
    return relu ? "torch.relu_(" + call + ")" : call;
  };
  const std::optional<FrameConv> kind = frame_conv_kind(k, st, p);
  if (kind == FrameConv::kSpatial) {  // a 2D conv of every frame
    return s.let(conv2d(x.name, weight.squeeze(2), {st[1], st[2]}, {p[1], p[2]}), c_out, true);
  }
  if (kind == FrameConv::kTemporal) {
    // [N*T, C, H, W] -> [N, C, T, H*W] and back, views of channels-last memory
    const std::string& v = x.name;
    const std::string clip = s.let(
        v + ".permute(0, 2, 3, 1).reshape(-1, " + std::to_string(s.frames()) + ", " + v +
        ".size(2) * " + v + ".size(3), " + std::to_string(x.channels) + ").permute(0, 3, 1, 2)");
    const std::string y = s.let(conv2d(clip, weight.squeeze(-1), {1, 1}, {p[0], 0}));
    return s.let(y + ".permute(0, 2, 3, 1).reshape(-1, " + v + ".size(2), " + v + ".size(3), " +
                     std::to_string(c_out) + ").permute(0, 3, 1, 2)",
                 c_out, true);
  }
  throw std::logic_error("ConvBn::lower: " + name + ": kernel " + script_list(k) +
                         " is neither spatial nor temporal, so a folded clip can't take it");
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

ScriptValue SlimmableNet::lower_classify(ScriptBuilder& s, const ScriptValue& features,
                                         const ForwardContext& ctx) const {
  return classifier_->lower(s, "classifier", features, ctx);  // dropout is off in eval mode
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

CostTally model_cost(SlimmableNet& model, int model_width_index, int64_t frames, int64_t height,
                     int64_t width) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  CostTally cost;
  ForwardContext ctx = model.at_width(model_width_index);
  ctx.cost = &cost;
  const auto device = model.parameters().front().device();
  model.forward(torch::zeros({1, 3, frames, height, width}, torch::TensorOptions().device(device)),
                ctx);
  model.train(was_training);
  return cost;
}

}  // namespace adaptive
