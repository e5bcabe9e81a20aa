#include "test_support.h"

#include "models/width_gate.h"
#include "train/train_config.h"
#include "train/trainer.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iterator>
#include <random>
#include <set>
#include <stdexcept>

#include <sys/wait.h>
#include <unistd.h>

// Catch2 after LibTorch: both define CHECK, Catch2's must win.
#include <catch2/catch.hpp>

namespace fs = std::filesystem;

namespace adaptive::test {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() /
          ("adaptive-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_file(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

CommandResult run_command(const std::string& command, int timeout_s) {
  TempDir dir;
  write_file(dir.path() / "command.sh", command + "\n");
  const std::string line = "timeout -s KILL " + std::to_string(timeout_s) + " sh " +
                           dir.str("command.sh") + " >" + dir.str("output") + " 2>&1";
  const int status = std::system(line.c_str());
  CommandResult r;
  r.output = read_file(dir.str("output"));
  if (status == -1) throw std::runtime_error("cannot run: " + command);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

namespace {
std::set<std::string>& skipped_names() {
  static std::set<std::string> names;
  return names;
}
}  // namespace

void skip(const std::string& reason) {
  const char* env = std::getenv("ADAPTIVE_NO_SKIP");
  const std::string no_skip = env ? env : "";
  if (!no_skip.empty() && no_skip != "0") {
    FAIL("cannot run here, and ADAPTIVE_NO_SKIP=" + no_skip + " makes a skip a failure: " + reason);
  }
  WARN("SKIPPED: " << reason);
  skipped_names().insert(Catch::getResultCapture().getCurrentTestName());
}

int skipped_cases() {
  return static_cast<int>(skipped_names().size());
}

Parity parity(const at::Tensor& got, const at::Tensor& want) {
  REQUIRE(got.sizes() == want.sizes());
  Parity p;
  const at::Tensor g = got.to(torch::kDouble), w = want.to(torch::kDouble);
  p.diff = (g - w).abs().max().item<double>();
  p.scale = w.abs().max().item<double>();
  p.bound = kParityRtol * p.scale + kParityAtol;
  return p;
}

void route_all_to(WidthGateImpl& gate, int64_t route) {
  torch::NoGradGuard no_grad;
  gate.out->weight.zero_();
  gate.out->bias.zero_();
  gate.out->bias[route] = 1.0;
}

at::Tensor route_in_turn(WidthGateImpl& gate, const at::Tensor& features) {
  torch::NoGradGuard no_grad;
  const int64_t n = features.size(0), widths = gate.out->weight.size(0);
  REQUIRE(n >= widths);
  // The standardised feature whose sorted values lie furthest apart.
  const at::Tensor x = ((features - gate.feature_mean) / gate.feature_std).to(torch::kDouble);
  const at::Tensor sorted = std::get<0>(x.sort(0));
  const at::Tensor gaps = (sorted.narrow(0, 1, n - 1) - sorted.narrow(0, 0, n - 1)).amin(0);
  const int64_t c = gaps.argmax().item<int64_t>();
  REQUIRE(gaps[c].item<double>() > 2e-4);
  // Hidden unit 0 = that feature less its smallest value, >= 0, which the
  // relu passes as it is; the other units are 0.
  const at::Tensor v = x.select(1, c);
  const double offset = -v.min().item<double>();
  gate.hidden->weight.zero_();
  gate.hidden->bias.zero_();
  gate.hidden->weight[0][c] = 1.0;
  gate.hidden->bias[0] = offset;
  // Score k = k * h - (t_1 + ... + t_k): score k beats score k-1 exactly when
  // h > t_k, so a clip goes to the number of thresholds below its h. t_k lies
  // halfway between the last clip of group k-1 and the first of group k.
  const at::Tensor order = v.argsort();
  const at::Tensor h = v + offset;
  at::Tensor routes = torch::empty({n}, torch::kLong);
  for (int64_t r = 0; r < n; ++r) routes[order[r]] = r * widths / n;
  gate.out->weight.zero_();
  gate.out->bias.zero_();
  double sum = 0;
  for (int64_t k = 1; k < widths; ++k) {
    const int64_t first = (k * n + widths - 1) / widths;  // first rank with r * widths / n == k
    sum += (h[order[first - 1]].item<double>() + h[order[first]].item<double>()) / 2;
    gate.out->weight[k][0] = static_cast<double>(k);
    gate.out->bias[k] = -sum;
  }
  return routes;
}

SynthOptions tiny_synth_options(const std::string& out_dir, uint64_t seed) {
  SynthOptions o;
  o.out_dir = out_dir;
  o.seed = seed;
  o.train_per_class = 2;
  o.val_per_class = 1;
  o.test_per_class = 1;
  o.width = 64;
  o.height = 48;
  o.frames = 16;
  o.streams = 1;
  o.stream_seconds = 6;
  o.threads = 2;
  return o;
}

const std::string& tiny_synth_dataset() {
  static TempDir dir;
  static const std::string root = [] {
    generate_synth_gestures(tiny_synth_options(dir.str("synth")));
    return dir.str("synth");
  }();
  return root;
}

TrainConfig tiny_train_config(const std::string& root) {
  TrainConfig c;
  c.data.root = root;
  c.data.synthesize = false;
  c.data.clip.frames = 4;
  c.data.transform.short_side = 36;
  c.data.transform.crop_height = c.data.transform.crop_width = 32;
  c.data.workers = 0;
  c.data.cache_mb = 0;
  c.model.name = "tsm_mobile";
  c.model.widths = {0.5, 1.0};
  c.model.channel_multiple = 4;
  c.model.base_channels = 8;
  c.model.blocks = {1};
  c.train.epochs = 2;
  c.train.batch_size = 4;
  c.train.lr = 0.05;
  c.train.log_every = 1;
  c.gate.epochs = 3;
  return c;
}

std::string write_tiny_config(const TempDir& dir, const std::string& name,
                              const std::function<void(TrainConfig&)>& change) {
  TrainConfig c = tiny_train_config(tiny_synth_dataset());
  c.model.dropout = 0;
  c.train.epochs = 1;
  c.train.threads = 1;
  c.gate.enabled = false;
  change(c);
  const std::string path = dir.str(name + ".json");
  write_file(path, config_to_json(c).dump(2));
  return path;
}

TrainerOptions quiet_trainer(const std::string& out, const std::string& resume) {
  TrainerOptions o;
  o.out_dir = out;
  o.resume = resume;
  o.progress = false;
  return o;
}

const std::string& tiny_trained_run() {
  static TempDir dir;
  static const std::string run = [] {
    const std::string out = dir.str("run");
    Trainer(tiny_train_config(tiny_synth_dataset()), quiet_trainer(out)).run();
    return out;
  }();
  return run;
}

}  // namespace adaptive::test
