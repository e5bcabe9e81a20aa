#include "train/exporter.h"

#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <torch/script.h>
#include <torch/torch.h>

#include "models/script_export.h"
#include "train/checkpoint.h"
#include "train/train_config.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace adaptive {
namespace {

// Indices of `wanted` in the model's widths; all of them when empty.
std::vector<int> width_indices(const std::vector<double>& model_widths,
                               const std::vector<double>& wanted) {
  std::vector<int> indices;
  if (wanted.empty()) {
    for (size_t i = 0; i < model_widths.size(); ++i) indices.push_back(static_cast<int>(i));
  }
  for (double w : wanted) {
    int found = -1;
    for (size_t i = 0; i < model_widths.size(); ++i) {
      if (std::abs(model_widths[i] - w) < 1e-6) found = static_cast<int>(i);
    }
    if (found < 0) {
      std::ostringstream msg;
      msg << "export: width " << w << " is not one of the model's widths ("
          << json(model_widths).dump() << ")";
      throw std::invalid_argument(msg.str());
    }
    indices.push_back(found);
  }
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  return indices;
}

// extra[name][i] (or the scalar extra[name]) when the checkpoint has it (a
// final checkpoint), else fallback.
double extra_at(const Checkpoint& c, const std::string& name, int i, double fallback) {
  const auto it = c.extra.find(name);
  if (it == c.extra.end()) return fallback;
  return (it->second.dim() == 0 ? it->second : it->second[i]).item<double>();
}

}  // namespace

ExportSummary export_checkpoint(const ExportOptions& options) {
  const std::string& path = options.checkpoint;
  const Checkpoint info = read_checkpoint(path);
  const TrainConfig config = train_config_from_json(json::parse(info.config_json));
  if (info.labels.empty()) {
    throw std::runtime_error(path +
                             ": the checkpoint holds no class labels (written by an older "
                             "adaptive-train); retrain or resume the run to export it");
  }
  const bool final_model = info.extra.count("temperature") > 0;
  const ModelOptions model_opts = model_options(config, static_cast<int64_t>(info.labels.size()));
  if (model_opts.width_mode == WidthMode::kUniversal && !final_model) {
    throw std::runtime_error(path +
                             ": a universal-width checkpoint whose batch-norm statistics "
                             "were not recalibrated per width; export the run's "
                             "checkpoints/final.pt");
  }
  auto model = build_model(model_opts);
  const bool has_gate = final_model && extra_at(info, "gate_enabled", 0, 0) > 0;
  const std::vector<int> indices = width_indices(model->widths(), options.widths);
  const bool with_gate = has_gate && indices.size() == model->widths().size();
  WidthGate gate(
      channels_at(model->feature_channels(), model->widths().front(), model_opts.channel_multiple),
      static_cast<int64_t>(info.labels.size()), static_cast<int64_t>(model->widths().size()),
      config.gate.hidden);
  load_checkpoint(path, *model, nullptr, has_gate ? gate.ptr().get() : nullptr);
  model->eval();
  gate->eval();

  const ScriptInputShape shape{3, config.data.frames, config.data.crop, config.data.crop};
  torch::jit::Module module =
      lower_to_torchscript(*model, with_gate ? gate.get() : nullptr, indices, shape);

  json widths = json::array(), cost = json::array(), temperature = json::array(),
       top1 = json::array();
  for (int i : indices) {
    const double w = model->widths()[i];
    const CostTally c = model_cost(*model, i, shape.frames, shape.height, shape.width);
    widths.push_back(w);
    cost.push_back({{"width", w}, {"mflops", c.flops / 1e6}, {"params", c.params}});
    temperature.push_back(extra_at(info, "temperature", i, 1.0));
    if (final_model) top1.push_back(extra_at(info, "val_top1", i, 0.0));
  }
  json gate_info = nullptr;
  if (with_gate) {
    gate_info = {{"mflops", extra_at(info, "gate_mflops", 0, 0.0)},
                 {"reads", "features and class probabilities of the narrowest width"},
                 {"forward_gated", "narrowest width + gate head + the chosen width when wider"}};
  }
  const json metadata = {
      {"format", kArtifactFormat},
      {"format_version", kArtifactFormatVersion},
      {"labels", info.labels},
      {"input",
       {{"frames", shape.frames},
        {"height", shape.height},
        {"width", shape.width},
        {"channels", shape.channels},
        {"layout", "NCTHW"},
        {"color", "RGB"},
        {"mean", config.data.mean},
        {"std", config.data.std},
        {"fps", info.clip_fps},
        {"resize", {{"short_side", config.data.short_side}, {"crop", "center"}}}}},
      {"widths", widths},
      {"default_width", widths.back()},
      {"cost", cost},
      {"temperature", temperature},
      {"calibrated", final_model && config.calibration.enabled},
      {"metrics", final_model ? json{{"val_top1", top1}} : json::object()},
      {"gate", gate_info},
      {"producer", {{"name", "adaptive-video"}, {"version", ADAPTIVE_VERSION}}},
      {"source", {{"checkpoint", fs::path(path).filename().string()}, {"step", info.state.step}}},
      {"config", json::parse(info.config_json)}};

  std::ostringstream bytes;
  module.save(bytes, {{kArtifactMetadataFile, metadata.dump(2)}});
  const fs::path out(options.out);
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  write_file_atomically(out.string(), bytes.str());
  return {metadata, static_cast<int64_t>(bytes.str().size())};
}

}  // namespace adaptive
