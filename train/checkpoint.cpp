#include "train/checkpoint.h"

#include <filesystem>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/torch.h>

#include "common/atomic_file.h"

namespace fs = std::filesystem;

namespace adaptive {
namespace {

void write_module(torch::serialize::OutputArchive& archive, const std::string& prefix,
                  torch::nn::Module& m) {
  for (const auto& p : m.named_parameters())
    archive.write(prefix + p.key(), p.value().detach().cpu());
  for (const auto& b : m.named_buffers())
    archive.write(prefix + b.key(), b.value().cpu(), /*is_buffer=*/true);
}

void read_module(torch::serialize::InputArchive& archive, const std::string& prefix,
                 torch::nn::Module& m, const std::string& path) {
  torch::NoGradGuard no_grad;
  auto read_into = [&](const std::string& name, at::Tensor& target) {
    at::Tensor value;
    if (!archive.try_read(prefix + name, value)) {
      throw std::runtime_error(path + ": checkpoint has no tensor '" + prefix + name +
                               "' (a different model?)");
    }
    if (value.sizes() != target.sizes()) {
      std::ostringstream msg;
      msg << path << ": tensor '" << prefix << name << "' has shape " << value.sizes()
          << ", the model expects " << target.sizes() << " (a different model config?)";
      throw std::runtime_error(msg.str());
    }
    target.copy_(value);
  };
  for (auto& p : m.named_parameters()) read_into(p.key(), p.value());
  for (auto& b : m.named_buffers()) read_into(b.key(), b.value());
}

}  // namespace

void set_final_info(Checkpoint& c, const FinalModelInfo& info) {
  const auto list = [](const std::vector<double>& v) { return torch::tensor(v, torch::kDouble); };
  c.extra["temperature"] = list(info.temperature);
  c.extra["mflops"] = list(info.mflops);
  c.extra["params"] = list(info.params);
  c.extra["val_top1"] = list(info.val_top1);
  c.extra["gate_enabled"] = torch::tensor(info.gate_enabled ? 1 : 0);
  c.extra["gate_mflops"] = torch::tensor(info.gate_mflops, torch::kDouble);
}

std::optional<FinalModelInfo> final_info(const Checkpoint& c) {
  if (!c.extra.count("temperature")) return std::nullopt;
  const auto list = [&](const std::string& name) {
    const auto it = c.extra.find(name);
    if (it == c.extra.end()) return std::vector<double>();
    const at::Tensor t = it->second.to(torch::kDouble).contiguous();
    return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
  };
  const auto scalar = [&](const std::string& name) {
    const auto it = c.extra.find(name);
    return it == c.extra.end() ? 0.0 : it->second.item<double>();
  };
  FinalModelInfo info;
  info.temperature = list("temperature");
  info.mflops = list("mflops");
  info.params = list("params");
  info.val_top1 = list("val_top1");
  info.gate_enabled = scalar("gate_enabled") > 0;
  info.gate_mflops = scalar("gate_mflops");
  return info;
}

void save_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::optim::Optimizer* optimizer, const Checkpoint& c,
                     torch::nn::Module* gate) {
  torch::serialize::OutputArchive archive;
  write_module(archive, "model/", model);
  if (gate) write_module(archive, "gate/", *gate);
  if (optimizer) {
    torch::serialize::OutputArchive optim;
    optimizer->save(optim);
    archive.write("optimizer", optim);
  }
  const TrainingState& s = c.state;
  archive.write("state/epoch", c10::IValue(s.epoch));
  archive.write("state/next_batch", c10::IValue(s.next_batch));
  archive.write("state/step", c10::IValue(s.step));
  archive.write("state/best_metric", c10::IValue(s.best_metric));
  archive.write("state/best_epoch", c10::IValue(s.best_epoch));
  archive.write("config", c10::IValue(c.config_json));
  std::string labels;
  for (const auto& l : c.labels) labels += l + "\n";
  archive.write("labels", c10::IValue(labels));
  archive.write("clip_fps", c10::IValue(c.clip_fps));
  archive.write("rng/torch_cpu", at::detail::getDefaultCPUGenerator().get_state());
  if (torch::cuda::is_available()) {  // dropout on a GPU draws from its generator
    archive.write("rng/torch_cuda",
                  at::globalContext().defaultGenerator(c10::Device(c10::kCUDA)).get_state());
  }
  for (const auto& [name, tensor] : c.extra) archive.write("extra/" + name, tensor.cpu());
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomically(path, bytes.str());
}

namespace {

void open_archive(const std::string& path, torch::serialize::InputArchive& archive) {
  if (fs::is_directory(path)) throw std::runtime_error(path + ": is a folder, not a checkpoint");
  if (!fs::is_regular_file(path)) throw std::runtime_error(path + ": no such checkpoint file");
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": not a readable checkpoint (truncated or corrupt?): " +
                             std::string(e.what_without_backtrace()).substr(0, 200));
  }
  c10::IValue epoch;
  if (!archive.try_read("state/epoch", epoch)) {
    throw std::runtime_error(path +
                             ": not a training checkpoint of this toolkit (no training state; an "
                             "exported model? checkpoints are in RUN/checkpoints/)");
  }
}

// Everything but the modules and the optimizer; restores the RNG when asked.
Checkpoint read_data(torch::serialize::InputArchive& archive, bool restore_rng,
                     const std::string& path) try {
  Checkpoint c;
  c10::IValue v;
  archive.read("state/epoch", v), c.state.epoch = v.toInt();
  archive.read("state/next_batch", v), c.state.next_batch = v.toInt();
  archive.read("state/step", v), c.state.step = v.toInt();
  archive.read("state/best_metric", v), c.state.best_metric = v.toDouble();
  archive.read("state/best_epoch", v), c.state.best_epoch = v.toInt();
  archive.read("config", v), c.config_json = v.toStringRef();
  if (archive.try_read("labels", v)) {
    std::istringstream lines(v.toStringRef());
    for (std::string line; std::getline(lines, line);) c.labels.push_back(line);
  }
  if (archive.try_read("clip_fps", v)) c.clip_fps = v.toDouble();
  if (restore_rng) {
    at::Tensor rng;
    archive.read("rng/torch_cpu", rng);
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(rng);
    at::Tensor cuda_rng;
    if (torch::cuda::is_available() && archive.try_read("rng/torch_cuda", cuda_rng)) {
      at::Generator cuda = at::globalContext().defaultGenerator(c10::Device(c10::kCUDA));
      cuda.set_state(cuda_rng);
    }
  }
  for (const auto& key : archive.keys()) {
    if (key.rfind("extra/", 0) == 0) {
      at::Tensor t;
      archive.read(key, t);
      c.extra[key.substr(6)] = t;
    }
  }
  return c;
} catch (const c10::Error& e) {
  throw std::runtime_error(path + ": a checkpoint with missing or malformed entries: " +
                           std::string(e.what_without_backtrace()).substr(0, 200));
}

}  // namespace

Checkpoint load_checkpoint(const std::string& path, torch::nn::Module& model,
                           torch::optim::Optimizer* optimizer, torch::nn::Module* gate) {
  torch::serialize::InputArchive archive;
  open_archive(path, archive);
  read_module(archive, "model/", model, path);
  if (gate) {
    at::Tensor single_head;  // the gate's format before it had a head per width
    if (archive.try_read("gate/hidden.weight", single_head)) {
      throw std::runtime_error(path +
                               ": its gate has one head (an older format; gates now have one per "
                               "width): run adaptive-train --resume auto on its run to retrain "
                               "the gate from the finished network");
    }
    read_module(archive, "gate/", *gate, path);
  }
  if (optimizer) {
    torch::serialize::InputArchive optim;
    if (!archive.try_read("optimizer", optim)) {
      throw std::runtime_error(
          path +
          ": holds no optimizer state (a final model, not a training checkpoint); "
          "resume from checkpoints/last.pt or an epoch checkpoint");
    }
    optimizer->load(optim);
  }
  return read_data(archive, /*restore_rng=*/true, path);
}

Checkpoint read_checkpoint(const std::string& path) {
  torch::serialize::InputArchive archive;
  open_archive(path, archive);
  return read_data(archive, /*restore_rng=*/false, path);
}

}  // namespace adaptive
