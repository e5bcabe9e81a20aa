#include "train/init_from.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "train/trained_model.h"

namespace adaptive {
namespace {

std::string shape_text(const at::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

// The model keys in which two configs differ ("model.base_channels, ...").
std::string differing_model_keys(const TrainConfig& a, const TrainConfig& b) {
  const nlohmann::json ja = config_to_json(a).at("model"), jb = config_to_json(b).at("model");
  std::string keys;
  for (const auto& [key, value] : ja.items())
    if (!jb.contains(key) || jb.at(key) != value)
      keys += (keys.empty() ? "model." : ", model.") + key;
  return keys.empty() ? "none" : keys;
}

}  // namespace

InitFromSummary init_from_checkpoint(SlimmableNet& model, const std::vector<std::string>& classes,
                                     const std::string& path, int64_t frames) {
  const TrainedModel source = load_trained_model(path, "start a run from", /*with_gate=*/false);
  torch::NoGradGuard no_grad;
  InitFromSummary s;
  s.checkpoint_classes = static_cast<int64_t>(source.checkpoint.labels.size());
  for (const auto& c : source.checkpoint.labels)
    s.shared_classes += std::count(classes.begin(), classes.end(), c);
  s.checkpoint_narrowest = source.model->widths().front();
  std::map<std::string, std::shared_ptr<torch::nn::Module>> from;
  for (const auto& item : source.model->named_modules()) from[item.key()] = item.value();
  const auto mismatch = [&](const std::string& name, const at::Tensor& got,
                            const at::Tensor& want) {
    TrainConfig config;
    config.model = model.options();
    const std::string what =
        got.defined() ? " is " + shape_text(got) + " there and " + shape_text(want) + " here"
                      : " is not there";
    return std::runtime_error(path + ": cannot start this run from it (train.init_from): layer " +
                              name + what + "; the model sections differ in " +
                              differing_model_keys(source.config, config));
  };
  for (const auto& item : model.named_modules()) {
    const std::string& name = item.key();
    torch::nn::Module& target = *item.value();
    const auto it = from.find(name);
    const bool has_weights = target.as<SlimConvImpl>() || target.as<SwitchableBatchNormImpl>() ||
                             target.as<SlimLinearImpl>();
    if (has_weights && it == from.end()) throw mismatch(name, at::Tensor(), at::Tensor());
    // The same module there, or a mismatch (the same name, another kind of layer).
    const auto source_as = [&](auto* kind) -> const auto& {
      using Kind = std::remove_pointer_t<decltype(kind)>;
      const Kind* found = it->second->template as<Kind>();
      if (!found) throw mismatch(name, at::Tensor(), at::Tensor());
      return *found;
    };
    if (auto* conv = target.as<SlimConvImpl>()) {
      const auto& src = source_as(static_cast<SlimConvImpl*>(nullptr));
      if (!src.weight.sizes().equals(conv->weight.sizes()))
        throw mismatch(name, src.weight, conv->weight);
      conv->weight.copy_(src.weight);
      if (conv->bias.defined() && src.bias.defined()) conv->bias.copy_(src.bias);
      ++s.layers;
    } else if (auto* bn = target.as<SwitchableBatchNormImpl>()) {
      const auto& src = source_as(static_cast<SwitchableBatchNormImpl*>(nullptr));
      const std::vector<double>& source_widths = source.model->widths();
      for (int i = 0; i < static_cast<int>(model.widths().size()); ++i) {
        // The same width's own batch norm there, else the widest's first channels.
        const auto same = std::find_if(source_widths.begin(), source_widths.end(), [&](double w) {
          return std::abs(w - model.widths()[static_cast<size_t>(i)]) < 1e-9;
        });
        const int from_index = same != source_widths.end()
                                   ? static_cast<int>(same - source_widths.begin())
                                   : static_cast<int>(source_widths.size()) - 1;
        const auto q = src.params_at(from_index);
        const at::Tensor& here = bn->params_at(i).weight;
        if (here.size(0) > q.weight.size(0)) throw mismatch(name, q.weight, here);
        bn->set_params_at(i, q);
      }
    } else if (auto* linear = target.as<SlimLinearImpl>()) {
      const auto& src = source_as(static_cast<SlimLinearImpl*>(nullptr));
      if (source.checkpoint.labels != classes) {
        s.classifier_reset = true;
        continue;
      }
      if (!src.weight.sizes().equals(linear->weight.sizes()))
        throw mismatch(name, src.weight, linear->weight);
      linear->weight.copy_(src.weight);
      linear->bias.copy_(src.bias);
    }
  }
  if (s.checkpoint_narrowest > model.widths().front()) {
    s.sorted = true;
    s.sort = sort_channels_by_importance(model, frames, /*classifier_trained=*/!s.classifier_reset);
  }
  return s;
}

std::string describe(const InitFromSummary& s, const std::string& path) {
  std::ostringstream out;
  out << "init_from " << path << ": " << s.layers << " convs and their batch norms copied";
  if (s.classifier_reset) {
    out << "; the classifier is re-initialised (the checkpoint's " << s.checkpoint_classes
        << " classes are not this run's; " << s.shared_classes << " shared)";
  } else {
    out << ", the classifier too (the same classes)";
  }
  if (s.sorted) {
    out << "; channels sorted by importance in " << s.sort.groups_sorted << " groups ("
        << s.sort.groups_fixed << " left in place) so that narrower widths start from the most "
        << "useful filters (the checkpoint's narrowest width is " << s.checkpoint_narrowest << ")";
  }
  return out.str();
}

}  // namespace adaptive
