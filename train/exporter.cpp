#include "train/exporter.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <torch/script.h>
#include <torch/torch.h>

#include "common/atomic_file.h"
#include "models/artifact_format.h"
#include "models/onnx_export.h"
#include "models/script_export.h"
#include "train/trained_model.h"

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
    const std::optional<int> found = find_width_index(model_widths, w);
    if (!found) {
      std::ostringstream msg;
      msg << "export: width " << w << " is not one of the model's widths ("
          << json(model_widths).dump() << ")";
      throw std::invalid_argument(msg.str());
    }
    indices.push_back(*found);
  }
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  return indices;
}

}  // namespace

const NameTable<ExportFormat>& export_format_names() {
  static const NameTable<ExportFormat> t(
      "export format",
      {{ExportFormat::kTorchScript, "torchscript"}, {ExportFormat::kOnnx, "onnx"}});
  return t;
}

ExportFormat export_format_for(const std::string& path) {
  return fs::path(path).extension() == ".onnx" ? ExportFormat::kOnnx : ExportFormat::kTorchScript;
}

ExportSummary export_checkpoint(const ExportOptions& options) {
  const std::string& path = options.checkpoint;
  const TrainedModel trained = load_trained_model(path, "export");
  const Checkpoint& info = trained.checkpoint;
  const TrainConfig& config = trained.config;
  const std::optional<FinalModelInfo>& final_model = trained.final_model;
  SlimmableNet* model = trained.model.get();
  const std::vector<int> indices = width_indices(model->widths(), options.widths);
  // The gate scores every width: a file with a subset of them has none.
  const bool with_gate = trained.gate && indices.size() == model->widths().size();

  const ClipTransformOptions& t = config.data.transform;
  const ScriptInputShape shape{3, config.data.clip.frames, t.crop_height, t.crop_width};

  ArtifactMetadata m;
  m.labels = info.labels;
  m.input = {shape.frames, shape.height, shape.width,   shape.channels,
             t.mean,       t.std,        info.clip_fps, t.short_side};
  for (int i : indices) {
    const CostTally c = model_cost(*model, i, shape.frames, shape.height, shape.width);
    ArtifactWidth w{model->widths()[i], c.flops / 1e6, c.params,
                    final_model ? final_model->temperature.at(i) : 1.0, std::nullopt};
    if (final_model && !final_model->val_top1.empty()) w.val_top1 = final_model->val_top1.at(i);
    // A step computes one frame: the cost of a one-frame clip.
    if (model->options().causal)
      w.step_mflops = model_cost(*model, i, 1, shape.height, shape.width).flops / 1e6;
    m.widths.push_back(w);
  }
  m.default_width_index = static_cast<int>(m.widths.size()) - 1;
  m.calibrated = final_model.has_value() && config.calibration.enabled;
  m.has_gate = with_gate;
  m.gate_mflops = with_gate ? final_model->gate_mflops : 0;
  m.streams = model->options().causal;
  if (m.streams) {
    m.stream_reach_frames = temporal_reach(*model);
    m.stream_pooled_frames = pooled_frames(*model, shape.frames);
    m.stream_exact = streams_exactly(*model, shape.frames);
  }
  m.producer = {{"name", "adaptive-video"}, {"version", ADAPTIVE_VERSION}};
  m.source = {{"checkpoint", fs::path(path).filename().string()}, {"step", info.state.step}};
  m.config = json::parse(info.config_json);
  const WidthGateImpl* gate = with_gate ? trained.gate.get() : nullptr;

  json metadata;
  std::string bytes;
  if (options.format == ExportFormat::kOnnx) {
    metadata = to_onnx_json(m);
    try {
      bytes = lower_to_onnx(*model, gate, indices, shape, metadata.dump(2));
    } catch (const std::logic_error& e) {
      throw std::runtime_error(path + ": cannot be lowered to ONNX: " + e.what());
    }
  } else {
    metadata = to_json(m);
    std::ostringstream saved;
    lower_to_torchscript(*model, gate, indices, shape)
        .save(saved, {{kArtifactMetadataFile, metadata.dump(2)}});
    bytes = saved.str();
  }
  const fs::path out(options.out);
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  write_file_atomically(out.string(), bytes);
  return {metadata, static_cast<int64_t>(bytes.size())};
}

}  // namespace adaptive
