// The ONNX lowering of a network (models/net_backend.h): the third backend
// beside EagerBackend and ScriptBackend. It writes the ops of one width as
// nodes of an onnx::GraphProto, with batch norm folded into the convs and the
// width's weights stored on their own, as the TorchScript export does. The
// networks' structure is not repeated here: their apply() calls these ops.
//
// Layouts in the graph: a clip is [N, C, T, H, W]; frames (kFrames and
// kFoldedClip alike) are [N*T, C, H, W], plain NCHW, which every ONNX runtime
// convolves; a (kt, 1, 1) conv of folded frames runs as a 2D conv over
// [N, C, T, H*W], between two transposes. The batch N is the only dimension
// not fixed: the backend tracks every value's height and width so that its
// reshapes name static sizes (no Shape ops, which some runtimes cannot fold).
// Nodes and opset: opset 13, ops that ONNX Runtime and OpenCV's DNN module
// (4.6) both read: Conv, Relu, Add, Sub, Concat, Slice, Pad, Transpose,
// Reshape, GlobalAveragePool, ReduceMean, Gemm, Softmax, Div.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <onnx/onnx_pb.h>

#include "models/artifact_format.h"
#include "models/net_backend.h"

namespace adaptive {

class GateHeadImpl;

// Writes nodes and initializers into one graph. Every name it makes starts
// with `scope` (ONNX names are global across a model's subgraphs).
class OnnxGraphBuilder {
 public:
  OnnxGraphBuilder(onnx::GraphProto& graph, std::string scope)
      : graph_(graph), scope_(std::move(scope)) {}

  // A float initializer holding `value` (any dtype, stored as float32).
  std::string tensor(const std::string& name, const at::Tensor& value);
  // An int64 initializer (a constant of the graph, named for it): a 1-D
  // list, or a scalar when `scalar`.
  std::string ints(const std::vector<int64_t>& values, bool scalar = false);
  // A node of `op` over `inputs` with `attributes`; returns its output.
  std::string op(const std::string& op, const std::vector<std::string>& inputs,
                 const std::vector<onnx::AttributeProto>& attributes = {});

 private:
  onnx::GraphProto& graph_;
  std::string scope_;
  int next_ = 0;
};

onnx::AttributeProto onnx_attribute(const std::string& name, int64_t value);
onnx::AttributeProto onnx_attribute(const std::string& name, const std::vector<int64_t>& values);
onnx::AttributeProto onnx_attribute(const std::string& name, const onnx::GraphProto& graph);

class OnnxBackend : public NetBackend {
 public:
  // `height`, `width`: the clips' (static); `frames`: T.
  OnnxBackend(OnnxGraphBuilder& builder, ForwardContext context, int64_t frames, int64_t height,
              int64_t width)
      : NetBackend(context, frames), g_(builder), height_(height), width_(width) {}
  // The graph input `name`, a clip of `channels` channels.
  NetValue argument(const std::string& name, int64_t channels);

  NetValue fold_frames(const NetValue& clip, bool motion) override;
  NetValue with_motion(const NetValue& clip) override;
  NetValue frames_of(const NetValue& clip) override;
  NetValue conv_bn(const std::string& name, const ConvBnImpl& layer, const NetValue& x,
                   bool relu) override;
  NetValue add_relu(const NetValue& y, const NetValue& residual) override;
  NetValue temporal_shift(const NetValue& frames, double fraction, bool causal) override;
  NetValue pool(const NetValue& x) override;
  NetValue dropout(const NetValue& x, double p) override;
  NetValue linear(const std::string& name, const SlimLinearImpl& layer, const NetValue& x) override;

 private:
  struct Size {
    int64_t height, width;
  };
  NetValue make(const std::string& name, int64_t channels, NetValue::Layout layout, Size size);
  Size size_of(const NetValue& x) const { return sizes_.at(x.name); }
  // x sliced to [starts[i], ends[i]) on each of `axes`.
  std::string slice(const std::string& x, const std::vector<int64_t>& starts,
                    const std::vector<int64_t>& ends, const std::vector<int64_t>& axes);
  std::string reshape(const std::string& x, const std::vector<int64_t>& shape);
  std::string conv(const std::string& name, const std::string& x, const at::Tensor& weight,
                   const at::Tensor& bias, const std::vector<int64_t>& stride,
                   const std::vector<int64_t>& pads, int64_t groups, bool relu);

  OnnxGraphBuilder& g_;
  int64_t height_, width_;
  std::map<std::string, Size> sizes_;  // each value's height and width
};

// Gate head `head` as nodes over width features [N, C] and logits [N,
// classes] (GateHeadImpl::forward): the width scores [N, widths].
std::string lower_gate_head_onnx(OnnxGraphBuilder& g, const GateHeadImpl& head,
                                 const std::string& features, const std::string& logits);

}  // namespace adaptive
