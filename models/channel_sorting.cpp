#include "models/channel_sorting.h"

#include <map>
#include <numeric>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/net_backend.h"

namespace adaptive {
namespace {

// Traces which layers write and read each channel order. A value's name is
// the id of its order; ids that meet in an addition are merged.
class ChannelTraceBackend : public NetBackend {
 public:
  explicit ChannelTraceBackend(ForwardContext context, int64_t frames)
      : NetBackend(context, frames) {
    fixed_.push_back(true);  // order 0: the clip's colour channels
    parent_.push_back(0);
  }

  struct Group {
    std::vector<const ConvBnImpl*> writers;  // output channels in this order
    std::vector<const ConvBnImpl*> depthwise;
    std::vector<const ConvBnImpl*> conv_readers;
    std::vector<const SlimLinearImpl*> linear_readers;
    bool fixed = false;
  };

  NetValue input(int64_t channels) const {
    NetValue v;
    v.name = "0";
    v.channels = channels;
    return v;
  }

  // Every order, merged, by its root id.
  std::map<int, Group> groups() {
    std::map<int, Group> out;
    for (const auto& [layer, id] : writers_) out[root(id)].writers.push_back(layer);
    for (const auto& [layer, id] : depthwise_) out[root(id)].depthwise.push_back(layer);
    for (const auto& [layer, id] : conv_readers_) out[root(id)].conv_readers.push_back(layer);
    for (const auto& [layer, id] : linear_readers_) out[root(id)].linear_readers.push_back(layer);
    for (auto& [id, g] : out) g.fixed = fixed_[static_cast<size_t>(id)];
    return out;
  }

  NetValue fold_frames(const NetValue& clip, bool motion) override {
    return same(clip, motion ? 2 * clip.channels : clip.channels);
  }
  NetValue with_motion(const NetValue& clip) override { return same(clip, 2 * clip.channels); }
  NetValue frames_of(const NetValue& clip) override { return same(clip, clip.channels); }
  NetValue conv_bn(const std::string& /*name*/, const ConvBnImpl& layer, const NetValue& x,
                   bool /*relu*/) override {
    const int in = id_of(x);
    if (layer.conv->options().depthwise) {
      depthwise_.emplace_back(&layer, in);
      return x;
    }
    conv_readers_.emplace_back(&layer, in);
    const int out = fresh();
    writers_.emplace_back(&layer, out);
    NetValue y = x;
    y.name = std::to_string(out);
    y.channels = layer.conv->out_channels_at(context_.width);
    return y;
  }
  NetValue add_relu(const NetValue& y, const NetValue& residual) override {
    merge(id_of(y), id_of(residual));
    return y;
  }
  NetValue temporal_shift(const NetValue& frames, double /*fraction*/, bool /*causal*/) override {
    fixed_[static_cast<size_t>(root(id_of(frames)))] = true;  // it moves channels by position
    return frames;
  }
  NetValue pool(const NetValue& x) override { return x; }
  NetValue dropout(const NetValue& x, double /*p*/) override { return x; }
  NetValue linear(const std::string& /*name*/, const SlimLinearImpl& layer,
                  const NetValue& x) override {
    linear_readers_.emplace_back(&layer, id_of(x));
    NetValue y = x;
    y.name = std::to_string(fresh());
    fixed_.back() = true;  // the classes
    return y;
  }

 private:
  static int id_of(const NetValue& v) { return std::stoi(v.name); }
  static NetValue same(const NetValue& v, int64_t channels) {
    NetValue out = v;
    out.channels = channels;
    return out;
  }
  int fresh() {
    parent_.push_back(static_cast<int>(parent_.size()));
    fixed_.push_back(false);
    return parent_.back();
  }
  int root(int id) {
    while (parent_[static_cast<size_t>(id)] != id) id = parent_[static_cast<size_t>(id)];
    return id;
  }
  void merge(int a, int b) {
    a = root(a), b = root(b);
    if (a == b) return;
    parent_[static_cast<size_t>(b)] = a;
    fixed_[static_cast<size_t>(a)] =
        fixed_[static_cast<size_t>(a)] || fixed_[static_cast<size_t>(b)];
  }

  std::vector<int> parent_;
  std::vector<bool> fixed_;
  std::vector<std::pair<const ConvBnImpl*, int>> writers_, depthwise_, conv_readers_;
  std::vector<std::pair<const SlimLinearImpl*, int>> linear_readers_;
};

// L1 norm per input channel of a weight [out, in, ...].
at::Tensor input_l1(const at::Tensor& weight) {
  return weight.abs().transpose(0, 1).reshape({weight.size(1), -1}).sum(1);
}

// The widest width's batch norm, its channels in `order`; then every
// narrower width's set to its first channels.
void permute_batch_norm(SwitchableBatchNormImpl& bn, at::Tensor order, int widths) {
  const SwitchableBatchNormImpl::Params widest = bn.params_at(widths - 1);
  order = order.narrow(0, 0, widest.weight.size(0));  // the widest width's channels
  const SwitchableBatchNormImpl::Params sorted{
      widest.weight.index_select(0, order), widest.bias.index_select(0, order),
      widest.mean.index_select(0, order), widest.var.index_select(0, order)};
  for (int i = widths - 1; i >= 0; --i) bn.set_params_at(i, sorted);
}

void permute_outputs(ConvBnImpl& layer, const at::Tensor& order, int widths) {
  SlimConvImpl& conv = *layer.conv;
  conv.weight.copy_(conv.weight.index_select(0, order));
  if (conv.bias.defined()) conv.bias.copy_(conv.bias.index_select(0, order));
  permute_batch_norm(*layer.bn, order, widths);
}

}  // namespace

ChannelSortSummary sort_channels_by_importance(SlimmableNet& net, int64_t frames,
                                               bool classifier_trained) {
  torch::NoGradGuard no_grad;
  const int widths = static_cast<int>(net.widths().size());
  ChannelTraceBackend trace(net.at_width(widths - 1), frames);
  net.apply_classify(trace, net.apply_features(trace, trace.input(3)));
  // The traced layers, writable.
  std::map<const torch::nn::Module*, torch::nn::Module*> writable;
  for (const auto& m : net.modules()) writable[m.get()] = m.get();
  const auto conv_of = [&](const ConvBnImpl* layer) {
    return static_cast<ConvBnImpl*>(writable.at(layer));
  };
  ChannelSortSummary summary;
  for (auto& [id, group] : trace.groups()) {
    if (group.writers.empty()) continue;  // the colour channels, the classes
    if (group.fixed) {
      ++summary.groups_fixed;
      continue;
    }
    // The channels the widest width runs move among themselves; any beyond
    // (a widest width below 1) stay where they are.
    const ConvBnImpl& first = *group.writers.front();
    const int64_t channels = first.conv->weight.size(0);
    const int64_t used = first.conv->out_channels_at(net.widths().back());
    at::Tensor importance = torch::zeros({channels}, torch::kDouble);
    for (const ConvBnImpl* reader : group.conv_readers)
      importance += input_l1(reader->conv->weight).to(torch::kDouble);
    if (classifier_trained) {
      for (const SlimLinearImpl* reader : group.linear_readers)
        importance += input_l1(reader->weight).to(torch::kDouble);
    }
    if (importance.narrow(0, 0, used).max().item<double>() == 0) {  // nothing trained reads it
      for (const ConvBnImpl* writer : group.writers)
        importance.narrow(0, 0, used) +=
            writer->bn->params_at(widths - 1).weight.abs().to(torch::kDouble);
    }
    // Descending; ties keep their order.
    const at::Tensor order = at::cat(
        {std::get<1>(importance.narrow(0, 0, used).sort(/*stable=*/true, 0, /*descending=*/true)),
         torch::arange(used, channels, torch::kLong)});
    for (const ConvBnImpl* writer : group.writers) permute_outputs(*conv_of(writer), order, widths);
    for (const ConvBnImpl* d : group.depthwise) permute_outputs(*conv_of(d), order, widths);
    for (const ConvBnImpl* reader : group.conv_readers) {
      at::Tensor& w = conv_of(reader)->conv->weight;
      w.copy_(w.index_select(1, order));
    }
    for (const SlimLinearImpl* reader : group.linear_readers) {
      at::Tensor& w = static_cast<SlimLinearImpl*>(writable.at(reader))->weight;
      w.copy_(w.index_select(1, order));
    }
    ++summary.groups_sorted;
  }
  return summary;
}

}  // namespace adaptive
