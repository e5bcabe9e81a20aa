#include "models/device.h"

#include <stdexcept>

#include <torch/cuda.h>

namespace adaptive {

c10::Device select_device(const std::string& name) {
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw std::invalid_argument(
          "device '" + name +
          "': CUDA is not available (this LibTorch build or machine has no GPU)");
    }
    return c10::Device(name);
  }
  throw std::invalid_argument("unknown device '" + name + "' (known: cpu, cuda, cuda:N)");
}

}  // namespace adaptive
