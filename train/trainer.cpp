#include "train/trainer.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/threads.h"
#include "datasets/errors.h"
#include "models/device.h"
#include "models/width_gate.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/evaluation.h"
#include "train/final_model.h"
#include "train/gate_training.h"
#include "train/init_from.h"
#include "train/optimizer.h"
#include "train/progress.h"
#include "train/run_directory.h"
#include "train/sandwich.h"
#include "train/training_data.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace adaptive {
namespace {

constexpr uint64_t kWidthStream = 0x57494454ULL;  // seeds of per-step width sampling
constexpr uint64_t kPastStream = 0x50415354ULL;   // seeds of per-step past frames (kept or not)

}  // namespace

struct Trainer::Impl {
  TrainConfig config;
  TrainerOptions options;
  c10::Device device{c10::kCPU};
  RunDirectory run_dir;
  TrainingData data;
  ProcessGroup* group = nullptr;  // distributed run, or null
  int ranks = 1;
  bool interrupted = false;
  std::unique_ptr<DataLoader> train_loader;
  std::mutex warned_mutex;
  std::set<std::string> warned;     // "skipping PATH: why", printed once each
  std::set<std::string> bad_files;  // skipped by the loaders that have ended
  std::shared_ptr<SlimmableNet> model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  TrainingState state;
  ProgressReporter progress{1, 1, 1};
  std::string config_json;
  double data_seconds = 0, step_seconds = 0;
  double compute_seconds = 0, compute_cpu_seconds = 0;  // train_step's wall and this thread's CPU
  double setup_seconds = 0, preload_seconds = 0, epoch_end_seconds = 0;
  int64_t clips_seen = 0;
  std::optional<InitFromSummary> init_summary;  // train.init_from

  Impl(TrainConfig c, TrainerOptions o)
      : config(std::move(c)),
        options(std::move(o)),
        run_dir(options.out_dir, !options.group || options.group->rank() == 0) {
    device = select_device(options.device);
    config_json = config_to_json(config).dump(2);
    group = options.group.get();
    ranks = group ? group->world_size() : 1;
    if (!run_dir.writer()) options.progress = false;
    progress = ProgressReporter(config.train.epochs, 1, config.train.log_every, options.progress);

    const bool has_run = run_dir.has_run();
    if (options.resume.empty() && has_run) {
      throw std::runtime_error(run_dir.path().string() +
                               ": already holds a run (checkpoints/last.pt); pass --resume auto to "
                               "continue it or choose another --out");
    }
    open_data();
    raise_epochs_to_min_steps();
    torch::manual_seed(config.train.seed);
    model = build_model(model_options(config, static_cast<int64_t>(data.classes.size())));
    if (!config.train.init_from.empty() && !(has_run && !options.resume.empty())) {
      const InitFromSummary init = init_from_checkpoint(
          *model, data.classes, config.train.init_from, config.data.clip.frames);
      progress.message(describe(init, config.train.init_from));
      init_summary = init;
    }
    model->to(device);
    optimizer = make_optimizer(*model, config.train);
    if (!options.resume.empty()) resume(has_run);
    if (group) {  // every rank starts from rank 0's weights
      std::vector<at::Tensor> state_tensors = model->parameters();
      for (const auto& b : model->buffers()) state_tensors.push_back(b);
      group->broadcast(state_tensors, 0);
      progress.message("distributed: " + std::to_string(ranks) + " ranks (" + group->backend() +
                       "), global batch " + std::to_string(config.train.batch_size * ranks));
    }
    run_dir.open(config_json, state.step);
  }

  // The dataset and the training loader (this rank's shard).
  void open_data() {
    data = open_training_data(config, [this](const std::string& m) { progress.message(m); });
    DataLoaderOptions train_options = loader(true);
    train_options.shard_index = group ? group->rank() : 0;
    train_options.shard_count = ranks;
    train_loader = std::make_unique<DataLoader>(data.train, train_options);
    if (train_loader->batches_per_epoch() == 0) {
      throw ConfigError("train.batch_size: " + std::to_string(config.train.batch_size) +
                        " is larger than the " + std::to_string(data.train->size()) +
                        " training clips");
    }
  }

  // train.min_steps: epochs of a few steps each (a small dataset) are
  // raised until the run takes that many steps. Resolved from the data, so
  // a resumed run resolves the same.
  void raise_epochs_to_min_steps() {
    auto& t = config.train;
    const int64_t per_epoch = train_loader->batches_per_epoch();
    if (per_epoch * t.epochs >= t.min_steps) return;
    const int64_t epochs = (t.min_steps + per_epoch - 1) / per_epoch;
    if (epochs > kMaxEpochs)
      throw ConfigError("train.min_steps: " + std::to_string(t.min_steps) + " would take " +
                        std::to_string(epochs) + " epochs of " + std::to_string(per_epoch) +
                        " steps (at most " + std::to_string(kMaxEpochs) + ")");
    progress.message("train.min_steps " + std::to_string(t.min_steps) + ": " +
                     std::to_string(per_epoch) + " steps an epoch, so " + std::to_string(epochs) +
                     " epochs instead of train.epochs " + std::to_string(t.epochs));
    t.epochs = static_cast<int>(epochs);
  }

  // Weights, optimizer and position from options.resume ("auto": last.pt).
  void resume(bool has_run) {
    const bool automatic = options.resume == "auto";
    const std::string path = automatic ? run_dir.checkpoint("last.pt").string() : options.resume;
    if (automatic && !has_run) {
      progress.message("no checkpoint in " + run_dir.checkpoint("").string() +
                       ": starting a new run");
      return;
    }
    const Checkpoint c = load_checkpoint(path, *model, optimizer.get());
    if (json::parse(c.config_json).at("model") != json::parse(config_json).at("model")) {
      throw ConfigError(path + ": the checkpoint's model config differs from this config's");
    }
    state = c.state;
    if (!fs::exists(run_dir.checkpoint("best.pt"))) {  // resumed from elsewhere: no best yet
      state.best_metric = -1;
      state.best_epoch = -1;
    }
    if (state.epoch >= config.train.epochs) {
      progress.message(path + ": the run has finished its " + std::to_string(state.epoch) +
                       " epochs; calibrating, training the gate and reporting again");
    } else {
      progress.message("resuming from " + path + " at epoch " + std::to_string(state.epoch + 1) +
                       ", batch " + std::to_string(state.next_batch) + " (step " +
                       std::to_string(state.step) + ")");
    }
  }

  // Loader options of this run: a bad sample skipped by any of its loaders
  // is warned about once and counted.
  DataLoaderOptions loader(bool train) {
    DataLoaderOptions o = loader_options(config, train);
    o.warn = [this](const std::string& message) {
      std::lock_guard<std::mutex> lock(warned_mutex);
      if (warned.insert(message).second) std::cerr << "warning: " << message << "\n";
    };
    return o;
  }

  // The others wait until rank 0 has written (checkpoints are read by every
  // rank on resume and at the end).
  void sync() {
    if (group) group->barrier();
  }

  Checkpoint checkpoint_data() const {
    return {state, config_json, {}, data.classes, data.clip_fps};
  }

  void save_last() {
    average_bn_statistics(group, *model);
    run_dir.save_last(*model, optimizer.get(), checkpoint_data());
    sync();
  }

  void recalibrate_bn() {
    DataLoaderOptions o = loader(true);  // shuffled training clips, as in training
    o.seed = config.train.seed + 1;
    adaptive::recalibrate_bn(*model, data.train, o, config.train.bn_calibration_batches, device);
  }

  SplitOutputs outputs(const std::shared_ptr<VideoClipDataset>& set) {
    SplitOutputs out = collect_outputs(*model, set, loader(false), device);
    bad_files.insert(out.bad_files.begin(), out.bad_files.end());
    return out;
  }

  // Distinct bad videos skipped so far, by any loader of the run.
  int64_t skipped_samples() const {
    std::set<std::string> files = bad_files;
    for (const std::string& f : train_loader->bad_files()) files.insert(f);
    return static_cast<int64_t>(files.size());
  }

  std::vector<WidthReport> evaluate() {
    recalibrate_bn();
    return score_widths(outputs(data.val), model->widths());
  }

  // Decodes the run's videos into the caches before the first step, on as
  // many threads as the model step computes on: while training, the loader
  // decodes on a core the step also uses, and the first epoch ran at half
  // speed (docs/benchmarks.md, "Training speed").
  void preload_data() {
    if (config.data.cache_mb <= 0) return;
    const auto t0 = Clock::now();
    const int threads = at::get_num_threads();
    int64_t files = 0, samples = 0, bytes = 0;
    for (const auto& set : {data.train, data.val, data.gate}) {
      if (!set) continue;
      files += set->preload(threads, options.stop_requested);
      samples += static_cast<int64_t>(set->size());
      bytes += set->cache_stats().bytes;
    }
    preload_seconds = seconds_since(t0);
    char line[200];
    std::snprintf(line, sizeof line,
                  "decoded %lld video files (%.0f MB) into the cache in %.1f s on %d thread(s); "
                  "the run has %lld samples",
                  static_cast<long long>(files), static_cast<double>(bytes) / (1 << 20),
                  preload_seconds, threads, static_cast<long long>(samples));
    progress.message(line);
  }

  // Whether the current epoch trains the widest width alone (train.widest_first_epochs).
  bool widest_only_epoch() const { return state.epoch < config.train.widest_first_epochs; }

  struct StepResult {
    std::vector<double> losses;  // per width of the step
    json widths;                 // the widths it trained
  };

  // One optimizer step on `batch` at learning rate `lr`.
  StepResult train_step(const Batch& batch, double lr) {
    const auto& t = config.train;
    set_learning_rate(*optimizer, lr);
    Rng rng(derive_seed(t.seed, {kWidthStream, static_cast<uint64_t>(state.step)}));
    const WidthSampling sampling = widest_only_epoch() ? WidthSampling::kSingle : t.sampling;
    const auto choices = sample_step_widths(sampling, model->widths(), model->options().width_mode,
                                            t.random_widths, rng);
    clear_gradients(*optimizer);
    // Clips with past frames (data.past_frames): half the steps keep them,
    // as a stream sees its window, half the window alone, as a window or a
    // rebuilt stream sees it.
    at::Tensor clips = batch.clips;
    SandwichOptions sandwich{t.distill, t.distill_temperature, t.label_smoothing, t.narrow_weight};
    const int64_t window = config.data.clip.frames;
    if (clips.size(2) > window) {
      Rng past(derive_seed(t.seed, {kPastStream, static_cast<uint64_t>(state.step)}));
      if (past.uniform(0, 1) < 0.5) {
        sandwich.pooled_frames = window;
      } else {
        clips = clips.narrow(2, clips.size(2) - window, window);
      }
    }
    std::vector<double> losses;
    try {
      losses = accumulated_sandwich_step(*model, clips.to(device), batch.labels.to(device), choices,
                                         sandwich, t.accumulate);
    } catch (const NonFiniteLoss& e) {
      const fs::path last = run_dir.checkpoint("last.pt");
      throw std::runtime_error("training diverged at epoch " + std::to_string(state.epoch + 1) +
                               ", step " + std::to_string(state.step + 1) + ": " + e.what() +
                               (fs::exists(last) ? "; the last good checkpoint is " + last.string()
                                                 : "; no checkpoint was written yet") +
                               " (try a lower train.lr or train.grad_clip)");
    }
    average_gradients(group, *model);
    if (t.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), t.grad_clip);
    optimizer->step();
    ++state.step;
    state.next_batch = batch.index + 1;  // batches of bad samples only are passed over
    StepResult r{std::move(losses), json::array()};
    for (const auto& c : choices) r.widths.push_back(c.width);
    return r;
  }

  // After a step: checkpoint when due; whether the run stops here (a stop
  // request on any rank, or stop_after_steps).
  bool checkpoint_or_stop() {
    const auto& t = config.train;
    if (t.checkpoint_every > 0 && state.step % t.checkpoint_every == 0) save_last();
    const std::string last = run_dir.checkpoint("last.pt").string();
    if (any_rank(group, options.stop_requested && options.stop_requested->load())) {
      save_last();
      interrupted = true;
      progress.message("interrupted at epoch " + std::to_string(state.epoch + 1) + ", step " +
                       std::to_string(state.step) + "; checkpoint " + last);
      return true;
    }
    if (options.stop_after_steps > 0 && state.step >= options.stop_after_steps) {
      save_last();
      progress.message("stopped after " + std::to_string(state.step) + " steps; checkpoint " +
                       last);
      return true;
    }
    return false;
  }

  // Validation at the end of an epoch, the best checkpoint so far, the epoch
  // checkpoint.
  void end_epoch() {
    progress.end_epoch();
    average_bn_statistics(group, *model);
    const auto eval = evaluate();
    const double metric = best_metric(config.train.best_metric, eval);
    // An epoch that trained the widest width alone leaves the others
    // untrained: it never makes the best checkpoint.
    const bool best = !widest_only_epoch() && metric > state.best_metric;
    if (best) {
      state.best_metric = metric;
      state.best_epoch = state.epoch + 1;
    }
    json top1 = json::array(), loss = json::array();
    for (const auto& r : eval) {
      top1.push_back(r.top1);
      loss.push_back(r.loss);
    }
    run_dir.log({{"type", "eval"},
                 {"epoch", state.epoch + 1},
                 {"step", state.step},
                 {"widths", model->widths()},
                 {"top1", top1},
                 {"loss", loss},
                 {"best", best}});
    progress.message("epoch " + std::to_string(state.epoch + 1) +
                     " val top-1:" + format_top1(eval) + (best ? "  (best)" : ""));
    // The checkpoint records the position after this epoch.
    ++state.epoch;
    state.next_batch = 0;
    run_dir.save_epoch(*model, optimizer.get(), checkpoint_data(), best,
                       config.train.keep_checkpoints);
    sync();
  }

  // Trains until the configured epochs are done; false if stopped early.
  bool fit() {
    const auto& t = config.train;
    const int64_t steps_per_epoch = train_loader->batches_per_epoch();
    const int64_t total_steps = steps_per_epoch * t.epochs;
    const int64_t warmup = static_cast<int64_t>(std::llround(t.warmup_epochs * steps_per_epoch));
    progress = ProgressReporter(t.epochs, steps_per_epoch, t.log_every, options.progress);
    if (state.epoch < t.epochs) preload_data();
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
        const double cpu0 = thread_cpu_seconds();
        const StepResult step = train_step(*batch, lr);
        const double step_cpu = thread_cpu_seconds() - cpu0;
        const double took = seconds_since(t0), step_wall = took - waited;
        const double clips_per_s = ranks * batch->clips.size(0) / took;  // the global batch
        data_seconds += waited;
        step_seconds += took;
        compute_seconds += step_wall;
        compute_cpu_seconds += step_cpu;
        clips_seen += batch->clips.size(0) * ranks;
        const double loss = step.losses.front();
        smoothed = smoothed < 0 ? loss : 0.9 * smoothed + 0.1 * loss;
        progress.step(state.epoch, batch->index, smoothed, clips_per_s, lr);
        if (state.step % t.log_every == 0) {
          run_dir.log({{"type", "train"},
                       {"epoch", state.epoch + 1},
                       {"step", state.step},
                       {"lr", lr},
                       {"loss", step.losses},
                       {"widths", step.widths},
                       {"clips_per_s", clips_per_s},
                       {"data_share", waited / took},
                       {"compute_busy", step_cpu / step_wall}});
        }
        if (checkpoint_or_stop()) return false;
      }
      const auto end_start = Clock::now();
      end_epoch();
      epoch_end_seconds += seconds_since(end_start);
    }
    return true;
  }

  // From the best weights: BN recalibration, per-width figures, the gate,
  // checkpoints/final.pt and model.pt (train/final_model.h).
  TrainReport finish(TrainReport report) {
    const fs::path best = run_dir.checkpoint("best.pt");
    load_checkpoint(best.string(), *model, nullptr);
    progress.message("final model: best epoch " + std::to_string(state.best_epoch) + " (" +
                     best.string() + ")");
    recalibrate_bn();
    const SplitOutputs val = outputs(data.val);
    report.widths = final_width_reports(*model, val, config);
    if (init_summary) {
      report.init_from =
          InitReport{config.train.init_from, init_summary->classifier_reset, init_summary->sorted};
    }
    report.data = {dataset_layout_names().name(data.layout), data.classes,
                   static_cast<int64_t>(data.train->size()),
                   data.gate ? static_cast<int64_t>(data.gate->size()) : 0,
                   static_cast<int64_t>(data.val->size())};
    WidthGate gate(gate_options_for(*model, config.gate.hidden));
    if (config.gate.enabled) {
      progress.message(data.gate ? "gate: caching features of the " +
                                       std::to_string(data.gate->size()) + " held-out clips"
                                 : std::string("gate: caching features of the training clips"));
      report.gate = train_gate(gate, outputs(data.gate ? data.gate : data.train), val,
                               report.widths, config.gate, config.train.seed,
                               [this](const json& line) { run_dir.log(line); });
      report.gate.held_out_clips = data.gate ? static_cast<int64_t>(data.gate->size()) : 0;
    }
    if (run_dir.writer()) {
      const std::string model_path = write_final_model(
          run_dir, *model, checkpoint_data(),
          final_model_info(report.widths, report.gate, config.gate.enabled),
          config.gate.enabled ? gate.ptr().get() : nullptr, config.train.export_onnx);
      progress.message("exported " + model_path);
    }
    sync();
    report.finished = true;
    return report;
  }
};

Trainer::Trainer(TrainConfig config, TrainerOptions options) {
  const auto t0 = Clock::now();
  impl_ = std::make_unique<Impl>(std::move(config), std::move(options));
  impl_->setup_seconds = seconds_since(t0);
}

Trainer::~Trainer() = default;

TrainReport Trainer::run() {
  const auto t0 = Clock::now();
  Impl& impl = *impl_;
  TrainReport report;
  const bool done = impl.fit();
  report.epochs_run = impl.state.epoch;
  report.steps = impl.state.step;
  report.best_epoch = impl.state.best_epoch;
  report.clips_per_s = impl.step_seconds > 0 ? impl.clips_seen / impl.step_seconds : 0;
  report.data_share = impl.step_seconds > 0 ? impl.data_seconds / impl.step_seconds : 0;
  report.compute_busy =
      impl.compute_seconds > 0 ? impl.compute_cpu_seconds / impl.compute_seconds : 0;
  report.interrupted = impl.interrupted;
  const auto final_start = Clock::now();
  if (done) report = impl.finish(std::move(report));
  report.skipped_samples = impl.skipped_samples();  // the gate's loader counts too
  report.times = {impl.setup_seconds, impl.preload_seconds, impl.step_seconds,
                  impl.epoch_end_seconds, seconds_since(final_start)};
  report.seconds = impl.setup_seconds + seconds_since(t0);
  if (done) {
    const json j = report_json(report);
    impl.run_dir.write_report(j);
    try {  // a picture of report.json's figures: not worth failing a finished run for
      impl.run_dir.write_confusion_image(report.data.classes, report.widths);
    } catch (const std::exception& e) {
      std::cerr << "warning: confusion.png not written: " << e.what() << "\n";
    }
    impl.run_dir.log({{"type", "report"}, {"report", j}});
  }
  return report;
}

}  // namespace adaptive
