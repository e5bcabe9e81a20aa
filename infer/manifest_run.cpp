#include "infer/manifest_run.h"

#include <iostream>

#include <nlohmann/json.hpp>

#include "datasets/errors.h"

namespace adaptive {

void run_manifest(const ModelArtifact& model, const std::string& manifest, const InferOptions& o,
                  const ManifestRules& rules, std::ostream& out) {
  const DatasetIndex index = open_dataset_index(manifest, model.metadata().labels, rules);
  int64_t clips = 0, correct = 0, windows = 0, failed = 0;
  double mflops = 0, width_sum = 0, wall = 0;
  for (const SampleEntry& sample : index.samples) {
    WindowResult best;
    best.confidence = -1;
    RunSummary s;
    try {
      s = run_inference(model, sample.path, o, [&](const WindowResult& r, const Window&) {
        if (r.confidence > best.confidence) best = r;
      });
    } catch (const BadSampleError& e) {
      std::cerr << "adaptive-infer: skipping " << e.what() << "\n";
      ++failed;
      continue;
    }
    ++clips;
    const std::string& truth = index.classes.at(sample.label);
    correct += best.label == truth;
    windows += s.windows;
    mflops += s.gflops * 1e3;
    width_sum += s.mean_width * static_cast<double>(s.windows);
    wall += s.wall_s;
    out << nlohmann::json{{"type", "clip"},
                          {"path", sample.path},
                          {"label", truth},
                          {"predicted", best.label},
                          {"confidence", best.confidence},
                          {"windows", s.windows},
                          {"mflops", s.gflops * 1e3},
                          {"mean_width", s.mean_width}}
               .dump()
        << "\n";
  }
  out << nlohmann::json{{"type", "summary"},
                        {"clips", clips},
                        {"skipped", failed},
                        {"clip_accuracy", clips ? double(correct) / clips : 0.0},
                        {"windows", windows},
                        {"mean_mflops_per_window", windows ? mflops / windows : 0.0},
                        {"mean_width", windows ? width_sum / windows : 0.0},
                        {"gflops", mflops / 1e3},
                        {"wall_s", wall}}
             .dump()
      << "\n";
}

}  // namespace adaptive
