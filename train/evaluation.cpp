#include "train/evaluation.h"

#include <cstdio>

#include <torch/torch.h>

#include "datasets/errors.h"
#include "models/calibration.h"

namespace adaptive {

SplitOutputs collect_outputs(SlimmableNet& model, const std::shared_ptr<VideoClipDataset>& set,
                             const DataLoaderOptions& loader_options, c10::Device device) {
  torch::NoGradGuard no_grad;
  model.eval();
  DataLoader loader(set, loader_options);
  const int64_t n = static_cast<int64_t>(set->size());
  const int k = static_cast<int>(model.widths().size());
  SplitOutputs out;
  std::vector<at::Tensor> sums(k);
  at::Tensor counts = torch::zeros({n});
  at::Tensor seen = torch::zeros({n}, torch::kBool);
  loader.start_epoch(0);
  while (auto batch = loader.next()) {
    const at::Tensor x = batch->clips.to(device);
    const at::Tensor idx = torch::tensor(batch->samples, torch::kLong);
    for (int i = 0; i < k; ++i) {
      const ForwardContext ctx = model.at_width(i);
      const at::Tensor features = model.features(x, ctx);
      const at::Tensor logits = model.classify(features, ctx).cpu();
      if (!sums[i].defined()) sums[i] = torch::zeros({n, logits.size(1)});
      sums[i].index_add_(0, idx, logits);
      if (i == 0) {
        if (!out.narrow_features.defined())
          out.narrow_features = torch::zeros({n, features.size(1)});
        out.narrow_features.index_add_(0, idx, features.cpu());
      }
    }
    counts.index_add_(0, idx, torch::ones({idx.size(0)}));
    seen.index_fill_(0, idx, true);
  }
  const at::Tensor keep = seen.nonzero().squeeze(1);
  if (keep.numel() == 0) {
    throw DataError(set->index().source +
                    ": no video of this split could be decoded (see the warnings above)");
  }
  const at::Tensor denom = counts.index_select(0, keep).unsqueeze(1);
  for (auto& s : sums) out.logits.push_back(s.index_select(0, keep) / denom);
  out.narrow_features = out.narrow_features.index_select(0, keep) / denom;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) labels.push_back(set->index().samples[i].label);
  out.labels = torch::tensor(labels, torch::kLong).index_select(0, keep);
  return out;
}

std::vector<WidthReport> score_widths(const SplitOutputs& split,
                                      const std::vector<double>& widths) {
  std::vector<WidthReport> out;
  for (size_t i = 0; i < split.logits.size(); ++i) {
    WidthReport r;
    r.width = widths.at(i);
    r.top1 = split.logits[i].argmax(1).eq(split.labels).to(torch::kDouble).mean().item<double>();
    r.loss = torch::cross_entropy_loss(split.logits[i], split.labels).item<double>();
    out.push_back(r);
  }
  return out;
}

void recalibrate_bn(SlimmableNet& model, const std::shared_ptr<VideoClipDataset>& train_set,
                    const DataLoaderOptions& loader_options, int batches, c10::Device device) {
  if (model.options().width_mode != WidthMode::kUniversal) return;
  torch::NoGradGuard no_grad;
  model.reset_bn_statistics();
  model.train();
  DataLoader loader(train_set, loader_options);
  for (int i = 0; i < static_cast<int>(model.widths().size()); ++i) {
    loader.start_epoch(0);
    for (int k = 0; k < batches; ++k) {
      auto batch = loader.next();
      if (!batch) break;
      ForwardContext ctx = model.at_width(i);
      ctx.bn_calibration_momentum = 1.0 / (k + 1);
      model.forward(batch->clips.to(device), ctx);
    }
  }
  model.eval();
}

void calibrate_confidence(const SplitOutputs& split, bool fit, int bins,
                          std::vector<WidthReport>& widths) {
  for (size_t i = 0; i < widths.size(); ++i) {
    auto& r = widths[i];
    r.ece_before = expected_calibration_error(split.logits[i], split.labels, 1.0, bins);
    r.temperature = fit ? fit_temperature(split.logits[i], split.labels) : 1.0;
    r.ece_after = expected_calibration_error(split.logits[i], split.labels, r.temperature, bins);
  }
}

double best_metric(const std::string& metric, const std::vector<WidthReport>& r) {
  if (metric == "top1_min") return r.front().top1;
  if (metric == "top1_mean") {
    double s = 0;
    for (const auto& w : r) s += w.top1;
    return s / r.size();
  }
  return r.back().top1;
}

std::string format_top1(const std::vector<WidthReport>& widths) {
  std::string line;
  for (const auto& r : widths) {
    char buf[48];
    std::snprintf(buf, sizeof buf, " %.2fx %.1f%%", r.width, 100 * r.top1);
    line += buf;
  }
  return line;
}

}  // namespace adaptive
