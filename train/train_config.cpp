#include "train/train_config.h"

#include <algorithm>
#include <sstream>

namespace adaptive {

void DataConfig::visit(ConfigVisitor& v) {
  v.field("root", root, "dataset folder (relative to the working directory)");
  v.choice("layout", layout, dataset_layout_names(),
           "how root is laid out: a standard dataset as downloaded (jester, ssv2, ucf101, "
           "kinetics), csv manifests or class folders; auto detects it");
  v.field("train", train,
          "training split in root (manifest, folder or the layout's list); empty: the layout's");
  v.field("val", val, "validation split in root; empty: the layout's");
  v.field("test", test,
          "test split in root (adaptive-train evaluate --split test); empty: the "
          "layout's");
  v.field("classes", classes,
          "class list file in root fixing label order; empty: the layout's own, else sorted "
          "labels of the training split");
  v.field("fold", fold, 1, 3, "UCF101's split (trainlist0N / testlist0N)");
  v.field("train_streams", train_streams,
          "folder in root of long videos with a timeline (<name>.json) beside each: every "
          "segment is a training sample too, its clips labelled by the segment at their middle "
          "and their past the stream before them (synthetic: streams/train); empty: none");
  v.field("synthesize", synthesize,
          "render the synthetic gesture dataset into root when it is missing");
  v.field("synth_seed", synth_seed, "seed of the synthetic dataset");
  v.field("synth_train_per_class", synth_train_per_class, 1, 100000,
          "synthetic training clips per class");
  v.field("synth_val_per_class", synth_val_per_class, 1, 100000,
          "synthetic validation clips per class");
  v.field("synth_test_per_class", synth_test_per_class, 1, 100000,
          "synthetic test clips per class");
  clip.visit(v);
  transform.visit(v);
  v.field("flip_pairs", flip_pairs, "classes that swap under a flip: a:b,c:d");
  v.field("workers", workers, 0, 64, "loader threads");
  v.field("prefetch", prefetch, 1, 256, "batches prepared ahead");
  v.field("cache_mb", cache_mb, 0, 1 << 20, "memory for decoded, resized videos (MB); 0 = off");
  v.choice("on_bad_sample", on_bad_sample, bad_sample_names(),
           "an undecodable video: skip it or stop");
  v.field("allow_outside_root", allow_outside_root,
          "manifests may list paths outside their folder (absolute, or up through ..)");
  v.field("eval_clips", eval_clips, 1, 64, "clips per video in evaluation");
  v.field("folder_fps", folder_fps, 0.1, 1000, "frame rate of frame-folder clips (Jester: 12)");
}

void TrainConfig::visit(ConfigVisitor& v) {
  v.field("schema_version", schema_version, 1, kConfigSchemaVersion, "config format version");
  v.group("data", data);
  v.group("model", model);
  v.field("model.bn_calibration_batches", train.bn_calibration_batches, 1, 100000,
          "universal mode: training batches used to recalibrate BN per width");

  auto& t = train;
  v.field("train.epochs", t.epochs, 1, kMaxEpochs, "epochs");
  v.field("train.min_steps", t.min_steps, 0, 100000000,
          "the fewest optimizer steps of a run: a small dataset trains more epochs to reach "
          "them (the output and report.json say how many); 0 = off");
  v.field("train.batch_size", t.batch_size, 1, 65536,
          "clips per step (per rank in a distributed run, whose global batch is this x ranks)");
  v.field("train.accumulate", t.accumulate, 1, 64,
          "micro-batches per step: the batch is split, gradients averaged (batch norm sees "
          "micro-batches, as the ranks of a distributed run do)");
  v.field("train.dist_timeout_s", t.dist_timeout_s, 1, 86400,
          "distributed runs: a rank that does not answer within this stops the others");
  v.choice("train.optimizer", t.optimizer, {"sgd", "adamw"}, "optimizer");
  v.field("train.lr", t.lr, 0, 10, "peak learning rate");
  v.field("train.momentum", t.momentum, 0, 0.999, "SGD momentum (AdamW: beta1)");
  v.field("train.nesterov", t.nesterov, "SGD Nesterov momentum");
  v.field("train.weight_decay", t.weight_decay, 0, 1, "weight decay (not on BN and biases)");
  v.field("train.warmup_epochs", t.warmup_epochs, 0, 1000,
          "linear warm-up before the cosine schedule");
  v.field("train.min_lr", t.min_lr, 0, 10, "learning rate at the end of the cosine");
  v.field("train.label_smoothing", t.label_smoothing, 0, 0.99, "label smoothing of the label loss");
  v.field("train.balance_classes", t.balance_classes,
          "each epoch draws as many clips as the training set holds, every class equally "
          "likely (with replacement), instead of each clip once");
  v.field("train.balance_power", t.balance_power, 0, 1,
          "with train.balance_classes: a class is drawn with probability proportional to "
          "its count^(1 - power); 1: every class equally, 0.5: by the square root of its count");
  v.field("train.grad_clip", t.grad_clip, 0, 1e6, "max global gradient norm; 0 = off");
  v.choice("train.sampling", t.sampling, width_sampling_names(),
           "widths per step: sandwich (max, min, random), all listed, or the widest only");
  v.field("train.random_widths", t.random_widths, 0, 16, "sandwich: random widths per step");
  v.field("train.distill", t.distill, "narrow widths learn from the widest width's predictions");
  v.field("train.distill_temperature", t.distill_temperature, 0.1, 100,
          "softmax temperature of distillation");
  v.field("train.narrow_weight", t.narrow_weight, 0, 10,
          "sandwich: weight of each narrower width's loss, the widest's being 1");
  v.field("train.widest_first_epochs", t.widest_first_epochs, 0, 100000,
          "epochs at the start that train the widest width alone");
  v.field("train.init_from", t.init_from,
          "start from another run's checkpoint: its weights (the classifier when the classes "
          "match), not its optimizer, schedule or epoch; a plain network's channels are sorted "
          "by importance for the narrower widths");
  v.field("train.seed", t.seed,
          "seed of initialisation, data order, augmentation and width sampling");
  v.field("train.threads", t.threads, 0, 1024, "compute threads; 0 = all cores");
  v.field("train.log_every", t.log_every, 1, 1000000, "steps between metric lines");
  v.field("train.checkpoint_every", t.checkpoint_every, 0, 100000000,
          "steps between mid-epoch checkpoints; 0 = epochs only");
  v.field("train.keep_checkpoints", t.keep_checkpoints, 1, 1000, "epoch checkpoints kept");
  v.field("train.export_onnx", t.export_onnx,
          "also export the final model as model.onnx beside model.pt (docs/artifact.md)");
  v.choice("train.best_metric", t.best_metric, {"top1_max", "top1_mean", "top1_min"},
           "validation metric choosing checkpoints/best.pt: top-1 at the widest, mean or narrowest "
           "width");

  auto& g = gate;
  v.field("gate.enabled", g.enabled, "train a width gate after the network");
  v.field("gate.epochs", g.epochs, 1, 100000, "gate training epochs (on cached features)");
  v.field("gate.lr", g.lr, 1e-6, 10, "gate learning rate (Adam)");
  v.field("gate.hidden", g.hidden, 1, 4096, "gate hidden units");
  v.field("gate.margin", g.margin, 0, 1,
          "target: narrowest width correct with p(label) - p(other) >= margin");
  v.field("gate.holdout", g.holdout, 0, 0.5,
          "share of each class's training clips the network does not train on, from which the "
          "gate's targets are made (0: the training clips themselves)");
  v.field("gate.target_compute", g.target_compute, 0.01, 2,
          "mean compute of the gate's choices on val, as a share of the widest width alone "
          "(the narrowest pass and gate head included): the operating point");

  v.field("calibration.enabled", calibration.enabled,
          "fit a softmax temperature per width on validation");
  v.field("calibration.bins", calibration.bins, 2, 100, "bins of the expected calibration error");
}

namespace {

void check(const TrainConfig& c) {
  auto fail = [](const std::string& msg) { throw ConfigError(msg); };
  try {
    validate(c.model);  // the model's own checks, messages naming model.* keys
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }
  const auto& t = c.data.transform;
  if (t.crop_height > t.short_side) {
    fail("data.crop: expected at most data.short_side (" + std::to_string(t.short_side) +
         "), got " + std::to_string(t.crop_height));
  }
  const auto& w = c.model.widths;
  if (c.train.sampling == WidthSampling::kSingle && w.size() != 1) {
    fail("train.sampling: 'single' trains one width; set model.widths to that one width (got " +
         std::to_string(w.size()) + " widths)");
  }
  if (c.train.min_lr > c.train.lr) fail("train.min_lr: expected at most train.lr");
  if (c.train.widest_first_epochs >= c.train.epochs) {  // no epoch could make best.pt
    fail("train.widest_first_epochs: expected fewer than train.epochs (" +
         std::to_string(c.train.epochs) + "), got " + std::to_string(c.train.widest_first_epochs) +
         ": the narrower widths would never train");
  }
  if (c.data.clip.past_frames > 0 && !c.model.causal) {
    fail("data.past_frames: only a causal model (model.causal: true) streams with a past; got " +
         std::to_string(c.data.clip.past_frames) + " for a model that sees the whole window");
  }
  if (c.data.clip.past_other > 0 && c.data.clip.past_frames == 0) {
    fail(
        "data.past_other: the share of clips whose past frames come from other videos needs "
        "past frames (data.past_frames > 0); got " +
        nlohmann::json(c.data.clip.past_other).dump() + " with none");
  }
  if (c.train.balance_power != 1.0 && !c.train.balance_classes) {
    fail(
        "train.balance_power: weighs the classes of balanced epochs, which need "
        "train.balance_classes: true; got " +
        nlohmann::json(c.train.balance_power).dump() + " without");
  }
  if (c.model.pool_frames > c.data.clip.frames) {
    fail("model.pool_frames: expected at most data.frames (" + std::to_string(c.data.clip.frames) +
         "), the window it pools, got " + std::to_string(c.model.pool_frames));
  }
  if (c.gate.enabled && w.size() < 2)
    fail("gate.enabled: a gate needs at least 2 widths in model.widths");
}

}  // namespace

TrainConfig train_config_from_json(const nlohmann::json& j) {
  TrainConfig c;
  config_from_json(j, c);
  check(c);
  return c;
}

TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides) {
  nlohmann::json j = read_json_file(path);
  for (const auto& o : overrides) apply_override(j, o);
  try {
    return train_config_from_json(j);
  } catch (const ConfigError& e) {
    // A value that came from --set is blamed on the option, not the file.
    const std::string what = e.what();
    for (auto o = overrides.rbegin(); o != overrides.rend(); ++o) {
      if (what.rfind(o->substr(0, o->find('=')) + ":", 0) == 0)
        throw ConfigError("--set '" + *o + "' (over " + path + "): " + what);
    }
    throw ConfigError(path + ": " + what);
  }
}

ModelOptions model_options(const TrainConfig& c, int64_t num_classes) {
  ModelOptions o = c.model;
  o.num_classes = num_classes;
  return o;
}

VideoClipDatasetOptions clip_dataset_options(const TrainConfig& c,
                                             const std::vector<std::string>& classes) {
  const auto& d = c.data;
  VideoClipDatasetOptions o;
  o.sampler = d.clip;
  o.transform = d.transform;
  if (d.transform.horizontal_flip) {
    std::vector<int>& map = o.transform.flip_label_map;
    for (size_t i = 0; i < classes.size(); ++i) map.push_back(static_cast<int>(i));
    std::stringstream pairs(d.flip_pairs);
    std::string pair;
    while (std::getline(pairs, pair, ',')) {
      const auto colon = pair.find(':');
      auto index = [&](const std::string& name) {
        auto it = std::find(classes.begin(), classes.end(), name);
        if (it == classes.end())
          throw ConfigError("data.flip_pairs: '" + name + "' is not a class");
        return static_cast<int>(it - classes.begin());
      };
      if (colon == std::string::npos)
        throw ConfigError("data.flip_pairs: expected a:b pairs, got '" + pair + "'");
      const int a = index(pair.substr(0, colon)), b = index(pair.substr(colon + 1));
      map[a] = b;
      map[b] = a;
    }
  }
  o.cache_mb = d.cache_mb;
  o.folder_fps = d.folder_fps;
  return o;
}

DataLoaderOptions loader_options(const TrainConfig& c, bool train) {
  DataLoaderOptions o;
  o.batch_size = c.train.batch_size;
  o.workers = c.data.workers;
  o.prefetch = c.data.prefetch;
  o.train = train;
  o.balance_classes = train && c.train.balance_classes;
  o.balance_power = c.train.balance_power;
  o.drop_last = train;
  o.clips_per_video = train ? 1 : c.data.eval_clips;
  o.seed = c.train.seed;
  o.on_bad_sample = c.data.on_bad_sample;
  return o;
}

SynthOptions synth_options(const TrainConfig& c) {
  SynthOptions o;
  o.out_dir = c.data.root;
  o.seed = c.data.synth_seed;
  o.train_per_class = c.data.synth_train_per_class;
  o.val_per_class = c.data.synth_val_per_class;
  o.test_per_class = c.data.synth_test_per_class;
  return o;
}

}  // namespace adaptive
