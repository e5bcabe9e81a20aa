#include "infer/model_artifact.h"

#include <cmath>
#include <filesystem>

#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <torch/torch.h>

#include "train/exporter.h"

using json = nlohmann::json;

namespace adaptive {
namespace {

// The value at a JSON pointer, with the file and the path in errors.
template <class T>
T field(const json& j, const std::string& pointer, const std::string& origin) {
  const json::json_pointer p(pointer);
  if (!j.contains(p)) throw ModelError(origin + ": adaptive.json has no '" + pointer + "'");
  try {
    return j.at(p).get<T>();
  } catch (const json::exception&) {
    throw ModelError(origin + ": adaptive.json '" + pointer + "' has the wrong type (got " +
                     j.at(p).dump().substr(0, 60) + ")");
  }
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace

ArtifactMetadata parse_artifact_metadata(const std::string& text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw ModelError(origin + ": adaptive.json is not valid JSON: " + e.what());
  }
  ArtifactMetadata m;
  const auto format = field<std::string>(j, "/format", origin);
  if (format != kArtifactFormat) {
    throw ModelError(origin + ": adaptive.json format is '" + format + "', expected '" +
                     kArtifactFormat + "'");
  }
  m.format_version = field<int>(j, "/format_version", origin);
  if (m.format_version > kArtifactFormatVersion || m.format_version < 1) {
    throw ModelError(origin + ": adaptive.json format_version " + std::to_string(m.format_version) +
                     " is not supported (this reader knows 1.." +
                     std::to_string(kArtifactFormatVersion) + "; a newer toolkit wrote it?)");
  }
  m.labels = field<std::vector<std::string>>(j, "/labels", origin);
  auto& in = m.input;
  in.frames = field<int64_t>(j, "/input/frames", origin);
  in.height = field<int64_t>(j, "/input/height", origin);
  in.width = field<int64_t>(j, "/input/width", origin);
  in.channels = field<int64_t>(j, "/input/channels", origin);
  in.mean = field<std::vector<double>>(j, "/input/mean", origin);
  in.std = field<std::vector<double>>(j, "/input/std", origin);
  in.fps = field<double>(j, "/input/fps", origin);
  in.short_side = j.contains(json::json_pointer("/input/resize/short_side"))
                      ? field<int64_t>(j, "/input/resize/short_side", origin)
                      : std::max(in.height, in.width);
  if (in.frames < 1 || in.height < 1 || in.width < 1 || in.channels != 3 || in.mean.size() != 3 ||
      in.std.size() != 3) {
    throw ModelError(origin +
                     ": adaptive.json 'input' is not a 3-channel clip spec with 3 means "
                     "and 3 stds");
  }
  const auto widths = field<std::vector<double>>(j, "/widths", origin);
  const auto temperature = field<std::vector<double>>(j, "/temperature", origin);
  const json cost = field<json>(j, "/cost", origin);
  if (widths.empty() || temperature.size() != widths.size() || cost.size() != widths.size()) {
    throw ModelError(origin + ": adaptive.json lists " + std::to_string(widths.size()) +
                     " widths, " + std::to_string(temperature.size()) + " temperatures and " +
                     std::to_string(cost.size()) + " costs; expected one of each per width");
  }
  const double default_width = field<double>(j, "/default_width", origin);
  for (size_t i = 0; i < widths.size(); ++i) {
    const std::string at = "/cost/" + std::to_string(i);
    m.widths.push_back({widths[i], field<double>(j, at + "/mflops", origin),
                        field<int64_t>(j, at + "/params", origin), temperature[i]});
    if (std::abs(widths[i] - default_width) < 1e-9) m.default_width_index = static_cast<int>(i);
  }
  if (j.contains("gate") && !j["gate"].is_null()) {
    m.has_gate = true;
    m.gate_mflops = field<double>(j, "/gate/mflops", origin);
  }
  m.json = std::move(j);
  return m;
}

ModelArtifact ModelArtifact::load(const std::string& path) {
  namespace fs = std::filesystem;
  // The artifact is straight-line code over builtin ops: the graph
  // executor's profiling and optimisation passes find nothing to fuse on a
  // CPU, yet take ~0.5 s whenever they (re)specialise, which made each new
  // video's first windows 100x slower. Off, for the whole process.
  torch::jit::setGraphExecutorOptimize(false);
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ModelError(path + ": no such model file");
  if (!fs::is_regular_file(path, ec)) throw ModelError(path + ": not a file");
  ModelArtifact a;
  a.path_ = path;
  torch::jit::ExtraFilesMap extra{{kArtifactMetadataFile, ""}};
  try {
    a.module_ = std::make_shared<torch::jit::Module>(torch::jit::load(path, c10::kCPU, extra));
  } catch (const std::exception& e) {
    throw ModelError(path + ": not a loadable TorchScript file (truncated or corrupt?): " +
                     first_line(e.what()));
  }
  const std::string& text = extra[kArtifactMetadataFile];
  if (text.empty()) {
    throw ModelError(path + ": has no " + kArtifactMetadataFile +
                     ": a TorchScript file, but not an adaptive model (export one with "
                     "adaptive-train export)");
  }
  a.metadata_ = parse_artifact_metadata(text, path);
  std::vector<std::string> methods = {"forward", "forward_at", "set_width", "get_width", "widths"};
  if (a.metadata_.has_gate) methods.insert(methods.end(), {"gate", "forward_gated"});
  for (const auto& name : methods) {
    if (!a.module_->find_method(name)) {
      throw ModelError(path + ": the module has no method '" + name + "' that " +
                       kArtifactMetadataFile + " promises");
    }
  }
  const auto module_widths = a.module_->run_method("widths").toDoubleList().vec();
  bool same = module_widths.size() == a.metadata_.widths.size();
  for (size_t i = 0; same && i < module_widths.size(); ++i)
    same = std::abs(module_widths[i] - a.metadata_.widths[i].width) < 1e-9;
  if (!same) {
    throw ModelError(path + ": " + kArtifactMetadataFile + " lists widths " +
                     a.metadata_.json["widths"].dump() + ", the module holds " +
                     json(module_widths).dump());
  }
  a.module_->eval();
  return a;
}

at::Tensor ModelArtifact::forward_at(const at::Tensor& clips, int width_index) const {
  if (width_index < 0 || width_index >= num_widths()) {
    throw std::out_of_range(path_ + ": width index " + std::to_string(width_index) +
                            " out of range 0.." + std::to_string(num_widths() - 1));
  }
  return module_->get_method("forward_at")({clips, int64_t{width_index}}).toTensor();
}

at::Tensor ModelArtifact::gate(const at::Tensor& clips) const {
  if (!metadata_.has_gate) throw std::logic_error(path_ + ": the model has no gate");
  return module_->get_method("gate")({clips}).toTensor();
}

std::pair<at::Tensor, at::Tensor> ModelArtifact::forward_gated(const at::Tensor& clips) const {
  if (!metadata_.has_gate) throw std::logic_error(path_ + ": the model has no gate");
  const auto out = module_->get_method("forward_gated")({clips}).toTuple();
  return {out->elements()[0].toTensor(), out->elements()[1].toTensor()};
}

std::pair<at::Tensor, at::Tensor> ModelArtifact::gate_with_logits(const at::Tensor& clips) const {
  if (!metadata_.has_gate) throw std::logic_error(path_ + ": the model has no gate");
  if (!module_->find_method("gate_with_logits"))  // not in the contract: two passes without it
    return {gate(clips), forward_at(clips, 0)};
  const auto out = module_->get_method("gate_with_logits")({clips}).toTuple();
  return {out->elements()[0].toTensor(), out->elements()[1].toTensor()};
}

at::Tensor ModelArtifact::probabilities(const at::Tensor& logits, int width_index) const {
  return torch::softmax(logits / metadata_.widths.at(width_index).temperature, 1);
}

}  // namespace adaptive
