// Writing TorchScript source: what ScriptBackend (models/net_backends.h)
// writes a network's ops into, for one width, as straight-line code over
// constants sliced (and batch norm folded) for that width.
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

class ScriptBuilder {
 public:
  // `frames`: clip length the method will see (static, from the input spec).
  ScriptBuilder(torch::jit::Module& module, std::string scope, int64_t frames);

  // Registers `value` as a parameter, stored in `memory` format (a conv
  // weight in the layout of its input spares the conv a copy per call);
  // returns the expression naming it. A name the scope registered before
  // (another method of the same width) is shared, not stored twice.
  std::string tensor(const std::string& name, const at::Tensor& value,
                     at::MemoryFormat memory = at::MemoryFormat::Contiguous);
  // Registers `view`, a view of the memory of the tensor this scope
  // registered as `base` (tensor()), as the parameter `name`: one stored
  // copy, two shapes (the file keeps shared memory shared). Throws when
  // `view` is not a view of it.
  std::string alias(const std::string& name, const std::string& base, const at::Tensor& view);
  // The tensor this scope registered as `name`.
  at::Tensor registered(const std::string& name) const;
  // Emits `vN = expr`; returns vN.
  std::string let(const std::string& expr);
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
