// Every leaf op of the network backends (models/net_backends.h): the script
// body computes what the eager body does, on random shapes at every width.
#include "models/net_backends.h"

#include <functional>

#include <torch/script.h>
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/slimmable_net.h"

#include "test_support.h"

using namespace adaptive;
using Layout = NetValue::Layout;

namespace {

using Op = std::function<NetValue(NetBackend&, const std::vector<NetValue>&)>;
struct Input {
  at::Tensor tensor;
  Layout layout = Layout::kClip;
};

at::Tensor run_eager(int64_t frames, const ForwardContext& ctx, const std::vector<Input>& inputs,
                     const Op& op) {
  torch::NoGradGuard no_grad;
  EagerBackend backend(ctx, frames);
  std::vector<NetValue> args;
  for (const Input& in : inputs) args.push_back(EagerBackend::value(in.tensor, in.layout));
  return op(backend, args).tensor;
}

// The op written by ScriptBackend as a method, defined, saved, loaded and run.
at::Tensor run_script(int64_t frames, const ForwardContext& ctx, const std::vector<Input>& inputs,
                      const Op& op) {
  torch::jit::Module module("__torch__.adaptive.OpTest");
  module.register_attribute("training", c10::BoolType::get(), false);
  ScriptBuilder s(module, "op", frames);
  ScriptBackend backend(s, ctx);
  std::vector<NetValue> args;
  std::string params;
  std::vector<c10::IValue> values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "x" + std::to_string(i);
    args.push_back(ScriptBackend::argument(name, inputs[i].tensor.size(1), inputs[i].layout));
    params += (i ? ", " : "") + name + ": Tensor";
    values.emplace_back(inputs[i].tensor.clone(inputs[i].tensor.suggest_memory_format()));
  }
  s.emit("return " + op(backend, args).name);
  module.define(s.method("run", params, "Tensor"));
  std::stringstream bytes;
  module.save(bytes);
  torch::jit::Module loaded = torch::jit::load(bytes);
  torch::NoGradGuard no_grad;
  return loaded.get_method("run")(values).toTensor();
}

// Both bodies of `op` on `inputs` agree within the parity rule, same shapes.
void check_op(int64_t frames, const ForwardContext& ctx, const std::vector<Input>& inputs,
              const Op& op) {
  const at::Tensor want = run_eager(frames, ctx, inputs, op);
  const at::Tensor got = run_script(frames, ctx, inputs, op);
  const test::Parity p = test::parity(got, want);
  INFO("max|want| " << p.scale << ", max|got - want| " << p.diff);
  CHECK(p.diff <= p.bound);
}

ModelOptions four_widths() {
  ModelOptions m;
  m.widths = {0.25, 0.5, 0.75, 1.0};
  m.channel_multiple = 4;
  return m;
}

SlimConvOptions conv(int64_t in, int64_t out, std::vector<int64_t> kernel,
                     std::vector<int64_t> stride, bool depthwise = false) {
  SlimConvOptions o;
  o.in_channels = in;
  o.out_channels = out;
  for (int64_t k : kernel) o.padding.push_back(k / 2);
  o.kernel = std::move(kernel);
  o.stride = std::move(stride);
  o.depthwise = depthwise;
  return o;
}

// The same conv, causal in time (SlimConvOptions::causal).
SlimConvOptions causal(SlimConvOptions o) {
  o.causal = true;
  o.padding[0] = 0;
  return o;
}

// A ConvBn in eval mode with random weights and batch-norm statistics.
ConvBn random_conv_bn(const SlimConvOptions& options, const ModelOptions& m) {
  ConvBn layer(options, m);
  torch::NoGradGuard no_grad;
  for (auto& p : layer->named_parameters()) {
    if (p.key().find("bn.") == 0) p.value().uniform_(0.5, 1.5);
  }
  for (auto& b : layer->named_buffers()) {
    if (b.key().find("running_mean") != std::string::npos) b.value().normal_(0, 0.3);
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 2.0);
  }
  layer->eval();
  return layer;
}

// Channels of a layer of `full` channels at width index i of four_widths().
int64_t channels_of(int64_t full, int i) {
  return channels_at(full, four_widths().widths[i], 4);
}

}  // namespace

TEST_CASE("the input ops: fold, fold with motion, with motion, frames", "[models][backends]") {
  torch::manual_seed(11);
  const ForwardContext ctx{1.0, 3};
  for (int64_t t : {1, 2, 5}) {
    for (int64_t n : {1, 3}) {
      CAPTURE(t, n);
      const at::Tensor clip = torch::randn({n, 3, t, 7, 9});
      for (bool motion : {false, true}) {
        CAPTURE(motion);
        check_op(t, ctx, {{clip}},
                 [&](NetBackend& b, const auto& x) { return b.fold_frames(x[0], motion); });
      }
      check_op(t, ctx, {{clip}}, [](NetBackend& b, const auto& x) { return b.with_motion(x[0]); });
      check_op(t, ctx, {{clip}}, [](NetBackend& b, const auto& x) { return b.frames_of(x[0]); });
    }
  }
}

TEST_CASE("conv + batch norm at every width, on every layout and kernel", "[models][backends]") {
  torch::manual_seed(12);
  const ModelOptions m = four_widths();
  const int64_t t = 4, n = 2;
  struct Case {
    const char* what;
    SlimConvOptions options;
    Layout layout;
  };
  const std::vector<Case> cases = {
      {"2D 3x3 stride 2", conv(16, 32, {3, 3}, {2, 2}), Layout::kFrames},
      {"2D depthwise 3x3", conv(16, 16, {3, 3}, {1, 1}, true), Layout::kFrames},
      {"2D 1x1", conv(16, 32, {1, 1}, {1, 1}), Layout::kFrames},
      {"3D (1, 3, 3) stride 2 on a folded clip", conv(16, 32, {1, 3, 3}, {1, 2, 2}),
       Layout::kFoldedClip},
      {"3D (3, 1, 1) on a folded clip", conv(16, 16, {3, 1, 1}, {1, 1, 1}), Layout::kFoldedClip},
      {"3D (1, 1, 1) stride 2 on a folded clip", conv(16, 32, {1, 1, 1}, {1, 2, 2}),
       Layout::kFoldedClip},
      {"3D (3, 3, 3) stride 2 on a clip", conv(16, 32, {3, 3, 3}, {1, 2, 2}), Layout::kClip},
      {"causal 3D (3, 1, 1) on a folded clip", causal(conv(16, 16, {3, 1, 1}, {1, 1, 1})),
       Layout::kFoldedClip},
      {"causal 3D (5, 3, 3) stride 2 on a clip", causal(conv(16, 32, {5, 3, 3}, {1, 2, 2})),
       Layout::kClip},
  };
  for (const Case& c : cases) {
    ConvBn layer = random_conv_bn(c.options, m);
    for (int i = 0; i < 4; ++i) {
      for (bool relu : {false, true}) {
        CAPTURE(c.what, i, relu);
        const int64_t in =
            c.options.depthwise ? channels_of(16, i) : channels_of(c.options.in_channels, i);
        at::Tensor x;
        if (c.layout == Layout::kClip) {
          x = torch::randn({n, in, t, 9, 11});
        } else if (c.layout == Layout::kFrames) {
          x = torch::randn({n * t, in, 9, 11});
        } else {
          x = fold_frames(torch::randn({n, in, t, 9, 11}));
        }
        check_op(
            t, ForwardContext{m.widths[i], i}, {{x, c.layout}},
            [&](NetBackend& b, const auto& v) { return b.conv_bn("layer", *layer, v[0], relu); });
      }
    }
  }
}

TEST_CASE("add + ReLU, temporal shift and pooling at every width", "[models][backends]") {
  torch::manual_seed(13);
  for (int i = 0; i < 4; ++i) {
    const ForwardContext ctx{four_widths().widths[i], i};
    const int64_t c = channels_of(32, i);
    for (int64_t t : {1, 3, 8}) {
      CAPTURE(i, c, t);
      const at::Tensor a = torch::randn({2 * t, c, 5, 6}), r = torch::randn({2 * t, c, 5, 6});
      check_op(t, ctx, {{a, Layout::kFrames}, {r, Layout::kFrames}},
               [](NetBackend& b, const auto& x) { return b.add_relu(x[0], x[1]); });
      for (double fraction : {0.0, 0.25, 1.0}) {
        for (bool causal : {false, true}) {
          CAPTURE(fraction, causal);
          check_op(t, ctx, {{a, Layout::kFrames}}, [&](NetBackend& b, const auto& x) {
            return b.temporal_shift(x[0], fraction, causal);
          });
        }
      }
      check_op(t, ctx, {{a, Layout::kFrames}},
               [](NetBackend& b, const auto& x) { return b.pool(x[0]); });
      const at::Tensor clip = torch::randn({2, c, t, 5, 6});
      check_op(t, ctx, {{clip, Layout::kClip}},
               [](NetBackend& b, const auto& x) { return b.pool(x[0]); });
      check_op(t, ctx, {{fold_frames(clip), Layout::kFoldedClip}},
               [](NetBackend& b, const auto& x) { return b.pool(x[0]); });
    }
  }
}

TEST_CASE("the classifier at every width", "[models][backends]") {
  torch::manual_seed(14);
  SlimLinear fixed(64, 10), slim(64, 32, /*fixed_out=*/false, 4);
  for (int i = 0; i < 4; ++i) {
    const ForwardContext ctx{four_widths().widths[i], i};
    const at::Tensor x = torch::randn({3, channels_of(64, i)});
    CAPTURE(i);
    check_op(0, ctx, {{x}},
             [&](NetBackend& b, const auto& v) { return b.linear("fc", *fixed, v[0]); });
    check_op(0, ctx, {{x}},
             [&](NetBackend& b, const auto& v) { return b.linear("fc", *slim, v[0]); });
  }
}

TEST_CASE("dropout is the identity in an exported model and random in training",
          "[models][backends]") {
  torch::manual_seed(15);
  const at::Tensor x = torch::randn({4, 32});
  const Op op = [](NetBackend& b, const auto& v) { return b.dropout(v[0], 0.5); };
  CHECK(torch::equal(run_script(0, {}, {{x}}, op), x));
  const at::Tensor dropped = run_eager(0, {}, {{x}}, op);
  CHECK((dropped == 0).sum().item<int64_t>() > 0);
  CHECK(torch::allclose(dropped.masked_select(dropped != 0), 2 * x.masked_select(dropped != 0)));
}
