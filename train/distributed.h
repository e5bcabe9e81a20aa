// Data-parallel training on PyTorch's own engine (c10d): a process group of
// ranks that agree on every step. Launched by torchrun (or anything that
// sets the same variables):
//
//   RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT
//   TORCHELASTIC_USE_AGENT_STORE=True: the launcher's agent serves the
//   store at MASTER_ADDR:MASTER_PORT and every rank connects as a client;
//   otherwise rank 0 hosts it.
//
// Gloo on the CPU; NCCL for CUDA devices when this LibTorch build has it
// (make_process_group() is the one place that decides).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/nn/module.h>

namespace adaptive {

struct DistributedEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool agent_store = false;  // TORCHELASTIC_USE_AGENT_STORE
};

// The launch variables, read through `getenv` (tests pass their own).
// Nothing when WORLD_SIZE is unset (a run alone). Throws
// std::invalid_argument naming the variable that is missing or malformed.
std::optional<DistributedEnv> distributed_env(
    const std::function<const char*(const char*)>& getenv);

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Replaces each tensor by its mean over the ranks; tensors travel
  // flattened in one bucket per dtype. Throws on a failed or timed-out peer.
  virtual void allreduce_mean(const std::vector<at::Tensor>& tensors) = 0;
  // Copies rank `root`'s tensors to every rank.
  virtual void broadcast(const std::vector<at::Tensor>& tensors, int root = 0) = 0;
  virtual void barrier() = 0;
  virtual std::string backend() const = 0;
};

// Joins the group (blocks until every rank has joined, up to `timeout`,
// which also bounds every later collective). Throws std::runtime_error
// naming the address and what failed.
std::unique_ptr<ProcessGroup> make_process_group(const DistributedEnv& env, c10::Device device,
                                                 std::chrono::milliseconds timeout);

// The collectives of a training step. Each does nothing when `group` is
// null (a run alone), so the trainer calls them unconditionally.

// Gradients averaged across ranks in one bucket; a parameter that no width
// of the step used travels as zeros and is left without a gradient.
void average_gradients(ProcessGroup* group, torch::nn::Module& model);
// BN running statistics (each rank's from its own batches) averaged, so
// evaluation and checkpoints see one model.
void average_bn_statistics(ProcessGroup* group, torch::nn::Module& model);
// Whether `flag` holds on any rank (e.g. a stop request).
bool any_rank(ProcessGroup* group, bool flag);

}  // namespace adaptive
