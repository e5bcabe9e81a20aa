#include "test_support.h"

#include "common/clock.h"
#include "models/slimmable_net.h"
#include "models/width_gate.h"
#include "train/checkpoint.h"
#include "train/exporter.h"
#include "train/train_config.h"
#include "train/trained_model.h"
#include "train/trainer.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <random>
#include <set>
#include <stdexcept>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

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

namespace {

// 12 frames of 40x32: the class's colour, a bar moving across by clip.
cv::Mat fixture_frame(int label, int clip, int t) {
  cv::Mat bgr(32, 40, CV_8UC3, cv::Scalar(60 + 80 * (label % 3), 40 + 90 * (label / 3 % 3), 90));
  cv::rectangle(bgr, cv::Rect((3 * t + 7 * clip) % 36, 4 + 6 * label, 4, 8),
                cv::Scalar(250, 250, 250), cv::FILLED);
  return bgr;
}

constexpr int kFixtureFrames = 12;

void write_fixture_video(const fs::path& path, int label, int clip) {
  fs::create_directories(path.parent_path());
  const std::string ext = path.extension().string();
  const char* fourcc = ext == ".webm" ? "VP80" : ext == ".mp4" ? "mp4v" : "MJPG";
  cv::VideoWriter out(path.string(),
                      cv::VideoWriter::fourcc(fourcc[0], fourcc[1], fourcc[2], fourcc[3]), 12,
                      cv::Size(40, 32));
  if (!out.isOpened()) throw std::runtime_error("cannot write " + path.string());
  for (int t = 0; t < kFixtureFrames; ++t) out.write(fixture_frame(label, clip, t));
}

void write_fixture_frames(const fs::path& dir, int label, int clip) {
  fs::create_directories(dir);
  for (int t = 0; t < kFixtureFrames; ++t) {
    char name[16];
    std::snprintf(name, sizeof name, "%05d.jpg", t + 1);
    if (!cv::imwrite((dir / name).string(), fixture_frame(label, clip, t)))
      throw std::runtime_error("cannot write " + (dir / name).string());
  }
}

}  // namespace

std::vector<std::string> write_standard_dataset(const std::string& layout, const fs::path& root) {
  const std::vector<std::string> splits = {"train", "train", "val", "test"};  // clips per class
  if (layout == "jester") {
    const std::vector<std::string> classes = {"Swiping Left", "Swiping Right",
                                              "Doing other things"};
    std::string labels, train, val;
    int id = 34870;
    for (int c = 0; c < 3; ++c) {
      labels += classes[c] + "\n";
      for (int k = 0; k < 3; ++k, ++id) {
        write_fixture_frames(root / "20bn-jester-v1" / std::to_string(id), c, k);
        (k < 2 ? train : val) += std::to_string(id) + ";" + classes[c] + "\n";
      }
    }
    write_file(root / "jester-v1-labels.csv", labels);
    write_file(root / "jester-v1-train.csv", train);
    write_file(root / "jester-v1-validation.csv", val);
    write_file(root / "jester-v1-test.csv", "99001\n99002\n");  // ids only: no labels
    return classes;
  }
  if (layout == "ssv2") {
    const std::vector<std::string> templates = {"Putting [something] on a surface",
                                                "Pushing [something] from left to right",
                                                "Holding [something] next to [something]"};
    const std::vector<std::vector<std::string>> things = {
        {"a cup"}, {"a pen"}, {"potato", "vicks vaporub bottle"}};
    nlohmann::json labels = nlohmann::json::object(), train = nlohmann::json::array(),
                   val = nlohmann::json::array();
    std::vector<std::string> classes;
    int id = 78687;
    for (int c = 0; c < 3; ++c) {
      std::string name = templates[c], label = templates[c];
      name.erase(
          std::remove_if(name.begin(), name.end(), [](char ch) { return ch == '[' || ch == ']'; }),
          name.end());
      for (const auto& thing : things[c]) label.replace(label.find("[something]"), 11, thing);
      labels[name] = std::to_string(c);  // SSv2 writes the indices as strings
      classes.push_back(name);
      for (int k = 0; k < 3; ++k, ++id) {
        write_fixture_video(root / "20bn-something-something-v2" / (std::to_string(id) + ".webm"),
                            c, k);
        (k < 2 ? train : val)
            .push_back({{"id", std::to_string(id)},
                        {"label", label},
                        {"template", templates[c]},
                        {"placeholders", things[c]}});
      }
    }
    write_file(root / "labels" / "labels.json", labels.dump(1));
    write_file(root / "labels" / "train.json", train.dump(1));
    write_file(root / "labels" / "validation.json", val.dump(1));
    write_file(root / "labels" / "test.json", R"([{"id": "99001"}])");
    return classes;
  }
  if (layout == "ucf101") {
    // HandstandPushups' clips are named v_HandStandPushups_... in the download.
    const std::vector<std::pair<std::string, std::string>> classes = {
        {"ApplyEyeMakeup", "ApplyEyeMakeup"},
        {"HandstandPushups", "HandStandPushups"},
        {"YoYo", "YoYo"}};
    const std::vector<int> groups = {11, 12, 8, 1};  // train, train, val (the lowest group), test
    std::string index, train, test;
    std::vector<std::string> names;
    for (int c = 0; c < 3; ++c) {
      const auto& [folder, file] = classes[c];
      index += std::to_string(c + 1) + " " + folder + "\r\n";  // the download's CRLF lines
      names.push_back(folder);
      for (int k = 0; k < 4; ++k) {
        char clip[96];
        std::snprintf(clip, sizeof clip, "%s/v_%s_g%02d_c%02d.avi", folder.c_str(), file.c_str(),
                      groups[k], 1 + k % 2);
        write_fixture_video(root / "UCF-101" / clip, c, k);
        if (k < 3)
          train += std::string(clip) + " " + std::to_string(c + 1) + "\r\n";
        else
          test += std::string(clip) + "\r\n";
      }
    }
    write_file(root / "ucfTrainTestlist" / "classInd.txt", index);
    write_file(root / "ucfTrainTestlist" / "trainlist01.txt", train);
    write_file(root / "ucfTrainTestlist" / "testlist01.txt", test);
    return names;
  }
  if (layout == "kinetics") {
    const std::vector<std::string> classes = {"abseiling", "playing guitar", "zumba"};
    std::string csv[3];
    for (auto& c : csv) c = "label,youtube_id,time_start,time_end,split,is_cc\n";
    for (int c = 0; c < 3; ++c) {
      std::string folder = classes[c];
      std::replace(folder.begin(), folder.end(), ' ', '_');  // some downloaders' folder names
      for (int k = 0; k < 4; ++k) {
        const std::string id = "yt" + std::to_string(c) + "_" + std::to_string(k) + "-Xq";
        const int start = 10 * k + c;
        char file[96];
        std::snprintf(file, sizeof file, "%s_%06d_%06d.mp4", id.c_str(), start, start + 10);
        const std::string split = splits[k];
        // train/<label>/, val/ (flat), test/<label_with_underscores>/
        const fs::path dir = split == "train" ? root / "train" / classes[c]
                             : split == "val" ? root / "val"
                                              : root / "test" / folder;
        write_fixture_video(dir / file, c, k);
        const int i = split == "train" ? 0 : split == "val" ? 1 : 2;
        const std::string label =
            classes[c].find(' ') != std::string::npos ? "\"" + classes[c] + "\"" : classes[c];
        csv[i] += label + "," + id + "," + std::to_string(start) + "," +
                  std::to_string(start + 10) + "," + (split == "val" ? "validate" : split) + ",0\n";
      }
    }
    write_file(root / "annotations" / "train.csv", csv[0]);
    write_file(root / "annotations" / "validate.csv", csv[1]);
    write_file(root / "annotations" / "test.csv", csv[2]);
    return {"abseiling", "playing guitar", "zumba"};
  }
  throw std::invalid_argument("write_standard_dataset: unknown layout " + layout);
}

std::vector<std::string> temp_files(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() >= 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) found.push_back(name);
  }
  return found;
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
double seconds_left(Clock::time_point deadline) {
  return std::chrono::duration<double>(deadline - Clock::now()).count();
}
}  // namespace

Process::Process(const std::string& command) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const std::string err_path = dir_.str("stderr");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(fds[1], 1);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) ::dup2(err, 2);
    ::close(fds[0]);
    ::close(fds[1]);
    const std::string line = "exec " + command;
    ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  out_fd_ = fds[0];
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

std::optional<std::string> Process::read_line(double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(timeout_s));
  while (true) {
    const auto newline = pending_.find('\n');
    if (newline != std::string::npos) {
      std::string line = pending_.substr(0, newline);
      pending_.erase(0, newline + 1);
      return line;
    }
    const double left = seconds_left(deadline);
    if (left <= 0 || out_fd_ < 0) return std::nullopt;
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      ::close(out_fd_);
      out_fd_ = -1;
      return std::nullopt;
    }
    pending_.append(buf, static_cast<size_t>(n));
  }
}

std::string Process::read_rest(double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(timeout_s));
  std::string out;
  while (auto line = read_line(std::max(0.0, seconds_left(deadline)))) out += *line + "\n";
  return out + pending_;
}

bool Process::running() {
  if (status_ >= 0 || pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
  status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

void Process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

int Process::wait(double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(timeout_s));
  while (running()) {
    if (seconds_left(deadline) <= 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      status_ = -1;
      pid_ = -1;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

std::string Process::err() const {
  return read_file(dir_.str("stderr"));
}

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a local port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool port_serving(int port) {
  // Lines: "sl local_address rem_address st ...", addresses as HEXIP:HEXPORT,
  // state 0A = LISTEN, 01 = ESTABLISHED.
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream in(read_file(table));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      const auto colon = local.rfind(':');
      if (colon == std::string::npos || (state != "0A" && state != "01")) continue;
      if (std::stoi(local.substr(colon + 1), nullptr, 16) == port) return true;
    }
  }
  return false;
}

namespace {
std::set<std::string>& skipped_names() {
  static std::set<std::string> names;
  return names;
}
}  // namespace

void skip_without_hardware(const std::string& reason) {
  WARN("SKIPPED: " << reason);
  skipped_names().insert(Catch::getResultCapture().getCurrentTestName());
}

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

void route_all_to(GateHeadImpl& gate, int64_t route) {
  torch::NoGradGuard no_grad;
  gate.out->weight.zero_();
  gate.out->bias.zero_();
  gate.out->bias[route] = 1.0;
}

at::Tensor route_in_turn(GateHeadImpl& gate, const at::Tensor& features) {
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
  o.train_streams = 1;
  o.val_streams = 1;
  o.test_streams = 1;
  o.stream_seconds = 6;
  o.threads = 2;
  return o;
}

namespace {

// The folder the suite's fixture case filled, when CTest runs the suite.
std::optional<fs::path> shared_fixtures() {
  const char* dir = std::getenv(kFixturesVariable);
  if (dir == nullptr || *dir == '\0') return std::nullopt;
  return fs::path(dir);
}

// `path` inside the shared fixtures, which must hold `marker`.
std::string shared_fixture(const fs::path& dir, const std::string& name,
                           const std::string& marker) {
  const fs::path path = dir / name;
  if (!fs::exists(path / marker)) {
    throw std::runtime_error(std::string(kFixturesVariable) + " is " + dir.string() + ", but " +
                             (path / marker).string() +
                             " is missing: the suite's fixture case (\"" + kFixturesCase +
                             "\") makes it");
  }
  return path.string();
}

}  // namespace

void make_tiny_synth_dataset(const std::string& root) {
  generate_synth_gestures(tiny_synth_options(root));
}

void make_tiny_trained_run(const std::string& dataset, const std::string& out, bool causal) {
  TrainConfig c = tiny_train_config(dataset);
  c.model.causal = causal;
  if (causal) c.data.clip.past_frames = 2;  // trains as it streams
  torch::AutoGradMode grad(true);           // whatever guard the test that first needs it holds
  Trainer(c, quiet_trainer(out)).run();
}

const std::string& tiny_synth_dataset() {
  static const std::string root = [] {
    if (const auto dir = shared_fixtures()) return shared_fixture(*dir, "synth", "synth.json");
    static TempDir own;
    make_tiny_synth_dataset(own.str("synth"));
    return own.str("synth");
  }();
  return root;
}

const std::string& tiny_trained_run() {
  static const std::string run = [] {
    if (const auto dir = shared_fixtures()) return shared_fixture(*dir, "run", "model.pt");
    static TempDir own;
    make_tiny_trained_run(tiny_synth_dataset(), own.str("run"));
    return own.str("run");
  }();
  return run;
}

const std::string& tiny_causal_run() {
  static const std::string run = [] {
    if (const auto dir = shared_fixtures()) return shared_fixture(*dir, "causal-run", "model.pt");
    static TempDir own;
    make_tiny_trained_run(tiny_synth_dataset(), own.str("causal-run"), /*causal=*/true);
    return own.str("causal-run");
  }();
  return run;
}

ModelOptions tiny_export_options(const std::string& name) {
  ModelOptions o;
  o.name = name;
  o.num_classes = 5;
  o.widths = {0.25, 0.5, 0.75, 1.0};
  o.base_channels = 16;
  o.blocks = {1, 1};
  return o;
}

std::vector<ModelOptions> export_variants() {
  std::vector<ModelOptions> variants;
  for (const std::string name : {"r2plus1d", "tsm_mobile"}) {
    for (WidthMode mode : {WidthMode::kDiscrete, WidthMode::kUniversal}) {
      for (bool factorized : {true, false}) {
        for (bool motion : {true, false}) {
          if (name == "tsm_mobile" && (!factorized || !motion)) continue;  // options r2plus1d reads
          variants.push_back(tiny_export_options(name));
          variants.back().width_mode = mode;
          variants.back().factorized = factorized;
          variants.back().motion_input = motion;
        }
      }
    }
  }
  // Temporal kernels from the last stage on, features pooled over the last 2 frames.
  variants.push_back(tiny_export_options("r2plus1d"));
  variants.back().temporal_from_stage = 2;
  variants.back().pool_frames = 2;
  return variants;
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

void require_same_weights(const std::string& a_path, const std::string& b_path,
                          const TrainConfig& c) {
  auto a = build_model(model_options(c, 10));
  auto b = build_model(model_options(c, 10));
  const Checkpoint ca = load_checkpoint(a_path, *a, nullptr);
  const Checkpoint cb = load_checkpoint(b_path, *b, nullptr);
  CHECK(ca.state.step == cb.state.step);
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  const auto ba = a->named_buffers(), bb = b->named_buffers();
  REQUIRE(pa.size() == pb.size());
  REQUIRE(ba.size() == bb.size());
  for (const auto& p : pa) {
    INFO(p.key());
    CHECK(at::equal(p.value(), pb[p.key()]));  // bitwise
  }
  for (const auto& p : ba) {
    INFO(p.key());
    CHECK(at::equal(p.value(), bb[p.key()]));
  }
}

std::string routed_gate_model(const std::string& out, const std::vector<int64_t>& routes) {
  TrainedModel t = load_trained_model(tiny_trained_run() + "/checkpoints/final.pt", "export");
  REQUIRE(t.gate);
  REQUIRE(routes.size() == t.gate->heads.size());
  for (size_t w = 0; w < routes.size(); ++w) route_all_to(*t.gate->heads[w], routes[w]);
  const std::string checkpoint = out + ".checkpoint.pt";
  save_checkpoint(checkpoint, *t.model, nullptr, t.checkpoint, t.gate.ptr().get());
  export_checkpoint({checkpoint, out, {}});
  fs::remove(checkpoint);
  return out;
}

std::shared_ptr<SlimmableNet> trained_looking(const ModelOptions& options) {
  torch::manual_seed(3);
  auto model = build_model(options);
  torch::NoGradGuard no_grad;
  for (auto& p : model->named_parameters()) {
    if (p.key().find(".bn.") != std::string::npos) p.value().uniform_(0.5, 1.5);
  }
  for (auto& b : model->named_buffers()) {
    if (b.key().find("running_mean") != std::string::npos) b.value().normal_(0, 0.2);
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 2.0);
  }
  model->eval();
  return model;
}

}  // namespace adaptive::test
