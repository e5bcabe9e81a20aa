#include "train/evaluation.h"

#include <cstdio>
#include <filesystem>
#include <limits>

#include <torch/torch.h>

#include "datasets/errors.h"
#include "models/calibration.h"
#include "train/trained_model.h"
#include "train/training_data.h"

namespace fs = std::filesystem;

namespace adaptive {
namespace {

bool is_split_name(const std::string& name) {
  for (const auto& n : dataset_split_names().names())
    if (n == name) return true;
  return false;
}

}  // namespace

SplitOutputs collect_outputs(SlimmableNet& model, const std::shared_ptr<VideoClipDataset>& set,
                             const DataLoaderOptions& loader_options, c10::Device device) {
  torch::NoGradGuard no_grad;
  model.eval();
  DataLoader loader(set, loader_options);
  const int64_t n = static_cast<int64_t>(set->size());
  const int k = static_cast<int>(model.widths().size());
  SplitOutputs out;
  std::vector<at::Tensor> sums(k), feature_sums(k);
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
      if (!feature_sums[i].defined()) feature_sums[i] = torch::zeros({n, features.size(1)});
      feature_sums[i].index_add_(0, idx, features.cpu());
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
  for (auto& s : feature_sums) out.features.push_back(s.index_select(0, keep) / denom);
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) labels.push_back(set->index().samples[i].label);
  out.labels = torch::tensor(labels, torch::kLong).index_select(0, keep);
  out.bad_files = loader.bad_files();
  return out;
}

void score_classes(const at::Tensor& logits, const at::Tensor& labels, WidthReport& r) {
  const int64_t classes = logits.size(1);
  const at::Tensor top = std::get<1>(logits.topk(std::min<int64_t>(5, classes), 1));
  r.top5 = top.eq(labels.unsqueeze(1)).any(1).to(torch::kDouble).mean().item<double>();
  const at::Tensor predicted = logits.argmax(1).contiguous();
  const at::Tensor truth = labels.to(torch::kLong).contiguous();
  r.confusion.assign(static_cast<size_t>(classes), std::vector<int64_t>(classes, 0));
  const int64_t* p = predicted.data_ptr<int64_t>();
  const int64_t* t = truth.data_ptr<int64_t>();
  for (int64_t k = 0; k < truth.numel(); ++k) ++r.confusion.at(t[k]).at(p[k]);
  r.class_accuracy.clear();
  double sum = 0;
  int present = 0;
  for (int64_t c = 0; c < classes; ++c) {
    const auto& row = r.confusion[static_cast<size_t>(c)];
    int64_t n = 0;
    for (int64_t v : row) n += v;
    if (n == 0) {
      r.class_accuracy.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    r.class_accuracy.push_back(static_cast<double>(row[static_cast<size_t>(c)]) / n);
    sum += r.class_accuracy.back();
    ++present;
  }
  r.mean_class_accuracy = present ? sum / present : 0;
}

std::vector<WidthReport> score_widths(const SplitOutputs& split,
                                      const std::vector<double>& widths) {
  std::vector<WidthReport> out;
  for (size_t i = 0; i < split.logits.size(); ++i) {
    WidthReport r;
    r.width = widths.at(i);
    r.top1 = split.logits[i].argmax(1).eq(split.labels).to(torch::kDouble).mean().item<double>();
    r.loss = torch::cross_entropy_loss(split.logits[i], split.labels).item<double>();
    score_classes(split.logits[i], split.labels, r);
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

namespace {

// Rows `start`, `start` + 2, ... of a split's outputs.
SplitOutputs every_other(const SplitOutputs& split, int64_t start) {
  const at::Tensor rows = torch::arange(start, split.labels.size(0), 2, torch::kLong);
  SplitOutputs out;
  for (const auto& f : split.features) out.features.push_back(f.index_select(0, rows));
  for (const auto& l : split.logits) out.logits.push_back(l.index_select(0, rows));
  out.labels = split.labels.index_select(0, rows);
  return out;
}

}  // namespace

void calibrate_confidence(const SplitOutputs& split, bool fit, int bins,
                          std::vector<WidthReport>& widths) {
  const bool halves = split.labels.size(0) >= 2;
  const SplitOutputs fit_half = halves ? every_other(split, 0) : split;
  const SplitOutputs report_half = halves ? every_other(split, 1) : split;
  for (size_t i = 0; i < widths.size(); ++i)
    widths[i].temperature = fit ? fit_temperature(fit_half.logits[i], fit_half.labels) : 1.0;
  report_calibration(report_half, bins, widths);
}

void report_calibration(const SplitOutputs& split, int bins, std::vector<WidthReport>& widths) {
  for (size_t i = 0; i < widths.size(); ++i) {
    auto& r = widths[i];
    r.ece_before = expected_calibration_error(split.logits[i], split.labels, 1.0, bins);
    r.ece_after = expected_calibration_error(split.logits[i], split.labels, r.temperature, bins);
  }
}

CheckpointEvaluation evaluate_checkpoint(const std::string& path, const std::string& split,
                                         int clips, c10::Device device) {
  const TrainedModel trained = load_trained_model(path, "evaluate", /*with_gate=*/false);
  const Checkpoint& info = trained.checkpoint;
  TrainConfig config = trained.config;
  if (clips > 0) config.data.eval_clips = clips;
  const std::optional<FinalModelInfo>& final_model = trained.final_model;
  SlimmableNet* model = trained.model.get();
  model->to(device);
  DatasetIndex index;
  std::error_code ec;
  if (!fs::exists(split, ec) && is_split_name(split)) {
    index =
        open_split(dataset_source(config.data), dataset_split_names().parse(split), info.labels);
  } else {
    index = open_dataset_index(split, info.labels, ManifestRules{config.data.allow_outside_root});
  }
  const std::string source = index.source;
  auto set = std::make_shared<VideoClipDataset>(std::move(index),
                                                clip_dataset_options(config, info.labels));
  DataLoaderOptions loader = loader_options(config, false);
  const SplitOutputs outputs = collect_outputs(*model, set, loader, device);
  CheckpointEvaluation e;
  e.split = source;
  e.classes = info.labels;
  e.clips = outputs.labels.size(0);
  e.widths = score_widths(outputs, model->widths());
  const DataConfig& d = config.data;
  model->to(c10::kCPU);
  for (size_t i = 0; i < e.widths.size(); ++i) {
    const CostTally cost = model_cost(*model, static_cast<int>(i), d.clip.frames,
                                      d.transform.crop_height, d.transform.crop_width);
    e.widths[i].mflops = cost.flops / 1e6;
    e.widths[i].params = cost.params;
    if (final_model) e.widths[i].temperature = final_model->temperature.at(i);
  }
  report_calibration(outputs, config.calibration.bins, e.widths);
  return e;
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
