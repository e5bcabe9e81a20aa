#include "train/distributed.h"

#include <csignal>
#include <map>
#include <stdexcept>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/torch.h>

namespace adaptive {
namespace {

int int_variable(const std::function<const char*(const char*)>& getenv, const char* name,
                 std::optional<int> fallback) {
  const char* value = getenv(name);
  if (!value) {
    if (fallback) return *fallback;
    throw std::invalid_argument(std::string(name) +
                                " is not set (a distributed launch sets RANK, "
                                "WORLD_SIZE, MASTER_ADDR and MASTER_PORT)");
  }
  try {
    size_t used = 0;
    const int v = std::stoi(value, &used);
    if (used == std::string(value).size()) return v;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(std::string(name) + "='" + value + "': expected an integer");
}

class C10dGroup : public ProcessGroup {
 public:
  C10dGroup(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<c10d::ProcessGroup> group,
            std::string backend)
      : store_(std::move(store)), group_(std::move(group)), backend_(std::move(backend)) {}
  int rank() const override { return group_->getRank(); }
  int world_size() const override { return group_->getSize(); }
  std::string backend() const override { return backend_; }

  void allreduce_mean(const std::vector<at::Tensor>& tensors) override {
    std::map<c10::ScalarType, std::vector<at::Tensor>> buckets;
    for (const auto& t : tensors) buckets[t.scalar_type()].push_back(t);
    for (auto& [dtype, group] : buckets) {
      std::vector<at::Tensor> flat = {torch::cat(flatten(group))};
      group_->allreduce(flat)->wait();
      flat[0].div_(world_size());
      int64_t offset = 0;
      torch::NoGradGuard no_grad;
      for (auto& t : group) {
        t.copy_(flat[0].narrow(0, offset, t.numel()).view_as(t));
        offset += t.numel();
      }
    }
  }

  void broadcast(const std::vector<at::Tensor>& tensors, int root) override {
    std::vector<at::Tensor> flat = {torch::cat(flatten(tensors))};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    group_->broadcast(flat, options)->wait();
    int64_t offset = 0;
    torch::NoGradGuard no_grad;
    for (const auto& t : tensors) {
      at::Tensor target = t;
      target.copy_(flat[0].narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  }

  void barrier() override { group_->barrier()->wait(); }

 private:
  static std::vector<at::Tensor> flatten(const std::vector<at::Tensor>& tensors) {
    std::vector<at::Tensor> flat;
    for (const auto& t : tensors) flat.push_back(t.detach().reshape({-1}));
    return flat;
  }

  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
  std::string backend_;
};

}  // namespace

std::optional<DistributedEnv> distributed_env(
    const std::function<const char*(const char*)>& getenv) {
  if (!getenv("WORLD_SIZE")) return std::nullopt;
  DistributedEnv env;
  env.world_size = int_variable(getenv, "WORLD_SIZE", std::nullopt);
  env.rank = int_variable(getenv, "RANK", std::nullopt);
  env.local_rank = int_variable(getenv, "LOCAL_RANK", env.rank);
  env.master_port = int_variable(getenv, "MASTER_PORT", std::nullopt);
  const char* addr = getenv("MASTER_ADDR");
  if (!addr || !*addr) throw std::invalid_argument("MASTER_ADDR is not set");
  env.master_addr = addr;
  const char* agent = getenv("TORCHELASTIC_USE_AGENT_STORE");
  env.agent_store = agent && (std::string(agent) == "True" || std::string(agent) == "1");
  if (env.world_size < 1) throw std::invalid_argument("WORLD_SIZE must be >= 1");
  if (env.rank < 0 || env.rank >= env.world_size)
    throw std::invalid_argument("RANK=" + std::to_string(env.rank) + " is outside [0, WORLD_SIZE=" +
                                std::to_string(env.world_size) + ")");
  if (env.master_port < 1 || env.master_port > 65535)
    throw std::invalid_argument("MASTER_PORT=" + std::to_string(env.master_port) +
                                " is not a port number");
  return env;
}

std::unique_ptr<ProcessGroup> make_process_group(const DistributedEnv& env, c10::Device device,
                                                 std::chrono::milliseconds timeout) {
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  // A write to a rank that has died must fail with an error this rank
  // reports (gloo throws on EPIPE), not kill it with SIGPIPE (exit 141).
  std::signal(SIGPIPE, SIG_IGN);
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(env.master_port);
    store_options.isServer = env.rank == 0 && !env.agent_store;
    store_options.numWorkers =
        env.agent_store ? c10::nullopt : c10::optional<std::size_t>(env.world_size);
    store_options.waitWorkers = false;
    store_options.timeout = timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
    if (device.is_cuda()) {
#ifdef USE_C10D_NCCL
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      auto group =
          c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, options);
      return std::make_unique<C10dGroup>(store, group, "nccl");
#else
      throw std::runtime_error(
          "this LibTorch build has no NCCL: distributed CUDA training is not available");
#endif
    }
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(env.master_addr));
    options->threads = 2;
    auto group =
        c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, options);
    return std::make_unique<C10dGroup>(store, group, "gloo");
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw std::runtime_error("rank " + std::to_string(env.rank) +
                             " could not join the process group at " + where + ": " +
                             what.substr(0, what.find('\n')));
  }
}

void average_gradients(ProcessGroup* group, torch::nn::Module& model) {
  if (!group) return;
  // Every rank trains the same widths at a step, so the unused parameters are
  // the same on every rank: they travel as zeros (one bucket layout for all)
  // and are left without a gradient again, for the optimizer to skip.
  std::vector<at::Tensor> grads, unused;
  for (auto& p : model.parameters()) {
    if (!p.grad().defined()) {
      p.mutable_grad() = torch::zeros_like(p);
      unused.push_back(p);
    }
    grads.push_back(p.grad());
  }
  group->allreduce_mean(grads);
  for (auto& p : unused) p.mutable_grad() = at::Tensor();
}

void average_bn_statistics(ProcessGroup* group, torch::nn::Module& model) {
  if (!group) return;
  std::vector<at::Tensor> stats;
  for (const auto& b : model.named_buffers())
    if (b.key().find("running_") != std::string::npos) stats.push_back(b.value());
  if (!stats.empty()) group->allreduce_mean(stats);
}

bool any_rank(ProcessGroup* group, bool flag) {
  if (!group) return flag;
  std::vector<at::Tensor> value = {torch::full({1}, flag ? 1.0f : 0.0f)};
  group->allreduce_mean(value);
  return value[0].item<float>() > 0;
}

}  // namespace adaptive
