#include "models/script_export.h"

#include <algorithm>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "models/net_backends.h"

namespace adaptive {
namespace {

std::string float_list(const std::vector<double>& values) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < values.size(); ++i) s << (i ? ", " : "") << values[i];
  s << "]";
  return s.str();
}

// Gate head `k` as TorchScript, _gate_head_k(features, logits): standardised
// features of width k's pass and its class probabilities in, width scores
// out (GateHeadImpl::forward).
std::string lower_gate_head(torch::jit::Module& module, const GateHeadImpl& head, int k,
                            int64_t frames) {
  ScriptBuilder s(module, "gate" + std::to_string(k), frames);
  const std::string mean = s.tensor("feature_mean", head.feature_mean);
  const std::string std = s.tensor("feature_std", head.feature_std);
  const std::string x =
      s.let("torch.cat([(features - " + mean + ") / " + std + ", torch.softmax(logits, 1)], 1)");
  const std::string h =
      s.let("torch.relu(torch.linear(" + x + ", " + s.tensor("hidden_weight", head.hidden->weight) +
            ", " + s.tensor("hidden_bias", head.hidden->bias) + "))");
  s.emit("return torch.linear(" + h + ", " + s.tensor("out_weight", head.out->weight) + ", " +
         s.tensor("out_bias", head.out->bias) + ")");
  return s.method("_gate_head_" + std::to_string(k), "features: Tensor, logits: Tensor", "Tensor");
}

// _check_input(x): the input's shape, with a message naming the expected one.
std::string input_check_method(const ScriptInputShape& input) {
  const std::string expected = "[N, " + std::to_string(input.channels) + ", " +
                               std::to_string(input.frames) + ", " + std::to_string(input.height) +
                               ", " + std::to_string(input.width) + "]";
  return "def _check_input(self, x: Tensor) -> None:\n"
         "    assert x.dim() == 5 and x.size(1) == " +
         std::to_string(input.channels) + " and x.size(2) == " + std::to_string(input.frames) +
         " and x.size(3) == " + std::to_string(input.height) +
         " and x.size(4) == " + std::to_string(input.width) +
         ", \"adaptive model: expected input " + expected +
         " (NCTHW, float, normalised as adaptive.json says), got \" + str(x.shape)\n\n";
}

// Per exported width k: _features_k(x), which runs the batch in chunks of
// `clips_per_chunk` clips through the straight-line _features_k_chunk(x),
// and _classify_k(features), straight-line code.
std::string width_methods(torch::jit::Module& module, const SlimmableNet& model,
                          const std::vector<int>& width_indices, const ScriptInputShape& input) {
  const std::string chunk = std::to_string(clips_per_chunk(input));
  std::string code;
  for (size_t k = 0; k < width_indices.size(); ++k) {
    const ForwardContext ctx = model.at_width(width_indices[k]);
    const std::string n = std::to_string(k);
    const std::string scope = "w" + n;
    ScriptBuilder features(module, scope, input.frames);
    ScriptBackend features_backend(features, ctx);
    const NetValue f =
        model.apply_features(features_backend, ScriptBackend::argument("x", input.channels));
    features.emit("return " + f.name);
    code += features.method("_features_" + n + "_chunk", "x: Tensor", "Tensor") + "\n";
    code += "def _features_" + n + "(self, x: Tensor) -> Tensor:\n    if x.size(0) > " + chunk +
            ":\n        return torch.cat([self._features_" + n + "_chunk(c) for c in x.split(" +
            chunk + ")])\n    return self._features_" + n + "_chunk(x)\n\n";
    ScriptBuilder classify(module, scope, input.frames);
    ScriptBackend classify_backend(classify, ctx);
    classify.emit(
        "return " +
        model.apply_classify(classify_backend, ScriptBackend::argument("features", f.channels))
            .name);
    code += classify.method("_classify_" + n, "features: Tensor", "Tensor") + "\n";
  }
  return code;
}

// The line a method taking `width_index` ends on when no branch matched.
std::string width_index_assert(const std::vector<double>& widths) {
  return "    assert False, \"adaptive model: width_index \" + str(width_index) + \" is out of "
         "range: valid indices are 0.." +
         std::to_string(widths.size() - 1) + " for widths " + float_list(widths) + "\"\n";
}

// The width knob: forward_at, forward, set_width, get_width, widths.
std::string knob_methods(const std::vector<double>& widths) {
  const int count = static_cast<int>(widths.size());
  std::string code =
      "def forward_at(self, x: Tensor, width_index: int) -> Tensor:\n"
      "    self._check_input(x)\n";
  for (int k = 0; k < count; ++k) {
    const std::string n = std::to_string(k);
    code += "    if width_index == " + n + ":\n        return self._classify_" + n +
            "(self._features_" + n + "(x))\n";
  }
  code += width_index_assert(widths) + "    return x\n\n";
  code +=
      "def forward(self, x: Tensor) -> Tensor:\n"
      "    return self.forward_at(x, self.width_index)\n\n"
      "def set_width(self, width: float) -> None:\n"
      "    for i in range(len(self.width_list)):\n"
      "        if abs(self.width_list[i] - width) < 1e-6:\n"
      "            self.width_index = i\n"
      "            return\n"
      "    assert False, \"adaptive model: width \" + str(width) + \" is not in this model; valid "
      "widths: " +
      float_list(widths) +
      "\"\n\n"
      "def get_width(self) -> float:\n"
      "    return self.width_list[self.width_index]\n\n"
      "def widths(self) -> List[float]:\n"
      "    return self.width_list\n\n";
  return code;
}

// gate, gate_with_logits, forward_gated and forward_and_gate over the
// exported widths.
std::string gate_methods(torch::jit::Module& module, const WidthGateImpl& gate,
                         const std::vector<double>& widths, int64_t frames) {
  const int count = static_cast<int>(widths.size());
  std::string code;
  for (int k = 0; k < count; ++k) code += lower_gate_head(module, *gate.heads[k], k, frames) + "\n";
  code +=
      "def gate(self, x: Tensor) -> Tensor:\n"
      "    self._check_input(x)\n"
      "    features = self._features_0(x)\n"
      "    return self._gate_head_0(features, self._classify_0(features))\n\n"
      "def gate_with_logits(self, x: Tensor) -> Tuple[Tensor, Tensor]:\n"
      "    self._check_input(x)\n"
      "    features = self._features_0(x)\n"
      "    logits = self._classify_0(features)\n"
      "    return self._gate_head_0(features, logits), logits\n\n"
      "def forward_and_gate(self, x: Tensor, width_index: int) -> Tuple[Tensor, Tensor]:\n"
      "    self._check_input(x)\n";
  for (int k = 0; k < count; ++k) {
    const std::string n = std::to_string(k);
    code += "    if width_index == " + n + ":\n        features = self._features_" + n +
            "(x)\n        logits = self._classify_" + n +
            "(features)\n        return logits, self._gate_head_" + n + "(features, logits)\n";
  }
  code += width_index_assert(widths) +
          "    return x, x\n\n"
          "def forward_gated(self, x: Tensor) -> Tuple[Tensor, Tensor]:\n"
          "    self._check_input(x)\n"
          "    features = self._features_0(x)\n"
          "    logits = self._classify_0(features)\n"
          "    choice = torch.argmax(self._gate_head_0(features, logits), 1)\n"
          "    out = logits.clone()\n";
  for (int k = 1; k < count; ++k) {
    const std::string n = std::to_string(k);
    code += "    idx = torch.nonzero(choice == " + n +
            ").view(-1)\n"
            "    if idx.numel() > 0:\n"
            "        out.index_copy_(0, idx, self._classify_" +
            n + "(self._features_" + n + "(x.index_select(0, idx))))\n";
  }
  return code + "    return out, choice\n";
}

// A causal model's stream, per exported width k: _step_features_k(x,
// state), one frame x [N, C, 1, H, W] through StepScriptBackend, returning
// the pooled features and the new state; and the methods over them:
// init_state(width_index), step(frame, state), prefill(clip, width_index)
// (PrefillScriptBackend) and, with a gate, step_and_gate(frame, state) and
// prefill_and_gate(clip, width_index). A state is [header, slots...]: the header
// tensor([width_index]) says which width it belongs to.
std::string stream_methods(torch::jit::Module& module, const SlimmableNet& model,
                           const std::vector<int>& width_indices, const ScriptInputShape& input,
                           bool gated, const std::vector<double>& widths) {
  // A state: its header, then its slots.
  const auto state_list = [](const std::string& header, const std::vector<std::string>& slots) {
    std::string list = "[" + header;
    for (const auto& e : slots) list += ", " + e;
    return list + "]";
  };
  std::string code;
  std::string slots = "[";  // per width: a width whose shift moves no channel keeps no slot for it
  for (size_t k = 0; k < width_indices.size(); ++k) {
    const std::string n = std::to_string(k);
    ScriptBuilder step(module, "w" + n, input.frames);  // the windowed methods' weights
    StepScriptBackend backend(step, model.at_width(width_indices[k]));
    const NetValue f = model.apply_features(backend, ScriptBackend::argument("x", input.channels));
    slots += (k > 0 ? ", " : "") + std::to_string(backend.new_slots().size());
    step.emit("return " + f.name + ", " + state_list("state[0]", backend.new_slots()));
    code += step.method("_step_features_" + n, "x: Tensor, state: List[Tensor]",
                        "Tuple[Tensor, List[Tensor]]") +
            "\n";
    ScriptBuilder prefill(module, "w" + n, input.frames);
    PrefillScriptBackend prefill_backend(prefill, model.at_width(width_indices[k]));
    const NetValue pf =
        model.apply_features(prefill_backend, ScriptBackend::argument("x", input.channels));
    if (prefill_backend.slots().size() != backend.new_slots().size()) {
      throw std::logic_error("export: width " + n + "'s prefill keeps " +
                             std::to_string(prefill_backend.slots().size()) +
                             " state slots where its step keeps " +
                             std::to_string(backend.new_slots().size()));
    }
    prefill.emit("return " + pf.name + ", " +
                 state_list("torch.tensor([" + n + "])", prefill_backend.slots()));
    code +=
        prefill.method("_prefill_features_" + n, "x: Tensor", "Tuple[Tensor, List[Tensor]]") + "\n";
  }
  slots += "]";
  const std::string last = std::to_string(width_indices.size() - 1);
  const std::string frame = "[N, " + std::to_string(input.channels) + ", " +
                            std::to_string(input.height) + ", " + std::to_string(input.width) + "]";
  code +=
      "def init_state(self, width_index: int) -> List[Tensor]:\n"
      "    assert width_index >= 0 and width_index <= " +
      last +
      ", \"adaptive model: width_index \" + str(width_index) + \" is out of range: valid "
      "indices are 0.." +
      last + " for widths " + float_list(widths) +
      "\"\n"
      "    state = [torch.tensor([width_index])]\n"
      "    for i in range(" +
      slots +
      "[width_index]):\n"
      "        state.append(torch.empty([0]))\n"
      "    return state\n\n"
      "def _check_step(self, frame: Tensor, state: List[Tensor]) -> int:\n"
      "    assert frame.dim() == 4 and frame.size(1) == " +
      std::to_string(input.channels) + " and frame.size(2) == " + std::to_string(input.height) +
      " and frame.size(3) == " + std::to_string(input.width) +
      ", \"adaptive model: expected a frame " + frame +
      " (NCHW, float, normalised as adaptive.json says), got \" + str(frame.shape)\n"
      "    message = \"adaptive model: not a state of this model: make one with "
      "init_state(width_index)\"\n"
      "    assert len(state) > 0 and state[0].numel() == 1, message\n"
      "    width_index = int(state[0][0])\n"
      "    assert width_index >= 0 and width_index <= " +
      last + " and len(state) == " + slots +
      "[width_index] + 1, message\n"
      "    return width_index\n\n";
  // A method `signature` that runs `preamble`, then for the width_index it
  // names gets features and new_state from `features(n)` (a call of width
  // n's stream method) and returns `ret(n)`; `fallthrough` follows the
  // assert that no index matched.
  using PerWidth = std::function<std::string(const std::string&)>;
  const auto per_width = [&](const std::string& signature, const std::string& preamble,
                             const PerWidth& features, const PerWidth& ret,
                             const std::string& fallthrough) {
    std::string m = "def " + signature + ":\n" + preamble;
    for (size_t k = 0; k < width_indices.size(); ++k) {
      const std::string n = std::to_string(k);
      m += "    if width_index == " + n + ":\n        features, new_state = self." + features(n) +
           "\n        logits = self._classify_" + n + "(features)\n        return " + ret(n) + "\n";
    }
    return m + width_index_assert(widths) + "    return " + fallthrough + "\n\n";
  };
  // step / step_and_gate (frame, state) and prefill / prefill_and_gate
  // (clip, width_index): one windowed pass that returns the state T steps
  // from init_state would leave.
  const auto stepped = [&](const std::string& name, const std::string& returns, const PerWidth& ret,
                           const std::string& fallthrough) {
    return per_width(
        name + "(self, frame: Tensor, state: List[Tensor]) -> " + returns,
        "    width_index = self._check_step(frame, state)\n"
        "    x = frame.unsqueeze(2)\n",
        [](const std::string& n) { return "_step_features_" + n + "(x, state)"; }, ret,
        fallthrough);
  };
  const auto prefilled = [&](const std::string& name, const std::string& returns,
                             const PerWidth& ret, const std::string& fallthrough) {
    return per_width(
        name + "(self, clip: Tensor, width_index: int) -> " + returns,
        "    self._check_input(clip)\n",
        [](const std::string& n) { return "_prefill_features_" + n + "(clip)"; }, ret, fallthrough);
  };
  const PerWidth plain = [](const std::string&) { return std::string("logits, new_state"); };
  const PerWidth with_gate = [](const std::string& n) {
    return "logits, self._gate_head_" + n + "(features, logits), new_state";
  };
  code += prefilled("prefill", "Tuple[Tensor, List[Tensor]]", plain, "clip, [clip]") +
          stepped("step", "Tuple[Tensor, List[Tensor]]", plain, "frame, state");
  if (gated) {
    code += prefilled("prefill_and_gate", "Tuple[Tensor, Tensor, List[Tensor]]", with_gate,
                      "clip, clip, [clip]") +
            stepped("step_and_gate", "Tuple[Tensor, Tensor, List[Tensor]]", with_gate,
                    "frame, frame, state");
  }
  return code;
}

}  // namespace

void check_export_widths(int model_widths, const std::vector<int>& width_indices, bool gated) {
  for (size_t k = 0; k < width_indices.size(); ++k) {
    const int i = width_indices[k];
    if (i < 0 || i >= model_widths || (k > 0 && i <= width_indices[k - 1])) {
      throw std::invalid_argument(
          "export: width indices must be ascending and within the model's " +
          std::to_string(model_widths) + " widths");
    }
  }
  if (gated && static_cast<int>(width_indices.size()) != model_widths) {
    throw std::invalid_argument("export: the gate scores all " + std::to_string(model_widths) +
                                " widths of the model; export every width to include it");
  }
}

int64_t clips_per_chunk(const ScriptInputShape& input) {
  const int64_t clip_bytes =
      int64_t{sizeof(float)} * input.channels * input.frames * input.height * input.width;
  return std::max<int64_t>(1, kChunkInputBytes / std::max<int64_t>(1, clip_bytes));
}

torch::jit::Module lower_to_torchscript(const SlimmableNet& model, const WidthGateImpl* gate,
                                        std::vector<int> width_indices, ScriptInputShape input,
                                        int default_index) {
  const int model_widths = static_cast<int>(model.widths().size());
  if (width_indices.empty()) {
    for (int i = 0; i < model_widths; ++i) width_indices.push_back(i);
  }
  check_export_widths(model_widths, width_indices, gate != nullptr);
  const int count = static_cast<int>(width_indices.size());
  if (default_index < 0) default_index = count - 1;
  if (default_index >= count)
    throw std::invalid_argument("export: default width index out of range");

  torch::NoGradGuard no_grad;
  torch::jit::Module module("__torch__.adaptive.AdaptiveVideoModel");
  std::vector<double> widths;
  for (int i : width_indices) widths.push_back(model.widths()[i]);
  module.register_attribute("training", c10::BoolType::get(), false);
  module.register_attribute("width_index", c10::IntType::get(), int64_t{default_index});
  module.register_attribute("width_list", c10::ListType::ofFloats(), c10::List<double>(widths));
  std::string code = input_check_method(input) +
                     width_methods(module, model, width_indices, input) + knob_methods(widths);
  if (gate) code += gate_methods(module, *gate, widths, input.frames);
  if (model.options().causal) {
    code += stream_methods(module, model, width_indices, input, gate != nullptr, widths);
  }
  module.define(code);
  module.eval();
  for (const auto& p : module.parameters()) p.set_requires_grad(false);
  return module;
}

}  // namespace adaptive
