// The one place that decides where tensors live. CUDA builds of LibTorch work
// without code changes; CPU is the default.
#pragma once

#include <string>

#include <c10/core/Device.h>

namespace adaptive {

// "cpu" or "cuda" (or "cuda:N"). Throws std::invalid_argument for an unknown
// name or when CUDA is asked for and this LibTorch build or machine has none.
c10::Device select_device(const std::string& name);

}  // namespace adaptive
