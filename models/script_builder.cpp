#include "models/script_builder.h"

#include <stdexcept>

#include <torch/script.h>

namespace adaptive {

ScriptBuilder::ScriptBuilder(torch::jit::Module& module, std::string scope, int64_t frames)
    : module_(module), scope_(std::move(scope)), frames_(frames) {}

std::string ScriptBuilder::tensor(const std::string& name, const at::Tensor& value,
                                  at::MemoryFormat memory) {
  const std::string attr = scope_ + "_" + name;
  if (module_.hasattr(attr)) {  // another method of this scope registered it
    const at::Tensor held = module_.attr(attr).toTensor();
    if (!held.sizes().equals(value.sizes()) || !held.is_contiguous(memory)) {
      throw std::logic_error("ScriptBuilder: " + attr + " is registered with another shape");
    }
    return "self." + attr;
  }
  at::Tensor stored = value.detach().to(at::kCPU, at::kFloat).clone(memory);
  stored.set_requires_grad(false);
  module_.register_parameter(attr, stored, /*is_buffer=*/false);
  return "self." + attr;
}

std::string ScriptBuilder::alias(const std::string& name, const std::string& base,
                                 const at::Tensor& view) {
  const std::string attr = scope_ + "_" + name;
  if (module_.hasattr(attr)) return "self." + attr;
  if (!view.is_alias_of(registered(base)))
    throw std::logic_error("ScriptBuilder: " + attr + " is not a view of " + scope_ + "_" + base);
  module_.register_parameter(attr, view, /*is_buffer=*/false);
  return "self." + attr;
}

at::Tensor ScriptBuilder::registered(const std::string& name) const {
  return module_.attr(scope_ + "_" + name).toTensor();
}

std::string ScriptBuilder::let(const std::string& expr) {
  const std::string name = "v" + std::to_string(next_++);
  emit(name + " = " + expr);
  return name;
}

void ScriptBuilder::emit(const std::string& line) {
  lines_.push_back(line);
}

std::string ScriptBuilder::method(const std::string& name, const std::string& args,
                                  const std::string& returns) const {
  std::string code =
      "def " + name + "(self" + (args.empty() ? "" : ", " + args) + ") -> " + returns + ":\n";
  for (const auto& line : lines_) code += "    " + line + "\n";
  return code;
}

std::string script_list(const std::vector<int64_t>& values) {
  std::string s = "[";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + std::to_string(values[i]);
  return s + "]";
}

}  // namespace adaptive
