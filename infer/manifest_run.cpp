#include "infer/manifest_run.h"

#include <iostream>
#include <stdexcept>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "datasets/errors.h"

namespace adaptive {
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

  nlohmann::json summary(double wall) const {
    return {{"type", "summary"},
            {"clips", clips},
            {"skipped", skipped},
            {"clip_accuracy", clips ? double(correct) / clips : 0.0},
            {"windows", windows},
            {"mean_mflops_per_window", windows ? mflops / windows : 0.0},
            {"mean_width", windows ? width_sum / windows : 0.0},
            {"gflops", mflops / 1e3},
            {"wall_s", wall},
            {"clips_per_s", wall > 0 ? clips / wall : 0.0}};
  }
};

// How a manifest row's clip is opened: its frames only, as training reads them.
InputOptions clip_input(InputOptions input, const SampleEntry& sample) {
  input.first_frame = sample.start_frame;
  input.last_frame = sample.end_frame;
  return input;
}

// Throughput mode (see the header).
void run_batched(const ModelArtifact& model, const DatasetIndex& index, const InferOptions& o,
                 std::ostream& out, int batch) {
  const ArtifactMetadata& meta = model.metadata();
  const int wi = resolved_fixed_index(o.throttle, model.num_widths());
  const double width = meta.widths.at(wi).width, window_mflops = meta.widths.at(wi).mflops;
  struct ClipResult {
    bool ok = false;
    int64_t windows = 0;
    double confidence = -1;
    int label = 0;
  };
  std::vector<ClipResult> results(index.samples.size());
  std::vector<at::Tensor> pending;
  std::vector<size_t> owners;  // the clip of each pending window
  c10::InferenceMode inference;
  auto flush = [&] {
    if (pending.empty()) return;
    const at::Tensor probs = model.probabilities(model.forward_at(at::cat(pending), wi), wi);
    const auto [confidence, label] = probs.max(1);
    for (size_t k = 0; k < owners.size(); ++k) {
      ClipResult& r = results[owners[k]];
      const double c = confidence[static_cast<int64_t>(k)].item<double>();
      if (c > r.confidence) {
        r.confidence = c;
        r.label = static_cast<int>(label[static_cast<int64_t>(k)].item<int64_t>());
      }
    }
    pending.clear();
    owners.clear();
  };
  const auto t0 = Clock::now();
  for (size_t i = 0; i < index.samples.size(); ++i) {
    const std::string& path = index.samples[i].path;
    try {
      WindowReader reader(open_input(path, clip_input(o.input, index.samples[i])), meta.input,
                          o.reader);
      while (auto window = reader.next()) {
        pending.push_back(window->clip);
        owners.push_back(i);
        ++results[i].windows;
        if (static_cast<int>(pending.size()) == batch) flush();
      }
      if (!reader.end().error.empty()) throw BadSampleError(path, reader.end().error);
      results[i].ok = results[i].windows > 0;
    } catch (const BadSampleError& e) {
      std::cerr << "adaptive-infer: skipping " << e.what() << "\n";
      // Its windows already batched still run; they are not reported.
      results[i].windows = 0;
    }
  }
  flush();
  const double wall = seconds_since(t0);
  ManifestTally tally;
  for (size_t i = 0; i < results.size(); ++i) {
    const ClipResult& r = results[i];
    if (!r.ok) {
      ++tally.skipped;
      continue;
    }
    tally.add(out, index.samples[i].path, index.classes.at(index.samples[i].label),
              meta.labels.at(r.label), r.confidence, r.windows,
              window_mflops * static_cast<double>(r.windows), width);
  }
  nlohmann::json summary = tally.summary(wall);
  summary["batch"] = batch;
  summary["width"] = width;
  out << summary.dump() << "\n";
}

}  // namespace

void run_manifest(const ModelArtifact& model, const std::string& manifest, const InferOptions& o,
                  const ManifestRules& rules, std::ostream& out, int batch) {
  if (batch < 1) throw std::invalid_argument("--batch must be >= 1, got " + std::to_string(batch));
  if (batch > 1 && o.throttle.policy != PolicyKind::kFixed)
    throw std::invalid_argument("--batch needs --policy fixed (got --batch " +
                                std::to_string(batch) +
                                "): the other policies choose each window's width from the one "
                                "before");
  const DatasetIndex index = open_dataset_index(manifest, model.metadata().labels, rules);
  if (batch > 1) return run_batched(model, index, o, out, batch);
  const auto t0 = Clock::now();
  ManifestTally tally;
  InferOptions clip_options = o;
  clip_options.throttle.gate_probe_first = true;  // a clip is a run of its own: it probes
  const RunStart start = start_run(model, clip_options, /*live=*/false);  // once for every clip
  for (const SampleEntry& sample : index.samples) {
    WindowResult best;
    best.confidence = -1;
    RunSummary s;
    clip_options.input = clip_input(o.input, sample);
    try {
      s = run_inference(
          model, sample.path, clip_options,
          [&](const WindowResult& r, const Window&) {
            if (r.confidence > best.confidence) best = r;
          },
          &start);
    } catch (const BadSampleError& e) {
      std::cerr << "adaptive-infer: skipping " << e.what() << "\n";
      ++tally.skipped;
      continue;
    }
    tally.add(out, sample.path, index.classes.at(sample.label), best.label, best.confidence,
              s.windows, s.gflops * 1e3, s.mean_width);
  }
  out << tally.summary(seconds_since(t0)).dump() << "\n";
}

}  // namespace adaptive
