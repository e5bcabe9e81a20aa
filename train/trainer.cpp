#include "train/trainer.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "datasets/errors.h"
#include "datasets/frame_source.h"
#include "models/calibration.h"
#include "models/device.h"
#include "models/width_gate.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/exporter.h"
#include "train/progress.h"
#include "train/sandwich.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace adaptive {
namespace {

// The frame rate of a split's videos: that of the first one that opens (a
// bad one is the loader's to skip or fail on).
double source_fps(const DatasetIndex& index, double folder_fps) {
  for (const SampleEntry& s : index.samples) {
    try {
      return open_frame_source(s.path, folder_fps)->fps();
    } catch (const BadSampleError&) {
    }
  }
  throw DataError(index.source + ": none of its " + std::to_string(index.samples.size()) +
                  " videos can be opened");
}

constexpr uint64_t kWidthStream = 0x57494454ULL;  // seeds of per-step width sampling
constexpr uint64_t kGateStream = 0x47415445ULL;

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double cosine_lr(int64_t step, int64_t total, int64_t warmup, double peak, double floor) {
  if (warmup > 0 && step < warmup) return peak * (step + 1) / warmup;
  const double progress =
      total > warmup ? static_cast<double>(step - warmup) / (total - warmup) : 1.0;
  return floor + (peak - floor) * 0.5 * (1 + std::cos(M_PI * std::min(1.0, progress)));
}

// Renders the built-in synthetic dataset when the config points at one that
// is not there yet; later runs find it and reuse it.
void prepare_dataset(const TrainConfig& c, ProgressReporter& progress) {
  const fs::path root(c.data.root);
  if (fs::exists(root / c.data.train)) return;
  if (!c.data.synthesize) {
    throw DataError((root / c.data.train).string() +
                    ": training data not found (data.synthesize is off)");
  }
  if (fs::exists(root) && !fs::is_empty(root)) {
    throw DataError(root.string() + ": exists but holds no " + c.data.train +
                    "; not rendering the synthetic dataset over it");
  }
  progress.message("rendering the synthetic gesture dataset into " + root.string() +
                   " (first run only)");
  const SynthSummary s = generate_synth_gestures(synth_options(c));
  progress.message("  " + std::to_string(s.clips[0] + s.clips[1] + s.clips[2]) + " clips in " +
                   std::to_string(static_cast<int>(s.seconds)) + " s");
}

struct Cached {                    // a split seen through the frozen network, one row per video
  at::Tensor features0;            // narrowest width's pooled features
  std::vector<at::Tensor> logits;  // per width
  at::Tensor labels;
};

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& model,
                                                        const OptimConfig& t) {
  std::vector<at::Tensor> decay, no_decay;
  for (auto& p : model.parameters()) (p.dim() > 1 ? decay : no_decay).push_back(p);
  if (t.optimizer == "sgd") {
    auto with_decay = torch::optim::SGDOptions(t.lr).momentum(t.momentum).nesterov(t.nesterov);
    auto without = with_decay;
    with_decay.weight_decay(t.weight_decay);
    return std::make_unique<torch::optim::SGD>(
        std::vector<torch::optim::OptimizerParamGroup>{
            {decay, std::make_unique<torch::optim::SGDOptions>(with_decay)},
            {no_decay, std::make_unique<torch::optim::SGDOptions>(without)}},
        with_decay);
  }
  auto with_decay = torch::optim::AdamWOptions(t.lr).betas({t.momentum, 0.999});
  auto without = with_decay;
  with_decay.weight_decay(t.weight_decay);
  without.weight_decay(0);
  return std::make_unique<torch::optim::AdamW>(
      std::vector<torch::optim::OptimizerParamGroup>{
          {decay, std::make_unique<torch::optim::AdamWOptions>(with_decay)},
          {no_decay, std::make_unique<torch::optim::AdamWOptions>(without)}},
      with_decay);
}

struct Trainer::Impl {
  TrainConfig config;
  TrainerOptions options;
  c10::Device device{c10::kCPU};
  fs::path dir, ckpt_dir;
  std::vector<std::string> classes;
  double clip_fps = 0;            // frame rate of the frames in a clip (recorded for export)
  ProcessGroup* group = nullptr;  // distributed run, or null
  bool writer = true;             // rank 0 (or alone): writes logs, checkpoints, report
  int ranks = 1;
  bool interrupted = false;
  std::shared_ptr<VideoClipDataset> train_set, val_set;
  std::unique_ptr<DataLoader> train_loader;
  std::mutex skipped_mutex;
  std::set<std::string> skipped;  // "skipping PATH: why", once each
  std::shared_ptr<SlimmableNet> model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  TrainingState state;
  ProgressReporter progress{1, 1, 1};
  std::ofstream metrics;
  std::string config_json;
  double data_seconds = 0, step_seconds = 0;
  int64_t clips_seen = 0;

  Impl(TrainConfig c, TrainerOptions o) : config(std::move(c)), options(std::move(o)) {
    device = select_device(options.device);
    dir = options.out_dir;
    ckpt_dir = dir / "checkpoints";
    config_json = config_to_json(config).dump(2);
    group = options.group.get();
    writer = !group || group->rank() == 0;
    ranks = group ? group->world_size() : 1;
    if (!writer) options.progress = false;
    progress = ProgressReporter(config.train.epochs, 1, config.train.log_every, options.progress);

    const bool has_run = fs::exists(ckpt_dir / "last.pt");
    if (options.resume.empty() && has_run) {
      throw std::runtime_error(dir.string() +
                               ": already holds a run (checkpoints/last.pt); pass --resume auto to "
                               "continue it or choose another --out");
    }
    prepare_dataset(config, progress);
    const fs::path root(config.data.root);
    std::optional<std::vector<std::string>> fixed;
    if (!config.data.classes.empty())
      fixed = read_class_list((root / config.data.classes).string());
    const ManifestRules rules{config.data.allow_outside_root};
    DatasetIndex train_index =
        open_dataset_index((root / config.data.train).string(), fixed, rules);
    classes = train_index.classes;
    clip_fps = config.data.target_fps > 0
                   ? config.data.target_fps
                   : source_fps(train_index, config.data.folder_fps) / config.data.frame_stride;
    DatasetIndex val_index = open_dataset_index((root / config.data.val).string(), classes, rules);
    const auto clip_options = clip_dataset_options(config, classes);
    train_set = std::make_shared<VideoClipDataset>(std::move(train_index), clip_options);
    val_set = std::make_shared<VideoClipDataset>(std::move(val_index), clip_options);
    DataLoaderOptions train_options = loader(true);
    train_options.shard_index = group ? group->rank() : 0;
    train_options.shard_count = ranks;
    train_loader = std::make_unique<DataLoader>(train_set, train_options);
    if (train_loader->batches_per_epoch() == 0) {
      throw ConfigError("train.batch_size: " + std::to_string(config.train.batch_size) +
                        " is larger than the " + std::to_string(train_set->size()) +
                        " training clips");
    }

    torch::manual_seed(config.train.seed);
    model = build_model(model_options(config, static_cast<int64_t>(classes.size())));
    model->to(device);
    optimizer = make_optimizer(*model, config.train);

    fs::create_directories(ckpt_dir);
    if (!options.resume.empty()) {
      const std::string path =
          options.resume == "auto" ? (ckpt_dir / "last.pt").string() : options.resume;
      if (options.resume == "auto" && !has_run) {
        progress.message("no checkpoint in " + ckpt_dir.string() + ": starting a new run");
      } else {
        const Checkpoint c = load_checkpoint(path, *model, optimizer.get());
        if (json::parse(c.config_json).at("model") != json::parse(config_json).at("model")) {
          throw ConfigError(path + ": the checkpoint's model config differs from this config's");
        }
        state = c.state;
        if (!fs::exists(ckpt_dir / "best.pt")) {  // resumed from elsewhere: no best of this run yet
          state.best_metric = -1;
          state.best_epoch = -1;
        }
        if (state.epoch >= config.train.epochs) {
          progress.message(path + ": the run has finished its " + std::to_string(state.epoch) +
                           " epochs; calibrating, training the gate and reporting again");
        } else {
          progress.message("resuming from " + path + " at epoch " +
                           std::to_string(state.epoch + 1) + ", batch " +
                           std::to_string(state.next_batch) + " (step " +
                           std::to_string(state.step) + ")");
        }
      }
    }
    if (group) {  // every rank starts from rank 0's weights
      std::vector<at::Tensor> state_tensors = model->parameters();
      for (const auto& b : model->buffers()) state_tensors.push_back(b);
      group->broadcast(state_tensors, 0);
      progress.message("distributed: " + std::to_string(ranks) + " ranks (" + group->backend() +
                       "), global batch " + std::to_string(config.train.batch_size * ranks));
    }
    if (!writer) return;
    if (state.step == 0) write_file_atomically((dir / "config.json").string(), config_json + "\n");
    metrics.open(dir / "metrics.jsonl", state.step == 0 ? std::ios::trunc : std::ios::app);
    if (!metrics)
      throw std::runtime_error((dir / "metrics.jsonl").string() + ": cannot open for writing");
  }

  // Loader options of this run: a bad sample skipped by any of its loaders
  // is warned about once and counted.
  DataLoaderOptions loader(bool train) {
    DataLoaderOptions o = loader_options(config, train);
    o.warn = [this](const std::string& message) {
      std::lock_guard<std::mutex> lock(skipped_mutex);
      if (skipped.insert(message).second) std::cerr << "warning: " << message << "\n";
    };
    return o;
  }

  // Distributed: gradients averaged across ranks, one bucket; a width that
  // left a parameter without gradient contributes zeros.
  void average_gradients() {
    if (!group) return;
    std::vector<at::Tensor> grads;
    for (auto& p : model->parameters()) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      grads.push_back(p.grad());
    }
    group->allreduce_mean(grads);
  }

  // Distributed: BN running statistics (each rank's from its own batches)
  // averaged, so evaluation and checkpoints see one model.
  void average_bn_statistics() {
    if (!group) return;
    std::vector<at::Tensor> stats;
    for (const auto& b : model->named_buffers())
      if (b.key().find("running_") != std::string::npos) stats.push_back(b.value());
    if (!stats.empty()) group->allreduce_mean(stats);
  }

  // Distributed: the others wait until rank 0 has written (checkpoints are
  // read by every rank on resume and at the end).
  void sync() {
    if (group) group->barrier();
  }

  void log(json line) {
    if (!writer) return;
    metrics << line.dump() << "\n";
    metrics.flush();
    if (!metrics) {
      throw std::runtime_error((dir / "metrics.jsonl").string() +
                               ": cannot write: " + std::strerror(errno));
    }
  }

  Checkpoint checkpoint_data() const { return {state, config_json, {}, classes, clip_fps}; }

  void save_last() {
    average_bn_statistics();
    if (writer)
      save_checkpoint((ckpt_dir / "last.pt").string(), *model, optimizer.get(), checkpoint_data());
    sync();
  }

  // Epoch checkpoint, hard-linked as last.pt (and best.pt), older ones pruned.
  void save_epoch(bool best) {
    if (writer) write_epoch_checkpoint(best);
    sync();
  }

  void write_epoch_checkpoint(bool best) {
    char name[32];
    std::snprintf(name, sizeof name, "epoch_%04lld.pt", static_cast<long long>(state.epoch));
    const fs::path path = ckpt_dir / name;
    save_checkpoint(path.string(), *model, optimizer.get(), checkpoint_data());
    auto link_as = [&](const std::string& alias) {
      const fs::path tmp = ckpt_dir / (alias + ".tmp");
      fs::remove(tmp);
      fs::create_hard_link(path, tmp);
      fs::rename(tmp, ckpt_dir / alias);
    };
    link_as("last.pt");
    if (best) link_as("best.pt");
    std::vector<fs::path> epochs;
    for (const auto& e : fs::directory_iterator(ckpt_dir)) {
      if (e.path().filename().string().rfind("epoch_", 0) == 0) epochs.push_back(e.path());
    }
    std::sort(epochs.begin(), epochs.end());
    for (size_t i = 0; i + config.train.keep_checkpoints < epochs.size(); ++i)
      fs::remove(epochs[i]);
  }

  // Universal mode: per-width BN statistics from training batches, in train mode.
  void calibrate_bn() {
    if (model->options().width_mode != WidthMode::kUniversal) return;
    torch::NoGradGuard no_grad;
    model->reset_bn_statistics();
    model->train();
    DataLoaderOptions lo = loader(true);  // shuffled training clips, as in training
    lo.seed = config.train.seed + 1;
    DataLoader loader(train_set, lo);
    for (int i = 0; i < static_cast<int>(model->widths().size()); ++i) {
      loader.start_epoch(0);
      for (int k = 0; k < config.model.bn_calibration_batches; ++k) {
        auto batch = loader.next();
        if (!batch) break;
        ForwardContext ctx = model->at_width(i);
        ctx.bn_calibration_momentum = 1.0 / (k + 1);
        model->forward(batch->clips.to(device), ctx);
      }
    }
    model->eval();
  }

  // Per-video logits at every width (clips of a video averaged) and features
  // of the narrowest width.
  Cached collect(const std::shared_ptr<VideoClipDataset>& set) {
    torch::NoGradGuard no_grad;
    model->eval();
    DataLoader loader(set, this->loader(false));
    const int64_t n = static_cast<int64_t>(set->size());
    const int k = static_cast<int>(model->widths().size());
    Cached out;
    std::vector<at::Tensor> sums(k);
    at::Tensor counts = torch::zeros({n});
    at::Tensor seen = torch::zeros({n}, torch::kBool);
    loader.start_epoch(0);
    while (auto batch = loader.next()) {
      const at::Tensor x = batch->clips.to(device);
      const at::Tensor idx = torch::tensor(batch->samples, torch::kLong);
      for (int i = 0; i < k; ++i) {
        const ForwardContext ctx = model->at_width(i);
        const at::Tensor features = model->features(x, ctx);
        const at::Tensor logits = model->classify(features, ctx).cpu();
        if (!sums[i].defined()) sums[i] = torch::zeros({n, logits.size(1)});
        sums[i].index_add_(0, idx, logits);
        if (i == 0) {
          if (!out.features0.defined()) out.features0 = torch::zeros({n, features.size(1)});
          out.features0.index_add_(0, idx, features.cpu());
        }
      }
      counts.index_add_(0, idx, torch::ones({idx.size(0)}));
      seen.index_fill_(0, idx, true);
    }
    // Videos skipped as bad samples have no row.
    const at::Tensor keep = seen.nonzero().squeeze(1);
    if (keep.numel() == 0) {
      throw DataError(set->index().source +
                      ": no video of this split could be decoded (see the warnings above)");
    }
    const at::Tensor denom = counts.index_select(0, keep).unsqueeze(1);
    for (auto& s : sums) out.logits.push_back(s.index_select(0, keep) / denom);
    out.features0 = out.features0.index_select(0, keep) / denom;
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < n; ++i) labels.push_back(set->index().samples[i].label);
    out.labels = torch::tensor(labels, torch::kLong).index_select(0, keep);
    return out;
  }

  // Validation top-1 and loss at every width.
  // Top-1 and loss per width of a collected split.
  std::vector<WidthReport> score(const Cached& split) const {
    std::vector<WidthReport> out;
    for (size_t i = 0; i < split.logits.size(); ++i) {
      WidthReport r;
      r.width = model->widths()[i];
      r.top1 = split.logits[i].argmax(1).eq(split.labels).to(torch::kDouble).mean().item<double>();
      r.loss = torch::cross_entropy_loss(split.logits[i], split.labels).item<double>();
      out.push_back(r);
    }
    return out;
  }

  std::vector<WidthReport> evaluate() {
    calibrate_bn();
    return score(collect(val_set));
  }

  double metric_of(const std::vector<WidthReport>& r) const {
    const std::string& m = config.train.best_metric;
    if (m == "top1_min") return r.front().top1;
    if (m == "top1_mean") {
      double s = 0;
      for (const auto& w : r) s += w.top1;
      return s / r.size();
    }
    return r.back().top1;
  }

  // The sandwich step over train.accumulate micro-batches of the batch, with
  // gradients averaged over them. Returns the losses per width, averaged.
  std::vector<double> accumulated_step(const Batch& batch, const std::vector<WidthChoice>& choices,
                                       const SandwichOptions& sandwich) {
    const int64_t n = batch.clips.size(0);
    const int64_t parts = std::min<int64_t>(config.train.accumulate, n);
    std::vector<double> losses;
    for (int64_t k = 0; k < parts; ++k) {
      const int64_t begin = n * k / parts, end = n * (k + 1) / parts;
      const auto part =
          sandwich_step(*model, batch.clips.slice(0, begin, end).to(device),
                        batch.labels.slice(0, begin, end).to(device), choices, sandwich);
      losses.resize(part.size(), 0.0);
      for (size_t i = 0; i < part.size(); ++i) losses[i] += part[i] / parts;
    }
    if (parts > 1) {
      torch::NoGradGuard no_grad;
      for (auto& p : model->parameters())
        if (p.grad().defined()) p.grad().div_(static_cast<double>(parts));
    }
    return losses;
  }

  // Whether this rank, or any rank of a distributed run, was asked to stop.
  bool stop_requested() {
    const bool here = options.stop_requested && options.stop_requested->load();
    if (!group) return here;
    std::vector<at::Tensor> flag = {torch::full({1}, here ? 1.0f : 0.0f)};
    group->allreduce_mean(flag);
    return flag[0].item<float>() > 0;
  }

  // Trains until the configured epochs are done; false if stopped early.
  bool fit() {
    const auto& t = config.train;
    const int64_t steps_per_epoch = train_loader->batches_per_epoch();
    const int64_t total_steps = steps_per_epoch * t.epochs;
    const int64_t warmup = static_cast<int64_t>(std::llround(t.warmup_epochs * steps_per_epoch));
    progress = ProgressReporter(t.epochs, steps_per_epoch, t.log_every, options.progress);
    const WidthSampling sampling = parse_width_sampling(t.sampling);
    const SandwichOptions sandwich{t.distill, t.distill_temperature, t.label_smoothing};
    std::vector<at::Tensor> params = model->parameters();

    while (state.epoch < t.epochs) {
      model->train();
      train_loader->start_epoch(state.epoch, state.next_batch);
      double smoothed = -1;
      for (;;) {
        const auto t0 = Clock::now();
        std::optional<Batch> batch = train_loader->next();
        if (!batch) break;
        const double waited = seconds_since(t0);
        // The learning rate follows the global batch (linear scaling).
        const double lr = ranks * cosine_lr(state.step, total_steps, warmup, t.lr, t.min_lr);
        for (auto& group : optimizer->param_groups()) group.options().set_lr(lr);
        Rng rng(derive_seed(t.seed, {kWidthStream, static_cast<uint64_t>(state.step)}));
        const auto choices = sample_step_widths(sampling, model->widths(),
                                                model->options().width_mode, t.random_widths, rng);
        optimizer->zero_grad();
        std::vector<double> losses;
        try {
          losses = accumulated_step(*batch, choices, sandwich);
        } catch (const NonFiniteLoss& e) {
          const fs::path last = ckpt_dir / "last.pt";
          throw std::runtime_error("training diverged at epoch " + std::to_string(state.epoch + 1) +
                                   ", step " + std::to_string(state.step + 1) + ": " + e.what() +
                                   (fs::exists(last)
                                        ? "; the last good checkpoint is " + last.string()
                                        : "; no checkpoint was written yet") +
                                   " (try a lower train.lr or train.grad_clip)");
        }
        average_gradients();
        if (t.grad_clip > 0) torch::nn::utils::clip_grad_norm_(params, t.grad_clip);
        optimizer->step();
        ++state.step;
        state.next_batch = batch->index + 1;  // batches of bad samples only are passed over
        const double took = seconds_since(t0);
        data_seconds += waited;
        step_seconds += took;
        clips_seen += batch->clips.size(0) * ranks;  // the global batch
        smoothed = smoothed < 0 ? losses.front() : 0.9 * smoothed + 0.1 * losses.front();
        progress.step(state.epoch, batch->index, smoothed, ranks * batch->clips.size(0) / took, lr);
        if (state.step % t.log_every == 0) {
          json widths = json::array();
          for (const auto& c : choices) widths.push_back(c.width);
          log({{"type", "train"},
               {"epoch", state.epoch + 1},
               {"step", state.step},
               {"lr", lr},
               {"loss", losses},
               {"widths", widths},
               {"clips_per_s", ranks * batch->clips.size(0) / took},
               {"data_share", waited / took}});
        }
        if (t.checkpoint_every > 0 && state.step % t.checkpoint_every == 0) save_last();
        if (stop_requested()) {
          save_last();
          interrupted = true;
          progress.message("interrupted at epoch " + std::to_string(state.epoch + 1) + ", step " +
                           std::to_string(state.step) + "; checkpoint " +
                           (ckpt_dir / "last.pt").string());
          return false;
        }
        if (options.stop_after_steps > 0 && state.step >= options.stop_after_steps) {
          save_last();
          progress.message("stopped after " + std::to_string(state.step) + " steps; checkpoint " +
                           (ckpt_dir / "last.pt").string());
          return false;
        }
      }
      progress.end_epoch();
      average_bn_statistics();
      const auto eval = evaluate();
      const double metric = metric_of(eval);
      const bool best = metric > state.best_metric;
      if (best) {
        state.best_metric = metric;
        state.best_epoch = state.epoch + 1;
      }
      json top1 = json::array(), loss = json::array();
      std::string line = "epoch " + std::to_string(state.epoch + 1) + " val top-1:";
      for (const auto& r : eval) {
        top1.push_back(r.top1);
        loss.push_back(r.loss);
        char buf[48];
        std::snprintf(buf, sizeof buf, " %.2fx %.1f%%", r.width, 100 * r.top1);
        line += buf;
      }
      log({{"type", "eval"},
           {"epoch", state.epoch + 1},
           {"step", state.step},
           {"widths", model->widths()},
           {"top1", top1},
           {"loss", loss},
           {"best", best}});
      progress.message(line + (best ? "  (best)" : ""));
      // The checkpoint records the position after this epoch.
      ++state.epoch;
      state.next_batch = 0;
      save_epoch(best);
    }
    return true;
  }

  // Temperatures and ECE per width; fills the width reports.
  void calibrate_confidence(const Cached& val, std::vector<WidthReport>& widths) {
    for (size_t i = 0; i < widths.size(); ++i) {
      auto& r = widths[i];
      r.ece_before =
          expected_calibration_error(val.logits[i], val.labels, 1.0, config.calibration.bins);
      r.temperature = config.calibration.enabled ? fit_temperature(val.logits[i], val.labels) : 1.0;
      r.ece_after = expected_calibration_error(val.logits[i], val.labels, r.temperature,
                                               config.calibration.bins);
    }
  }

  GateReport train_gate(WidthGate& gate, const Cached& val,
                        const std::vector<WidthReport>& widths) {
    const auto& g = config.gate;
    const int k = static_cast<int>(widths.size());
    // What choosing width w costs in all: the narrowest pass always runs; a
    // wider choice runs again at its width.
    std::vector<double> costs;
    for (int i = 0; i < k; ++i) costs.push_back(widths[0].mflops + (i > 0 ? widths[i].mflops : 0));
    auto targets_of = [&](const Cached& c) {
      std::vector<at::Tensor> probs;
      for (int i = 0; i < k; ++i)
        probs.push_back(torch::softmax(c.logits[i] / widths[i].temperature, 1));
      return gate_targets(probs, c.labels, g.margin);
    };
    progress.message("gate: caching features of the training clips");
    const Cached train = collect(train_set);
    const at::Tensor train_targets = targets_of(train);
    gate->fit_normalisation(train.features0);
    torch::optim::Adam adam(gate->parameters(), torch::optim::AdamOptions(g.lr));
    const int64_t n = train.labels.size(0), batch = 64;
    gate->train();
    for (int epoch = 0; epoch < g.epochs; ++epoch) {
      Rng rng(derive_seed(config.train.seed, {kGateStream, static_cast<uint64_t>(epoch)}));
      const at::Tensor perm = torch::tensor(shuffled_indices(n, rng), torch::kLong);
      double total = 0;
      for (int64_t b = 0; b < n; b += batch) {
        const at::Tensor idx = perm.slice(0, b, std::min(n, b + batch));
        const at::Tensor scores = gate->forward(train.features0.index_select(0, idx),
                                                train.logits[0].index_select(0, idx));
        const at::Tensor loss =
            gate_loss(scores, train_targets.index_select(0, idx), costs, g.cost_weight);
        adam.zero_grad();
        loss.backward();
        adam.step();
        total += loss.item<double>() * idx.size(0);
      }
      if ((epoch + 1) % std::max(1, g.epochs / 5) == 0 || epoch + 1 == g.epochs) {
        log({{"type", "gate"}, {"epoch", epoch + 1}, {"loss", total / n}});
      }
    }
    gate->eval();
    torch::NoGradGuard no_grad;
    GateReport r;
    r.trained = true;
    CostTally gate_cost;
    const at::Tensor scores = gate->forward(val.features0, val.logits[0], &gate_cost);
    r.gate_mflops = gate_cost.flops / val.labels.size(0) / 1e6;
    const at::Tensor choice = scores.argmax(1);
    const at::Tensor val_targets = targets_of(val);
    r.target_accuracy = choice.eq(val_targets).to(torch::kDouble).mean().item<double>();
    double correct = 0, mflops = 0;
    r.share.assign(k, 0);
    const int64_t m = val.labels.size(0);
    for (int64_t j = 0; j < m; ++j) {
      const int w = static_cast<int>(choice[j].item<int64_t>());
      correct += val.logits[w][j].argmax().item<int64_t>() == val.labels[j].item<int64_t>();
      mflops += costs[w] + r.gate_mflops;
      r.share[w] += 1.0 / m;
    }
    r.top1 = correct / m;
    r.mean_mflops = mflops / m;
    return r;
  }

  TrainReport finish(TrainReport report) {
    const fs::path best = ckpt_dir / "best.pt";
    load_checkpoint(best.string(), *model, nullptr);
    progress.message("final model: best epoch " + std::to_string(state.best_epoch) + " (" +
                     best.string() + ")");
    calibrate_bn();
    const Cached val = collect(val_set);
    std::vector<WidthReport>& widths = report.widths;
    widths = score(val);
    for (size_t i = 0; i < widths.size(); ++i) {
      const CostTally cost = model_cost(*model, static_cast<int>(i), config.data.frames,
                                        config.data.crop, config.data.crop);
      widths[i].mflops = cost.flops / 1e6;
      widths[i].params = cost.params;
    }
    calibrate_confidence(val, widths);

    const int64_t narrow_features = val.features0.size(1);
    WidthGate gate(narrow_features, static_cast<int64_t>(classes.size()),
                   static_cast<int64_t>(widths.size()), config.gate.hidden);
    if (config.gate.enabled) report.gate = train_gate(gate, val, widths);

    Checkpoint final_ckpt = checkpoint_data();
    std::vector<double> temps, mflops, params, top1;
    for (const auto& w : widths) {
      temps.push_back(w.temperature);
      mflops.push_back(w.mflops);
      params.push_back(static_cast<double>(w.params));
      top1.push_back(w.top1);
    }
    final_ckpt.extra = {{"temperature", torch::tensor(temps, torch::kDouble)},
                        {"mflops", torch::tensor(mflops, torch::kDouble)},
                        {"params", torch::tensor(params, torch::kDouble)},
                        {"val_top1", torch::tensor(top1, torch::kDouble)},
                        {"gate_enabled", torch::tensor(config.gate.enabled ? 1 : 0)},
                        {"gate_mflops", torch::tensor(report.gate.gate_mflops, torch::kDouble)}};
    if (writer) {
      save_checkpoint((ckpt_dir / "final.pt").string(), *model, nullptr, final_ckpt,
                      config.gate.enabled ? gate.ptr().get() : nullptr);
      export_checkpoint({(ckpt_dir / "final.pt").string(), (dir / "model.pt").string(), {}});
      progress.message("exported " + (dir / "model.pt").string());
    }
    sync();
    report.finished = true;
    return report;
  }
};

Trainer::Trainer(TrainConfig config, TrainerOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options))) {}

Trainer::~Trainer() = default;

TrainReport Trainer::run() {
  const auto t0 = Clock::now();
  TrainReport report;
  const bool done = impl_->fit();
  report.epochs_run = impl_->state.epoch;
  report.best_epoch = impl_->state.best_epoch;
  report.clips_per_s = impl_->step_seconds > 0 ? impl_->clips_seen / impl_->step_seconds : 0;
  report.data_share = impl_->step_seconds > 0 ? impl_->data_seconds / impl_->step_seconds : 0;
  report.interrupted = impl_->interrupted;
  report.skipped_samples = static_cast<int64_t>(impl_->skipped.size());
  if (done) report = impl_->finish(std::move(report));
  report.seconds = seconds_since(t0);
  if (done && impl_->writer) {
    json widths = json::array();
    for (const auto& w : report.widths) {
      widths.push_back({{"width", w.width},
                        {"val_top1", w.top1},
                        {"val_loss", w.loss},
                        {"mflops", w.mflops},
                        {"params", w.params},
                        {"temperature", w.temperature},
                        {"ece_before", w.ece_before},
                        {"ece_after", w.ece_after}});
    }
    json gate = nullptr;
    if (report.gate.trained) {
      gate = {{"val_top1", report.gate.top1},
              {"mean_mflops", report.gate.mean_mflops},
              {"gate_mflops", report.gate.gate_mflops},
              {"target_accuracy", report.gate.target_accuracy},
              {"share_per_width", report.gate.share}};
    }
    const json j = {{"widths", widths},
                    {"gate", gate},
                    {"best_epoch", report.best_epoch},
                    {"train_clips_per_s", report.clips_per_s},
                    {"data_share", report.data_share},
                    {"skipped_samples", report.skipped_samples},
                    {"seconds", report.seconds}};
    write_file_atomically((impl_->dir / "report.json").string(), j.dump(2) + "\n");
    impl_->log({{"type", "report"}, {"report", j}});
  }
  return report;
}

std::string format_report(const TrainReport& r) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "%-7s %8s %9s %10s %9s %8s %8s\n", "width", "top-1", "MFLOPs",
                "params", "temp", "ECE", "ECE cal");
  out << line;
  for (const auto& w : r.widths) {
    std::snprintf(line, sizeof line, "%-7.3g %7.1f%% %9.1f %10lld %9.2f %8.3f %8.3f\n", w.width,
                  100 * w.top1, w.mflops, static_cast<long long>(w.params), w.temperature,
                  w.ece_before, w.ece_after);
    out << line;
  }
  if (r.gate.trained && !r.widths.empty()) {
    std::snprintf(line, sizeof line,
                  "gate    %7.1f%% %9.1f  (%.0f%% of full-width compute; gate head %.3f MFLOPs)\n",
                  100 * r.gate.top1, r.gate.mean_mflops,
                  100 * r.gate.mean_mflops / r.widths.back().mflops, r.gate.gate_mflops);
    out << line << "        widths chosen:";
    for (size_t i = 0; i < r.gate.share.size(); ++i) {
      std::snprintf(line, sizeof line, " %.3gx %.0f%%", r.widths[i].width, 100 * r.gate.share[i]);
      out << line;
    }
    out << "\n";
  }
  if (r.clips_per_s > 0) {  // no step ran when a finished run is reported again
    std::snprintf(line, sizeof line, "training: %.1f clips/s, %.1f%% of step time waiting for data",
                  r.clips_per_s, 100 * r.data_share);
    out << line;
  }
  std::snprintf(line, sizeof line, "%s%.0f s in all\n", r.clips_per_s > 0 ? ", " : "", r.seconds);
  out << line;
  if (r.skipped_samples > 0) {
    out << "skipped " << r.skipped_samples
        << " bad video(s), named in the warnings above (data.on_bad_sample: skip)\n";
  }
  return out.str();
}

}  // namespace adaptive
