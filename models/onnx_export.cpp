#include "models/onnx_export.h"

#include <stdexcept>

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>
#include <torch/torch.h>

#include "models/artifact_format.h"
#include "models/onnx_backend.h"

namespace adaptive {
namespace {

// `info` typed as a float tensor, or int64 when `int64`; a dimension of -1
// is the symbolic batch "N".
void set_type(onnx::ValueInfoProto* info, const std::string& name, const std::vector<int64_t>& dims,
              bool int64 = false) {
  info->set_name(name);
  onnx::TypeProto_Tensor* t = info->mutable_type()->mutable_tensor_type();
  t->set_elem_type(int64 ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto* shape = t->mutable_shape();
  for (int64_t d : dims) {
    if (d < 0) {
      shape->add_dim()->set_dim_param("N");
    } else {
      shape->add_dim()->set_dim_value(d);
    }
  }
}

// `value` under the name `name`: an Identity node.
void name_output(onnx::GraphProto& graph, const std::string& value, const std::string& name) {
  onnx::NodeProto* n = graph.add_node();
  n->set_op_type("Identity");
  n->set_name(name + "_out");
  n->add_input(value);
  n->add_output(name);
}

// The graph outputs, each named `prefix` + the output's name.
struct Outputs {
  int64_t classes = 0, widths = 0;
  bool gated = false;
  void declare(onnx::GraphProto& graph, const std::string& prefix) const {
    set_type(graph.add_output(), prefix + kOnnxLogitsOutput, {-1, classes});
    if (gated) set_type(graph.add_output(), prefix + kOnnxGateOutput, {-1, widths});
  }
};

// Width k's graph (model width index `index`): the clip in, its outputs named
// `prefix` + the output names.
onnx::GraphProto width_graph(const SlimmableNet& model, const WidthGateImpl* gate, int k, int index,
                             const ScriptInputShape& input, const Outputs& outputs,
                             const std::string& prefix) {
  onnx::GraphProto graph;
  graph.set_name("width_" + std::to_string(k));
  OnnxGraphBuilder g(graph, "w" + std::to_string(k) + "_");
  OnnxBackend backend(g, model.at_width(index), input.frames, input.height, input.width);
  const NetValue features =
      model.apply_features(backend, backend.argument(kOnnxClipInput, input.channels));
  const NetValue logits = model.apply_classify(backend, features);
  name_output(graph, logits.name, prefix + kOnnxLogitsOutput);
  if (gate) {
    name_output(graph, lower_gate_head_onnx(g, *gate->heads.at(index), features.name, logits.name),
                prefix + kOnnxGateOutput);
  }
  outputs.declare(graph, prefix);
  return graph;
}

// The graph choosing among widths k..last by the checked width index:
// If(index == k, width k, choose(k + 1)); the last width is the last else.
onnx::GraphProto choose(const SlimmableNet& model, const WidthGateImpl* gate,
                        const std::vector<int>& indices, size_t k, const ScriptInputShape& input,
                        const Outputs& outputs, const std::string& checked,
                        const std::string& prefix) {
  if (k + 1 == indices.size()) {
    return width_graph(model, gate, static_cast<int>(k), indices[k], input, outputs, prefix);
  }
  onnx::GraphProto graph;
  graph.set_name("choose_" + std::to_string(k));
  OnnxGraphBuilder g(graph, "choose" + std::to_string(k) + "_");
  const std::string is_k = g.op("Equal", {checked, g.ints({static_cast<int64_t>(k)}, true)});
  const std::string branch = "w" + std::to_string(k) + "_";
  const std::string next = "choose" + std::to_string(k + 1) + "_";
  onnx::NodeProto* n = graph.add_node();
  n->set_op_type("If");
  n->set_name(prefix + "if");
  n->add_input(is_k);
  n->add_output(prefix + kOnnxLogitsOutput);
  if (gate) n->add_output(prefix + kOnnxGateOutput);
  *n->add_attribute() = onnx_attribute(
      "then_branch",
      width_graph(model, gate, static_cast<int>(k), indices[k], input, outputs, branch));
  *n->add_attribute() = onnx_attribute(
      "else_branch", choose(model, gate, indices, k + 1, input, outputs, checked, next));
  outputs.declare(graph, prefix);
  return graph;
}

// ONNX's checker and strict shape inference, on a copy.
void check_onnx(const onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto inferred = model;
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1));
  } catch (const std::exception& e) {
    throw std::logic_error(std::string("export: ONNX's checker refuses the lowered graph: ") +
                           e.what());
  }
}

}  // namespace

std::string lower_to_onnx(const SlimmableNet& model, const WidthGateImpl* gate,
                          const std::vector<int>& width_indices, const ScriptInputShape& input,
                          const std::string& metadata) {
  if (width_indices.empty()) throw std::invalid_argument("export: no width to lower to ONNX");
  check_export_widths(static_cast<int>(model.widths().size()), width_indices, gate != nullptr);
  torch::NoGradGuard no_grad;
  const Outputs outputs{model.options().num_classes, static_cast<int64_t>(width_indices.size()),
                        gate != nullptr};

  onnx::ModelProto m;
  m.set_ir_version(kOnnxIrVersion);
  m.add_opset_import()->set_version(kOnnxOpset);
  m.set_producer_name("adaptive-video");
  m.set_producer_version(ADAPTIVE_VERSION);
  m.set_doc_string(
      "A slimmable video classifier: every width in one file (adaptive.json in metadata_props "
      "says how to feed it)");
  onnx::StringStringEntryProto* meta = m.add_metadata_props();
  meta->set_key(kArtifactMetadataFile);
  meta->set_value(metadata);

  onnx::GraphProto* graph = m.mutable_graph();
  if (width_indices.size() == 1) {
    *graph = width_graph(model, gate, 0, width_indices[0], input, outputs, "");
  } else {
    // The width index, checked: Gather over [0, widths) fails on one out of range.
    OnnxGraphBuilder g(*graph, "");
    std::vector<int64_t> valid;
    for (size_t k = 0; k < width_indices.size(); ++k) valid.push_back(static_cast<int64_t>(k));
    onnx::NodeProto* check = graph->add_node();
    check->set_op_type("Gather");
    check->set_name(kOnnxWidthCheckNode);
    check->add_input(g.ints(valid));
    check->add_input(kOnnxWidthInput);
    check->add_output("width_index_checked");
    const onnx::GraphProto chosen =
        choose(model, gate, width_indices, 0, input, outputs, "width_index_checked", "");
    for (const auto& n : chosen.node()) *graph->add_node() = n;
    for (const auto& i : chosen.initializer()) *graph->add_initializer() = i;
    outputs.declare(*graph, "");
  }
  graph->set_name("adaptive_video_model");
  set_type(graph->add_input(), kOnnxClipInput,
           {-1, input.channels, input.frames, input.height, input.width});
  if (width_indices.size() > 1) set_type(graph->add_input(), kOnnxWidthInput, {}, /*int64=*/true);

  check_onnx(m);
  return m.SerializeAsString();
}

}  // namespace adaptive
