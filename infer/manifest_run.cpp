#include "infer/manifest_run.h"

#include <iostream>
#include <stdexcept>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "datasets/errors.h"
#include "datasets/rng.h"

namespace adaptive {

VideoClipDatasetOptions evaluation_clip_options(const ArtifactMetadata& meta, double folder_fps) {
  const ArtifactInput& in = meta.input;
  VideoClipDatasetOptions o;
  o.sampler.frames = static_cast<int>(in.frames);
  const double stride = config_number(meta, "/data/frame_stride", 0);
  if (stride > 0) {  // as training sampled
    o.sampler.frame_stride = stride;
    o.sampler.target_fps = config_number(meta, "/data/target_fps", 0);
  } else {
    o.sampler.target_fps = in.fps;  // the rate of the frames in a clip
  }
  const auto short_video = nlohmann::json::json_pointer("/data/short_video");
  if (meta.config.is_object() && meta.config.contains(short_video) &&
      meta.config.at(short_video).is_string())
    o.sampler.short_video =
        short_video_names().parse(meta.config.at(short_video).get<std::string>());
  o.transform = eval_transform_options(in.short_side, in.height, in.width, in.mean, in.std);
  o.folder_fps = folder_fps;
  return o;
}

int evaluation_clips(const ArtifactMetadata& meta) {
  return static_cast<int>(config_number(meta, "/data/eval_clips", 1));
}

namespace {

// Clip lines as they come, and the summary line after them.
struct ManifestTally {
  int64_t clips = 0, correct = 0, windows = 0, skipped = 0;
  double mflops = 0, width_sum = 0;

  void add(std::ostream& out, const std::string& path, const std::string& truth,
           const std::string& predicted, double confidence, int64_t clip_windows,
           double clip_mflops, double mean_width) {
    ++clips;
    correct += predicted == truth;
    windows += clip_windows;
    mflops += clip_mflops;
    width_sum += mean_width * static_cast<double>(clip_windows);
    out << nlohmann::json{{"type", "clip"},           {"path", path},
                          {"label", truth},           {"predicted", predicted},
                          {"confidence", confidence}, {"windows", clip_windows},
                          {"mflops", clip_mflops},    {"mean_width", mean_width}}
               .dump()
        << "\n";
  }

  nlohmann::json summary(double wall, int clips_per_video) const {
    return {{"type", "summary"},
            {"clips", clips},
            {"skipped", skipped},
            {"clip_accuracy", clips ? double(correct) / clips : 0.0},
            {"windows_per_clip", clips_per_video},
            {"windows", windows},
            {"mean_mflops_per_window", windows ? mflops / windows : 0.0},
            {"mean_width", windows ? width_sum / windows : 0.0},
            {"gflops", mflops / 1e3},
            {"wall_s", wall},
            {"clips_per_s", wall > 0 ? clips / wall : 0.0}};
  }
};

// A video's evaluation clips as windows; throws BadSampleError.
std::vector<Window> clip_windows(const VideoClipDataset& set, size_t sample, int clips) {
  Rng unused(0);  // evaluation clips draw nothing
  std::vector<Window> windows;
  for (int c = 0; c < clips; ++c) {
    Window w;
    w.index = c;
    w.frames = set.get(sample, /*train=*/false, unused, c, clips).data.unbind(1);
    windows.push_back(std::move(w));
  }
  return windows;
}

// The clip's answer from its windows' calibrated logits [windows, classes].
std::pair<int, double> clip_answer(const at::Tensor& logits) {
  const at::Tensor p = torch::softmax(logits.mean(0), 0);
  const int label = static_cast<int>(p.argmax().item<int64_t>());
  return {label, p[label].item<double>()};
}

// Throughput mode (ManifestOptions::batch).
void run_batched(const ModelArtifact& model, const VideoClipDataset& set, const InferOptions& o,
                 int clips, int batch, std::ostream& out) {
  const ArtifactMetadata& meta = model.metadata();
  const int wi = resolved_fixed_index(o.throttle, model.num_widths());
  const double width = meta.widths.at(wi).width, window_mflops = meta.widths.at(wi).mflops;
  const size_t n = set.size();
  std::vector<std::vector<at::Tensor>> logits(n);  // per clip, per window
  std::vector<at::Tensor> pending;
  std::vector<size_t> owners;  // the clip of each pending window
  c10::InferenceMode inference;
  auto flush = [&] {
    if (pending.empty()) return;
    const at::Tensor l = model.forward_at(at::cat(pending), wi) / meta.widths.at(wi).temperature;
    for (size_t k = 0; k < owners.size(); ++k)
      logits[owners[k]].push_back(l[static_cast<int64_t>(k)]);
    pending.clear();
    owners.clear();
  };
  const auto t0 = Clock::now();
  std::vector<bool> ok(n, false);
  for (size_t i = 0; i < n; ++i) {
    try {
      for (Window& w : clip_windows(set, i, clips)) {
        pending.push_back(w.clip());
        owners.push_back(i);
        if (static_cast<int>(pending.size()) == batch) flush();
      }
      ok[i] = true;
    } catch (const BadSampleError& e) {
      std::cerr << "adaptive-infer: skipping " << e.what() << "\n";
    }
  }
  flush();
  const double wall = seconds_since(t0);
  ManifestTally tally;
  for (size_t i = 0; i < n; ++i) {
    if (!ok[i]) {
      ++tally.skipped;
      continue;
    }
    const auto [label, confidence] = clip_answer(at::stack(logits[i]));
    const SampleEntry& sample = set.index().samples[i];
    tally.add(out, sample.path, set.index().classes.at(sample.label), meta.labels.at(label),
              confidence, clips, window_mflops * clips, width);
  }
  nlohmann::json summary = tally.summary(wall, clips);
  summary["batch"] = batch;
  summary["width"] = width;
  out << summary.dump() << "\n";
}

}  // namespace

void run_manifest(const ModelArtifact& model, const std::string& manifest, const InferOptions& o,
                  const ManifestOptions& m, std::ostream& out) {
  if (m.batch < 1)
    throw std::invalid_argument("--batch must be >= 1, got " + std::to_string(m.batch));
  if (m.batch > 1 && o.throttle.policy != PolicyKind::kFixed)
    throw std::invalid_argument("--batch needs --policy fixed (got --batch " +
                                std::to_string(m.batch) +
                                "): the other policies choose each window's width from the one "
                                "before");
  if (m.clips < 0)
    throw std::invalid_argument("--clips must be >= 1, got " + std::to_string(m.clips));
  const ArtifactMetadata& meta = model.metadata();
  const int clips = m.clips > 0 ? m.clips : evaluation_clips(meta);
  const VideoClipDataset set(open_dataset_index(manifest, meta.labels, m.rules),
                             evaluation_clip_options(meta, m.folder_fps));
  if (m.batch > 1) return run_batched(model, set, o, clips, m.batch, out);
  InferOptions clip_options = o;
  clip_options.throttle.gate_probe_first = true;   // a clip is a run of its own: it probes
  start_run(model, clip_options, /*live=*/false);  // warm every width up once
  const auto t0 = Clock::now();
  ManifestTally tally;
  for (size_t i = 0; i < set.size(); ++i) {
    const SampleEntry& sample = set.index().samples[i];
    std::vector<Window> windows;
    try {
      windows = clip_windows(set, i, clips);
    } catch (const BadSampleError& e) {
      std::cerr << "adaptive-infer: skipping " << e.what() << "\n";
      ++tally.skipped;
      continue;
    }
    const std::vector<WindowResult> results = classify_windows(model, windows, clip_options);
    std::vector<at::Tensor> logits;
    double mflops = 0, width_sum = 0;
    for (const WindowResult& r : results) {
      logits.push_back(r.logits);
      mflops += r.mflops;
      width_sum += r.width;
    }
    const auto [label, confidence] = clip_answer(at::stack(logits));
    tally.add(out, sample.path, set.index().classes.at(sample.label), meta.labels.at(label),
              confidence, static_cast<int64_t>(results.size()), mflops,
              width_sum / static_cast<double>(results.size()));
  }
  out << tally.summary(seconds_since(t0), clips).dump() << "\n";
}

}  // namespace adaptive
