// The ONNX lowering against the training model, run by a real consumer in
// this process: OpenCV's DNN module reads each width's file (a plain graph;
// OpenCV 4.6 cannot run If). The every-width file (If) is run by ONNX Runtime
// in tests/interop/check_onnx.js, and both forms go through ONNX's checker.
#include "models/onnx_export.h"

#include <onnx/onnx_pb.h>
#include <torch/torch.h>
#include <catch2/catch.hpp>
#include <opencv2/dnn.hpp>

#include "models/artifact_format.h"
#include "models/backbones.h"
#include "models/width_gate.h"

#include "test_support.h"

using namespace adaptive;

namespace {

ModelOptions tiny(const std::string& name) {
  return test::tiny_export_options(name);
}

constexpr ScriptInputShape kInput{3, 4, 32, 32};

// Width index `k`'s outputs for `x` [N, C, T, H, W], as OpenCV computes them
// from `model` (a serialised ONNX model of that width alone).
std::vector<at::Tensor> run_opencv(const std::string& model, const at::Tensor& x,
                                   const std::vector<std::string>& outputs) {
  cv::dnn::Net net = cv::dnn::readNetFromONNX(model.data(), model.size());
  const at::Tensor c = x.contiguous();
  std::vector<int> dims(c.sizes().begin(), c.sizes().end());
  cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F, c.data_ptr<float>());
  net.setInput(blob);
  std::vector<cv::Mat> mats;
  net.forward(mats, std::vector<cv::String>(outputs.begin(), outputs.end()));
  std::vector<at::Tensor> tensors;
  for (const cv::Mat& m : mats) {
    tensors.push_back(
        torch::from_blob(const_cast<float*>(m.ptr<float>()), {m.size[0], m.size[1]}).clone());
  }
  return tensors;
}

onnx::ModelProto parsed(const std::string& bytes) {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(bytes));
  return m;
}

}  // namespace

TEST_CASE("ONNX logits match the training model at every width, run by OpenCV",
          "[models][export][onnx]") {
  // Every branch of the backbones' structure, and causal convs and shifts,
  // which pad the past only.
  std::vector<ModelOptions> variants = test::export_variants();
  for (const std::string name : {"r2plus1d", "tsm_mobile"}) {
    variants.push_back(tiny(name));
    variants.back().causal = true;
  }
  REQUIRE(variants.size() == 13);
  for (const ModelOptions& options : variants) {
    INFO(options.name << (options.factorized ? " (2+1)D" : " 3D kernels")
                      << (options.motion_input ? ", motion input" : "") << ", "
                      << to_string(options.width_mode) << (options.causal ? ", causal" : ""));
    auto model = test::trained_looking(options);
    torch::manual_seed(3);
    WidthGate gate(gate_options_for(*model, 16));
    gate->eval();
    torch::NoGradGuard no_grad;
    const at::Tensor x = torch::randn({3, 3, 4, 32, 32});
    for (int i = 0; i < static_cast<int>(options.widths.size()); ++i) {
      INFO("width " << options.widths[i]);
      const ForwardContext ctx = model->at_width(i);
      const at::Tensor features = model->features(x, ctx);
      const at::Tensor logits = model->classify(features, ctx);
      // One width alone carries no gate (the gate needs every width).
      const auto got = run_opencv(lower_to_onnx(*model, nullptr, {i}, kInput, "{}"), x, {"logits"});
      const test::Parity p = test::parity(got.at(0), logits);
      INFO("max|logits| " << p.scale);
      CHECK(p.diff <= p.bound);
    }
  }
}

TEST_CASE("an ONNX file of every width: the width input, the gate's output, the metadata",
          "[models][export][onnx]") {
  auto model = test::trained_looking(tiny("r2plus1d"));
  torch::manual_seed(3);
  WidthGate gate(gate_options_for(*model, 16));
  gate->eval();
  const onnx::ModelProto m =
      parsed(lower_to_onnx(*model, gate.ptr().get(), {0, 1, 2, 3}, kInput, "{\"x\": 1}"));
  CHECK(m.opset_import(0).version() == kOnnxOpset);
  REQUIRE(m.metadata_props_size() == 1);
  CHECK(m.metadata_props(0).key() == kArtifactMetadataFile);
  CHECK(m.metadata_props(0).value() == "{\"x\": 1}");
  const onnx::GraphProto& g = m.graph();
  REQUIRE(g.input_size() == 2);
  CHECK(g.input(0).name() == kOnnxClipInput);
  CHECK(g.input(0).type().tensor_type().shape().dim(0).dim_param() == "N");
  CHECK(g.input(0).type().tensor_type().shape().dim(2).dim_value() == kInput.frames);
  CHECK(g.input(1).name() == kOnnxWidthInput);
  CHECK(g.input(1).type().tensor_type().elem_type() == onnx::TensorProto::INT64);
  REQUIRE(g.output_size() == 2);
  CHECK(g.output(0).name() == kOnnxLogitsOutput);
  CHECK(g.output(1).name() == kOnnxGateOutput);
  CHECK(g.output(1).type().tensor_type().shape().dim(1).dim_value() == 4);
  // The width index is checked, then a chain of If nodes picks the subgraph.
  REQUIRE(g.node_size() >= 3);
  CHECK(g.node(0).name() == kOnnxWidthCheckNode);
  CHECK(g.node(0).op_type() == "Gather");
  CHECK(g.node(g.node_size() - 1).op_type() == "If");

  // A width alone is a plain graph of the clip, with no gate (it needs every width).
  auto one = lower_to_onnx(*model, nullptr, {2}, kInput, "{}");
  CHECK(parsed(one).graph().input_size() == 1);
  CHECK_THROWS_WITH(lower_to_onnx(*model, gate.ptr().get(), {2}, kInput, "{}"),
                    Catch::Contains("export every width to include it"));
  CHECK_THROWS_WITH(lower_to_onnx(*model, nullptr, {}, kInput, "{}"), Catch::Contains("no width"));
  CHECK_THROWS_WITH(lower_to_onnx(*model, nullptr, {3, 1}, kInput, "{}"),
                    Catch::Contains("ascending"));
}
