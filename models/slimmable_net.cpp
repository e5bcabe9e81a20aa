#include "models/slimmable_net.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>

#include <torch/nn/functional/dropout.h>
#include <torch/torch.h>

#include "models/backbones.h"
#include "models/net_backends.h"

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
  v.field(
      "temporal_from_stage", temporal_from_stage, 0, 64,
      "r2plus1d: first stage with temporal kernels (0: the stem on); earlier convs see one frame");
  v.field("pool_frames", pool_frames, 0, 1024,
          "frames the features are averaged over, the window's last (0: all)");
  v.field("factorized", factorized, "r2plus1d: (2+1)D convs instead of full 3D");
  v.field("shift_fraction", shift_fraction, 0, 1, "tsm_mobile: share of channels shifted in time");
  v.field("dropout", dropout, 0, 0.95, "dropout before the classifier");
  v.field("motion_input", motion_input, "r2plus1d: frame differences as 3 extra input channels");
  v.field("causal", causal,
          "temporal convs and the shift see only past frames: the export streams frame by frame");
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
  require(
      o.temporal_from_stage >= 0 && o.temporal_from_stage <= static_cast<int64_t>(o.blocks.size()),
      "model.temporal_from_stage: expected 0 (the stem) to " + text(o.blocks.size()) +
          " (the last stage), got " + text(o.temporal_from_stage));
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

at::Tensor ConvBnImpl::forward(const at::Tensor& x, const ForwardContext& ctx, bool relu) const {
  at::Tensor y = bn->forward(conv->forward(x, ctx), ctx);
  return relu ? at::relu(y) : y;
}

FoldedConvBn ConvBnImpl::folded(const std::string& name, int64_t in_channels,
                                const ForwardContext& ctx) const {
  const SlimConvOptions& o = conv->options();
  const int64_t c_out = o.depthwise ? in_channels : conv->out_channels_at(ctx.width);
  at::Tensor w = conv->weight.detach().narrow(0, 0, c_out);
  if (!o.depthwise) w = w.narrow(1, 0, in_channels);
  const SwitchableBatchNormImpl::Params bn_at = bn->params_at(ctx.model_width_index);
  if (bn_at.mean.size(0) != c_out) {
    throw std::logic_error("ConvBn: " + name + " has " + std::to_string(c_out) +
                           " outputs at width index " + std::to_string(ctx.model_width_index) +
                           ", its BN " + std::to_string(bn_at.mean.size(0)));
  }
  const at::Tensor scale =
      bn_at.weight.to(at::kDouble) / (bn_at.var.to(at::kDouble) + bn->eps()).sqrt();
  std::vector<int64_t> scale_shape(w.dim(), 1);
  scale_shape[0] = c_out;
  at::Tensor shift = bn_at.bias.to(at::kDouble) - bn_at.mean.to(at::kDouble) * scale;
  if (conv->bias.defined())
    shift = shift + conv->bias.detach().narrow(0, 0, c_out).to(at::kDouble) * scale;
  return {w.to(at::kDouble) * scale.view(scale_shape), shift};
}

SlimmableNet::SlimmableNet(ModelOptions options) : options_(std::move(options)) {
  validate(options_);
}

void SlimmableNet::build_classifier() {
  classifier_ = register_module("classifier", SlimLinear(feature_channels(), options_.num_classes));
}

NetValue SlimmableNet::apply_classify(NetBackend& b, const NetValue& features) const {
  NetValue x = features;
  if (options_.dropout > 0 && is_training()) x = b.dropout(x, options_.dropout);
  return b.linear("classifier", *classifier_, x);
}

at::Tensor SlimmableNet::features(const at::Tensor& clips, const ForwardContext& ctx) const {
  const ForwardContext c = pooling(ctx);
  EagerBackend b(c, clips.size(2));
  return apply_features(b, EagerBackend::value(clips)).tensor;
}

at::Tensor SlimmableNet::classify(const at::Tensor& features, const ForwardContext& ctx) const {
  EagerBackend b(ctx, 0);
  return apply_classify(b, EagerBackend::value(features)).tensor;
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

namespace {

// Traces the reach through a network: each value's name holds the frames
// before a frame that it depends on.
class ReachTraceBackend : public NetBackend {
 public:
  using NetBackend::NetBackend;

  static int64_t reach(const NetValue& v) { return std::stoll(v.name); }
  static NetValue with_reach(int64_t frames) {
    NetValue v;
    v.name = std::to_string(frames);
    return v;
  }

  NetValue fold_frames(const NetValue& clip, bool motion) override {
    return motion ? with_motion(clip) : clip;
  }
  NetValue with_motion(const NetValue& clip) override { return with_reach(reach(clip) + 1); }
  NetValue frames_of(const NetValue& clip) override { return clip; }
  NetValue conv_bn(const std::string& /*name*/, const ConvBnImpl& layer, const NetValue& x,
                   bool /*relu*/) override {
    const SlimConvOptions& o = layer.conv->options();
    const int64_t kt = o.kernel.size() == 3 ? o.kernel[0] : 1;
    return with_reach(reach(x) + (o.causal ? kt - 1 : kt / 2));
  }
  NetValue add_relu(const NetValue& y, const NetValue& residual) override {
    return with_reach(std::max(reach(y), reach(residual)));
  }
  NetValue temporal_shift(const NetValue& frames, double /*fraction*/, bool /*causal*/) override {
    return with_reach(reach(frames) + 1);
  }
  NetValue pool(const NetValue& x) override { return x; }
  NetValue dropout(const NetValue& x, double /*p*/) override { return x; }
  NetValue linear(const std::string& /*name*/, const SlimLinearImpl& /*layer*/,
                  const NetValue& x) override {
    return x;
  }
};

}  // namespace

int64_t temporal_reach(const SlimmableNet& model) {
  ReachTraceBackend backend(model.at_width(0), 1);
  return ReachTraceBackend::reach(model.apply_features(backend, ReachTraceBackend::with_reach(0)));
}

int64_t pooled_frames(const SlimmableNet& model, int64_t frames) {
  return model.pooling(ForwardContext{}).frames_pooled(frames);
}

bool streams_exactly(const SlimmableNet& model, int64_t frames) {
  return model.options().causal && pooled_frames(model, frames) <= frames - temporal_reach(model);
}

}  // namespace adaptive
