#include "infer/model_artifact.h"

#include <cmath>
#include <filesystem>

#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <torch/torch.h>

using json = nlohmann::json;

namespace adaptive {
namespace {

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace

void disable_graph_optimisation() {
  torch::jit::setGraphExecutorOptimize(false);
}

ModelArtifact ModelArtifact::load(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ModelError(path + ": no such model file");
  if (!fs::is_regular_file(path, ec)) throw ModelError(path + ": not a file");
  ModelArtifact a;
  a.path_ = path;
  torch::jit::ExtraFilesMap extra{{kArtifactMetadataFile, ""}};
  try {
    a.module_ = std::make_shared<torch::jit::Module>(torch::jit::load(path, c10::kCPU, extra));
  } catch (const std::exception& e) {
    if (fs::path(path).extension() == ".onnx") {
      throw ModelError(path +
                       ": an ONNX file; this tool runs the TorchScript form of a model: "
                       "export model.pt from the same checkpoint (adaptive-train export "
                       "--out model.pt)");
    }
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
  for (const auto& name : required_methods(a.metadata_.has_gate, a.metadata_.streams)) {
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

void ModelArtifact::check_width_index(int width_index) const {
  if (width_index < 0 || width_index >= num_widths()) {
    throw std::out_of_range(path_ + ": width index " + std::to_string(width_index) +
                            " out of range 0.." + std::to_string(num_widths() - 1));
  }
}

at::Tensor ModelArtifact::forward_at(const at::Tensor& clips, int width_index) const {
  check_width_index(width_index);
  return module_->get_method("forward_at")({clips, int64_t{width_index}}).toTensor();
}

at::Tensor ModelArtifact::gate(const at::Tensor& clips) const {
  check_gate();
  return module_->get_method("gate")({clips}).toTensor();
}

std::pair<at::Tensor, at::Tensor> ModelArtifact::forward_gated(const at::Tensor& clips) const {
  check_gate();
  const auto out = module_->get_method("forward_gated")({clips}).toTuple();
  return {out->elements()[0].toTensor(), out->elements()[1].toTensor()};
}

std::pair<at::Tensor, at::Tensor> ModelArtifact::gate_with_logits(const at::Tensor& clips) const {
  check_gate();
  if (!module_->find_method("gate_with_logits"))  // not in the contract: two passes without it
    return {gate(clips), forward_at(clips, 0)};
  const auto out = module_->get_method("gate_with_logits")({clips}).toTuple();
  return {out->elements()[0].toTensor(), out->elements()[1].toTensor()};
}

bool ModelArtifact::gates_every_width() const {
  return metadata_.has_gate && module_->find_method("forward_and_gate").has_value();
}

std::pair<at::Tensor, at::Tensor> ModelArtifact::forward_and_gate(const at::Tensor& clips,
                                                                  int width_index) const {
  if (!gates_every_width())
    throw std::logic_error(path_ + ": the model's gate reads only the narrowest width");
  check_width_index(width_index);
  const auto out = module_->get_method("forward_and_gate")({clips, int64_t{width_index}}).toTuple();
  return {out->elements()[0].toTensor(), out->elements()[1].toTensor()};
}

void ModelArtifact::check_gate() const {
  if (!metadata_.has_gate) throw std::logic_error(path_ + ": the model has no gate");
}

void ModelArtifact::check_streams() const {
  if (!metadata_.streams) {
    throw std::logic_error(path_ +
                           ": the model cannot stream (not causal: train it with model.causal)");
  }
}

ModelArtifact::StreamState ModelArtifact::init_state(int width_index) const {
  check_streams();
  check_width_index(width_index);
  StreamState state{width_index, {}};
  for (const c10::IValue& t : module_->get_method("init_state")({int64_t{width_index}}).toList())
    state.tensors.push_back(t.toTensor());
  return state;
}

namespace {

// Runs stream method `method` on `inputs`; `state` becomes the state it
// returns last, of width `width_index`; returns its other outputs.
std::vector<c10::IValue> run_stream_method(torch::jit::Module& module, const std::string& method,
                                           std::vector<c10::IValue> inputs, int width_index,
                                           ModelArtifact::StreamState& state) {
  const auto out = module.get_method(method)(std::move(inputs)).toTuple();
  std::vector<c10::IValue> values = out->elements().vec();
  const c10::List<at::Tensor> next = values.back().toTensorList();
  state = {width_index, {next.begin(), next.end()}};
  values.pop_back();
  return values;
}

// A step of `state` through `frame` (step or step_and_gate).
std::vector<c10::IValue> run_step(torch::jit::Module& module, const std::string& method,
                                  const at::Tensor& frame, ModelArtifact::StreamState& state) {
  return run_stream_method(module, method, {frame, c10::List<at::Tensor>(state.tensors)},
                           state.width_index, state);
}

}  // namespace

at::Tensor ModelArtifact::step(const at::Tensor& frame, StreamState& state) const {
  check_streams();
  return run_step(*module_, "step", frame, state)[0].toTensor();
}

std::pair<at::Tensor, at::Tensor> ModelArtifact::step_and_gate(const at::Tensor& frame,
                                                               StreamState& state) const {
  check_streams();
  check_gate();
  const auto out = run_step(*module_, "step_and_gate", frame, state);
  return {out[0].toTensor(), out[1].toTensor()};
}

at::Tensor ModelArtifact::prefill(const at::Tensor& clip, int width_index,
                                  StreamState& state) const {
  check_streams();
  check_width_index(width_index);
  return run_stream_method(*module_, "prefill", {clip, int64_t{width_index}}, width_index, state)[0]
      .toTensor();
}

std::pair<at::Tensor, at::Tensor> ModelArtifact::prefill_and_gate(const at::Tensor& clip,
                                                                  int width_index,
                                                                  StreamState& state) const {
  check_streams();
  check_width_index(width_index);
  check_gate();
  const auto out = run_stream_method(*module_, "prefill_and_gate", {clip, int64_t{width_index}},
                                     width_index, state);
  return {out[0].toTensor(), out[1].toTensor()};
}

at::Tensor ModelArtifact::probabilities(const at::Tensor& logits, int width_index) const {
  return torch::softmax(logits / metadata_.widths.at(width_index).temperature, 1);
}

}  // namespace adaptive
