// The ONNX bodies of the leaf ops (models/onnx_backend.h). Their eager and
// TorchScript bodies are in net_backends.cpp; tests/models/onnx_export_test.cpp
// holds this lowering to the eager network at every width and branch.
#include "models/onnx_backend.h"

#include <stdexcept>

#include <torch/torch.h>

#include "models/slimmable_net.h"
#include "models/width_gate.h"

namespace adaptive {

using Layout = NetValue::Layout;

// ------------------------------------------------------------ the builder

std::string OnnxGraphBuilder::tensor(const std::string& name, const at::Tensor& value) {
  const at::Tensor t = value.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  onnx::TensorProto* p = graph_.add_initializer();
  p->set_name(scope_ + name);
  p->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : t.sizes()) p->add_dims(d);
  p->set_raw_data(t.data_ptr(), t.numel() * sizeof(float));
  return p->name();
}

std::string OnnxGraphBuilder::ints(const std::vector<int64_t>& values, bool scalar) {
  onnx::TensorProto* p = graph_.add_initializer();
  p->set_name(scope_ + "ints" + std::to_string(next_++));
  p->set_data_type(onnx::TensorProto::INT64);
  if (!scalar) p->add_dims(static_cast<int64_t>(values.size()));
  for (int64_t v : values) p->add_int64_data(v);
  return p->name();
}

std::string OnnxGraphBuilder::op(const std::string& op, const std::vector<std::string>& inputs,
                                 const std::vector<onnx::AttributeProto>& attributes) {
  onnx::NodeProto* n = graph_.add_node();
  const std::string name = scope_ + std::to_string(next_++) + "_" + op;
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  n->add_output(name);
  for (const auto& a : attributes) *n->add_attribute() = a;
  return name;
}

onnx::AttributeProto onnx_attribute(const std::string& name, int64_t value) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(value);
  return a;
}

onnx::AttributeProto onnx_attribute(const std::string& name, const std::vector<int64_t>& values) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a.add_ints(v);
  return a;
}

onnx::AttributeProto onnx_attribute(const std::string& name, const onnx::GraphProto& graph) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::GRAPH);
  *a.mutable_g() = graph;
  return a;
}

// ------------------------------------------------------------ the backend

NetValue OnnxBackend::make(const std::string& name, int64_t channels, Layout layout, Size size) {
  sizes_[name] = size;
  return {at::Tensor(), name, channels, layout};
}

NetValue OnnxBackend::argument(const std::string& name, int64_t channels) {
  return make(name, channels, Layout::kClip, {height_, width_});
}

std::string OnnxBackend::slice(const std::string& x, const std::vector<int64_t>& starts,
                               const std::vector<int64_t>& ends, const std::vector<int64_t>& axes) {
  return g_.op("Slice", {x, g_.ints(starts), g_.ints(ends), g_.ints(axes)});
}

std::string OnnxBackend::reshape(const std::string& x, const std::vector<int64_t>& shape) {
  return g_.op("Reshape", {x, g_.ints(shape)});
}

std::string OnnxBackend::conv(const std::string& name, const std::string& x,
                              const at::Tensor& weight, const at::Tensor& bias,
                              const std::vector<int64_t>& stride, const std::vector<int64_t>& pads,
                              int64_t groups, bool relu) {
  std::vector<int64_t> kernel(weight.sizes().begin() + 2, weight.sizes().end());
  const std::string y =
      g_.op("Conv", {x, g_.tensor(name + "_weight", weight), g_.tensor(name + "_bias", bias)},
            {onnx_attribute("kernel_shape", kernel), onnx_attribute("strides", stride),
             onnx_attribute("pads", pads), onnx_attribute("group", groups)});
  return relu ? g_.op("Relu", {y}) : y;
}

// ------------------------------------------------------------ fold_frames

NetValue OnnxBackend::fold_frames(const NetValue& clip, bool motion) {
  const NetValue frames = frames_of(motion ? with_motion(clip) : clip);
  return {at::Tensor(), frames.name, frames.channels, Layout::kFoldedClip};
}

// ------------------------------------------------------------ with_motion

NetValue OnnxBackend::with_motion(const NetValue& clip) {
  // Frame t's difference is x[t] - x[t - 1], frame 0's zero: x minus the
  // clip shifted one frame on (its first frame repeated).
  const std::string& c = clip.name;
  const std::string previous =
      frames_ < 2 ? c
                  : g_.op("Concat", {slice(c, {0}, {1}, {2}), slice(c, {0}, {frames_ - 1}, {2})},
                          {onnx_attribute("axis", int64_t{2})});
  const std::string differences = g_.op("Sub", {c, previous});
  return make(g_.op("Concat", {c, differences}, {onnx_attribute("axis", int64_t{1})}),
              2 * clip.channels, Layout::kClip, size_of(clip));
}

// -------------------------------------------------------------- frames_of

NetValue OnnxBackend::frames_of(const NetValue& clip) {
  const Size s = size_of(clip);
  const std::string t = g_.op("Transpose", {clip.name},
                              {onnx_attribute("perm", std::vector<int64_t>{0, 2, 1, 3, 4})});
  return make(reshape(t, {-1, clip.channels, s.height, s.width}), clip.channels, Layout::kFrames,
              s);
}

// ---------------------------------------------------------------- conv_bn

NetValue OnnxBackend::conv_bn(const std::string& name, const ConvBnImpl& layer, const NetValue& x,
                              bool relu) {
  const SlimConvOptions& o = layer.conv->options();
  const FoldedConvBn folded = layer.folded(name, x.channels, context_);
  const int64_t c_out = folded.weight.size(0);
  const int64_t groups = o.depthwise ? x.channels : 1;
  const Size s = size_of(x);
  const bool is3d = o.kernel.size() == 3;
  const auto spatial = [&](size_t axis) {  // the output size along kernel axis `axis`
    const int64_t in = axis + 2 == o.kernel.size() ? s.height : s.width;
    return (in + 2 * o.padding[axis] - o.kernel[axis]) / o.stride[axis] + 1;
  };
  const Size out{spatial(o.kernel.size() - 2), spatial(o.kernel.size() - 1)};
  // A causal conv sees kt - 1 frames of the past before the clip (its time
  // padding is 0).
  const int64_t past = o.causal ? o.kernel[0] - 1 : 0;
  if (x.layout != Layout::kFoldedClip) {  // a clip's 3D conv, or frames' 2D one
    std::vector<int64_t> pads = o.padding;
    pads.insert(pads.end(), o.padding.begin(), o.padding.end());
    pads[0] += past;
    return make(conv(name, x.name, folded.weight, folded.bias, o.stride, pads, groups, relu), c_out,
                x.layout, out);
  }
  if (!is3d) throw std::logic_error("ConvBn: " + name + ": a 2D conv on a folded clip");
  const auto& st = o.stride;
  const auto& p = o.padding;
  const std::optional<FrameConv> kind = frame_conv_kind(o.kernel, st, p);
  if (kind == FrameConv::kSpatial) {  // a 2D conv of every frame
    return make(conv(name, x.name, folded.weight.squeeze(2), folded.bias, {st[1], st[2]},
                     {p[1], p[2], p[1], p[2]}, groups, relu),
                c_out, Layout::kFoldedClip, out);
  }
  if (kind == FrameConv::kTemporal) {
    // [N*T, C, H, W] -> [N, C, T, H*W], a 2D conv of (kt, 1), and back
    const std::vector<int64_t> swap{0, 2, 1, 3};
    const std::string clip =
        g_.op("Transpose", {reshape(x.name, {-1, frames_, x.channels, s.height * s.width})},
              {onnx_attribute("perm", swap)});
    const std::string y = conv(name, clip, folded.weight.squeeze(-1), folded.bias, {1, 1},
                               {p[0] + past, 0, p[0], 0}, groups, relu);
    const std::string back = g_.op("Transpose", {y}, {onnx_attribute("perm", swap)});
    return make(reshape(back, {-1, c_out, s.height, s.width}), c_out, Layout::kFoldedClip, s);
  }
  throw std::logic_error("ConvBn: " + name + ": kernel of " + std::to_string(o.kernel.size()) +
                         " dims is neither spatial nor temporal, so a folded clip can't take it");
}

// --------------------------------------------------------------- add_relu

NetValue OnnxBackend::add_relu(const NetValue& y, const NetValue& residual) {
  return make(g_.op("Relu", {g_.op("Add", {y.name, residual.name})}), y.channels, y.layout,
              size_of(y));
}

// --------------------------------------------------------- temporal_shift

NetValue OnnxBackend::temporal_shift(const NetValue& x, double fraction, bool causal) {
  const int64_t c = x.channels, fold = static_cast<int64_t>(c * fraction / 2);
  if (fold == 0 || (frames_ < 2 && !causal)) return x;
  const Size s = size_of(x);
  const int64_t t = frames_, hw = s.height * s.width;
  const std::string v = reshape(x.name, {-1, t, c, hw});
  // Pads of `part` [N, T', C', HW] on its time axis: `before` frames, `after` frames.
  const auto padded = [&](const std::string& part, int64_t before, int64_t after) {
    return g_.op("Pad", {part, g_.ints({0, before, 0, 0, 0, after, 0, 0})});
  };
  const int64_t ahead = causal ? 2 * fold : fold;
  std::vector<std::string> parts;
  if (t < 2) {  // one frame: the past is the zero padding
    const std::string channels = slice(v, {0}, {ahead}, {2});
    parts.push_back(g_.op("Sub", {channels, channels}));
  } else {
    parts.push_back(padded(slice(v, {0, 0}, {t - 1, ahead}, {1, 2}), 1, 0));
  }
  if (!causal) parts.push_back(padded(slice(v, {1, fold}, {t, 2 * fold}, {1, 2}), 0, 1));
  parts.push_back(slice(v, {2 * fold}, {c}, {2}));
  const std::string shifted = g_.op("Concat", parts, {onnx_attribute("axis", int64_t{2})});
  return make(reshape(shifted, {-1, c, s.height, s.width}), c, x.layout, s);
}

// ------------------------------------------------------------------- pool

NetValue OnnxBackend::pool(const NetValue& x) {
  const Size s = size_of(x);
  const int64_t from = frames_ - pooled_frames();
  if (x.layout == Layout::kClip) {  // [N, C, T, H, W] as [N, C, T*H, W]: a 4D pool
    const std::string clip = from > 0 ? slice(x.name, {from}, {frames_}, {2}) : x.name;
    const std::string pooled =
        g_.op("GlobalAveragePool",
              {reshape(clip, {-1, x.channels, pooled_frames() * s.height, s.width})});
    return make(reshape(pooled, {-1, x.channels}), x.channels, Layout::kClip, {1, 1});
  }
  const std::string per_frame =
      reshape(g_.op("GlobalAveragePool", {x.name}), {-1, frames_, x.channels});
  return make(g_.op("ReduceMean", {from > 0 ? slice(per_frame, {from}, {frames_}, {1}) : per_frame},
                    {onnx_attribute("axes", std::vector<int64_t>{1}),
                     onnx_attribute("keepdims", int64_t{0})}),
              x.channels, Layout::kClip, {1, 1});
}

// ---------------------------------------------------------------- dropout

NetValue OnnxBackend::dropout(const NetValue& x, double /*p*/) {
  return x;  // an exported model runs in eval mode
}

// ----------------------------------------------------------------- linear

NetValue OnnxBackend::linear(const std::string& name, const SlimLinearImpl& layer,
                             const NetValue& x) {
  const auto [weight, bias] = layer.at_width(context_.width, x.channels);
  const std::string w = g_.tensor(name + "_weight", weight), b = g_.tensor(name + "_bias", bias);
  return make(g_.op("Gemm", {x.name, w, b}, {onnx_attribute("transB", int64_t{1})}), weight.size(0),
              Layout::kClip, {1, 1});
}

// ------------------------------------------------------------- gate head

std::string lower_gate_head_onnx(OnnxGraphBuilder& g, const GateHeadImpl& head,
                                 const std::string& features, const std::string& logits) {
  const std::string standard =
      g.op("Div", {g.op("Sub", {features, g.tensor("gate_feature_mean", head.feature_mean)}),
                   g.tensor("gate_feature_std", head.feature_std)});
  const std::string probs = g.op("Softmax", {logits}, {onnx_attribute("axis", int64_t{1})});
  const std::string x = g.op("Concat", {standard, probs}, {onnx_attribute("axis", int64_t{1})});
  const std::string h = g.op("Relu", {g.op("Gemm",
                                           {x, g.tensor("gate_hidden_weight", head.hidden->weight),
                                            g.tensor("gate_hidden_bias", head.hidden->bias)},
                                           {onnx_attribute("transB", int64_t{1})})});
  return g.op(
      "Gemm",
      {h, g.tensor("gate_out_weight", head.out->weight), g.tensor("gate_out_bias", head.out->bias)},
      {onnx_attribute("transB", int64_t{1})});
}

}  // namespace adaptive
