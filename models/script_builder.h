// Writing a network as TorchScript source: the export half of "describe a
// model once, lower it twice". Each slimmable layer has a lower() beside its
// forward() that emits, for one width, the same computation as straight-line
// TorchScript over constants sliced (and batch norm folded) for that width.
//
// A ScriptBuilder collects one method body. Tensors it is given become
// parameters of the module being built (contiguous CPU copies, no grad),
// named "<scope>_<name>"; expressions become numbered local variables.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace torch::jit {
struct Module;
}

namespace adaptive {

// A tensor variable of the method being written and its channel count.
// `time_folded`: a clip held as frames [N*T, C, H, W] (T: the builder's
// frames) in channels-last memory, on which a (1, kh, kw) conv is a 2D conv
// and a (kt, 1, 1) conv a 2D conv over a view [N, C, T, H*W] of the same
// memory: a (2+1)D network runs as 2D convs with no copy between them.
struct ScriptValue {
  std::string name;
  int64_t channels = 0;
  bool time_folded = false;
};

class ScriptBuilder {
 public:
  // `frames`: clip length the method will see (static, from the input spec).
  ScriptBuilder(torch::jit::Module& module, std::string scope, int64_t frames);

  // Registers `value` as a parameter, stored in `memory` format (a conv
  // weight in the layout of its input spares the conv a copy per call);
  // returns the expression naming it.
  std::string tensor(const std::string& name, const at::Tensor& value,
                     at::MemoryFormat memory = at::MemoryFormat::Contiguous);
  // Emits `vN = expr`; returns vN.
  std::string let(const std::string& expr);
  ScriptValue let(const std::string& expr, int64_t channels, bool time_folded = false) {
    return {let(expr), channels, time_folded};
  }
  // Emits a line of code as it is (indented into the method body).
  void emit(const std::string& line);

  // The method: "def <name>(self, <args>) -> <returns>:" and the body so far.
  std::string method(const std::string& name, const std::string& args,
                     const std::string& returns) const;

  int64_t frames() const { return frames_; }

 private:
  torch::jit::Module& module_;
  std::string scope_;
  int64_t frames_;
  std::vector<std::string> lines_;
  int next_ = 0;
};

// "[1, 2, 2]": a TorchScript int list literal.
std::string script_list(const std::vector<int64_t>& values);

}  // namespace adaptive
