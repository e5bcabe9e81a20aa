#include "train/run_directory.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "common/atomic_file.h"
#include "train/confusion_image.h"

namespace fs = std::filesystem;

namespace adaptive {

RunDirectory::RunDirectory(fs::path dir, bool writer)
    : dir_(std::move(dir)), ckpt_dir_(dir_ / "checkpoints"), writer_(writer) {}

bool RunDirectory::has_run() const {
  return fs::exists(ckpt_dir_ / "last.pt");
}

void RunDirectory::open(const std::string& config_json, int64_t step) {
  fs::create_directories(ckpt_dir_);
  if (!writer_) return;
  if (step == 0) write_file_atomically((dir_ / "config.json").string(), config_json + "\n");
  metrics_.open(dir_ / "metrics.jsonl", step == 0 ? std::ios::trunc : std::ios::app);
  if (!metrics_)
    throw std::runtime_error((dir_ / "metrics.jsonl").string() + ": cannot open for writing");
}

void RunDirectory::log(const nlohmann::json& line) {
  if (!writer_) return;
  metrics_ << line.dump() << "\n";
  metrics_.flush();
  if (!metrics_) {
    throw std::runtime_error((dir_ / "metrics.jsonl").string() +
                             ": cannot write: " + std::strerror(errno));
  }
}

void RunDirectory::save_last(torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                             const Checkpoint& checkpoint) {
  if (writer_) save_checkpoint((ckpt_dir_ / "last.pt").string(), model, optimizer, checkpoint);
}

void RunDirectory::link_as(const fs::path& target, const std::string& alias) {
  const fs::path tmp = ckpt_dir_ / (alias + ".tmp");
  fs::remove(tmp);
  fs::create_hard_link(target, tmp);
  fs::rename(tmp, ckpt_dir_ / alias);
}

void RunDirectory::save_epoch(torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                              const Checkpoint& checkpoint, bool best, int keep) {
  if (!writer_) return;
  char name[32];
  std::snprintf(name, sizeof name, "epoch_%04lld.pt",
                static_cast<long long>(checkpoint.state.epoch));
  const fs::path path = ckpt_dir_ / name;
  save_checkpoint(path.string(), model, optimizer, checkpoint);
  link_as(path, "last.pt");
  if (best) link_as(path, "best.pt");
  sync_directory(ckpt_dir_.string());
  std::vector<fs::path> epochs;
  for (const auto& e : fs::directory_iterator(ckpt_dir_)) {
    if (e.path().filename().string().rfind("epoch_", 0) == 0) epochs.push_back(e.path());
  }
  std::sort(epochs.begin(), epochs.end());
  for (size_t i = 0; i + keep < epochs.size(); ++i) fs::remove(epochs[i]);
}

void RunDirectory::write_report(const nlohmann::json& report) {
  if (writer_) write_file_atomically((dir_ / "report.json").string(), report.dump(2) + "\n");
}

void RunDirectory::write_confusion_image(const std::vector<std::string>& classes,
                                         const std::vector<WidthReport>& widths) {
  if (writer_) write_confusion_png((dir_ / "confusion.png").string(), classes, widths);
}

}  // namespace adaptive
