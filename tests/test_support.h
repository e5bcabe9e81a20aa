// Shared pieces of the test suite: temporary folders and a tiny synthetic
// dataset rendered on demand.
#pragma once

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datasets/synth_gestures.h"

namespace at {
class Tensor;
}  // namespace at

namespace adaptive {
struct TrainConfig;
struct TrainerOptions;
class GateHeadImpl;
class SlimmableNet;
struct ModelOptions;
}  // namespace adaptive

namespace adaptive::test {

// A fresh folder under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str(const std::string& child = "") const { return (path_ / child).string(); }

 private:
  std::filesystem::path path_;
};

// The message of the `E` that `call` throws, or "<no exception thrown>"
// (another exception escapes, and fails the test case).
template <typename E = std::exception>
std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const E& e) {
    return e.what();
  }
  return "<no exception thrown>";
}

// Writes `text` to `path`, creating parent folders.
void write_file(const std::filesystem::path& path, const std::string& text);

// A small copy of a standard dataset in its published layout
// (datasets/dataset_layouts.h; `layout` is jester, ssv2, ucf101 or kinetics)
// with the download's folder names and quirks: 3 classes, 2 training and 1
// validation clip each, and 1 test clip each where the dataset labels its
// test split (UCF101, Kinetics). Each clip: 12 frames of 40x32, coloured by
// class. Returns the class names in the dataset's own label order.
std::vector<std::string> write_standard_dataset(const std::string& layout,
                                                const std::filesystem::path& root);

// Options for a tiny dataset: 2 train, 1 val, 1 test clip per class, 64x48,
// 16 frames, one 6-second stream.
SynthOptions tiny_synth_options(const std::string& out_dir, uint64_t seed = 7);

// The suite's shared fixtures: the tiny dataset and the tiny trained run,
// each made once per suite run. Under CTest a fixture case (kFixturesCase,
// tests/CMakeLists.txt: FIXTURES_SETUP) makes them in the folder that
// kFixturesVariable names, before any case that reads them; the cases only
// read them. A test binary run by hand, without the variable, makes them
// once per process in temporary folders.
inline constexpr const char* kFixturesVariable = "ADAPTIVE_TEST_FIXTURES";
inline constexpr const char* kFixturesCase = "fixtures: the tiny dataset and the tiny trained run";
void make_tiny_synth_dataset(const std::string& root);
// `causal`: the same recipe with model.causal (a model that streams).
void make_tiny_trained_run(const std::string& dataset, const std::string& out, bool causal = false);

// The tiny dataset (seed 7); returns its root.
const std::string& tiny_synth_dataset();

// A training run small enough for a unit test: the tiny dataset at `root`,
// a tsm_mobile network of widths {0.5, 1.0}, 2 epochs, 4 frames of 32x32.
TrainConfig tiny_train_config(const std::string& root);

// Trainer options for a run into `out` without progress output.
TrainerOptions quiet_trainer(const std::string& out, const std::string& resume = "");

// The tiny config for a CLI run, written as `dir`/`name`.json after
// `change`: 1 epoch, 1 thread, no dropout, no gate. Returns the file's path.
std::string write_tiny_config(const TempDir& dir, const std::string& name,
                              const std::function<void(TrainConfig&)>& change);

// The temporary files of write_file_atomically (common/atomic_file.h) left
// in `dir`: names ending in ".tmp".
std::vector<std::string> temp_files(const std::string& dir);

// A whole file's bytes ("" when it cannot be read).
std::string read_file(const std::string& path);

// Runs `command` with sh, stdout and stderr together, killed after
// `timeout_s` seconds. rc: the exit status, 128 + N when a signal N ended it
// (a timeout gives 137); output holds what it printed.
struct CommandResult {
  int rc = -1;
  std::string output;
};
CommandResult run_command(const std::string& command, int timeout_s = 120);

// A command running beside the test (a server, a live run), started with
// sh -c "exec COMMAND": its stdout is read line by line as it comes, its
// stderr goes to a file. The destructor kills it (SIGKILL) if it still runs.
class Process {
 public:
  explicit Process(const std::string& command);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // The next stdout line (without '\n'), or nothing when none came within
  // `timeout_s` or stdout closed.
  std::optional<std::string> read_line(double timeout_s);
  // Everything it prints on stdout until it closes it (up to `timeout_s`).
  std::string read_rest(double timeout_s);
  bool running();
  void signal(int sig);
  // Its exit status (128 + N for signal N), or -1 when it did not end within
  // `timeout_s` (it is then killed).
  int wait(double timeout_s);
  std::string err() const;  // what it printed on stderr so far

 private:
  int pid_ = -1, out_fd_ = -1, status_ = -1;
  std::string pending_;
  TempDir dir_;
};

// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
int free_local_port();
// Whether something listens on 127.0.0.1:`port`, or has accepted a client
// there (from /proc/net/tcp: asks without connecting, so a server that takes
// one client keeps it; a server that stops listening once a client that
// was waiting for it connects counts too).
bool port_serving(int port);

// A case that cannot run on this system (a missing kernel feature, not a
// bug) calls skip(reason) and returns at once, before it checks anything.
// The reason is printed as "SKIPPED: reason"; when every case of the run was
// skipped, the run exits with kSkipExitCode, which CTest reports as skipped
// (main.cpp). With ADAPTIVE_NO_SKIP=1 in the environment (CI, where the
// project's scripts install everything the suite needs) skip fails the case
// instead, naming the reason.
inline constexpr int kSkipExitCode = 77;
void skip(const std::string& reason);
// The same for hardware that no script can install (a camera): skipped even
// under ADAPTIVE_NO_SKIP, still printed and counted as skipped.
void skip_without_hardware(const std::string& reason);

// How many cases of this run called skip (for main.cpp).
int skipped_cases();

// Export parity. An exported model computes what the C++ model computes with
// other float32 rounding (batch norm folded into the convolutions, other
// kernels), so an output may differ from the C++ one by rounding at the
// output's scale and no more:
//   max|got - want| <= kParityRtol * max|want| + kParityAtol.
inline constexpr double kParityRtol = 1e-5;
inline constexpr double kParityAtol = 1e-7;
struct Parity {
  double diff = 0;   // max|got - want|
  double scale = 0;  // max|want|
  double bound = 0;  // kParityRtol * scale + kParityAtol
};
// Same shapes (REQUIREd).
Parity parity(const at::Tensor& got, const at::Tensor& want);

// The small model the export tests lower: 5 classes, widths 0.25 to 1.0,
// two stages of 16 and 32 channels at full width.
ModelOptions tiny_export_options(const std::string& name);
// Every branch of the backbones' structure that a lowering must hold to the
// training network: (2+1)D or 3D kernels, with or without motion input,
// discrete or universal width mode, for r2plus1d and tsm_mobile (10 variants).
std::vector<ModelOptions> export_variants();

// A model built from `options` (seed 3, eval mode) whose batch norms hold
// non-trivial statistics and affine parameters (none zero-scaled), so
// folding them is really tested and every residual branch counts.
std::shared_ptr<SlimmableNet> trained_looking(const ModelOptions& options);

// Gate heads that route as a test says, to check forward_gated and
// forward_and_gate on every route.
// Makes `gate` choose width index `route` for every clip.
void route_all_to(GateHeadImpl& gate, int64_t route);
// Makes `gate` spread the clips whose pooled features (of its width) are
// `features` [N, C] over its widths in turn (N >= widths): sorted by one
// standardised feature, the clips fall into equal groups, the first group to
// the narrowest width, the last to the widest. Returns each clip's width
// index [N] (int64); the rewritten gate's choice leads by >= 1e-4.
at::Tensor route_in_turn(GateHeadImpl& gate, const at::Tensor& features);
// The tiny trained run (tiny_trained_run) exported to `out` with its gate's
// head w sending every clip to width index routes[w] (one route per width).
// Returns `out`.
std::string routed_gate_model(const std::string& out, const std::vector<int64_t>& routes);

// Two checkpoints of a run of config `c` (10 classes) hold bitwise equal
// weights and buffers, at the same step (REQUIREd and CHECKed).
void require_same_weights(const std::string& a_path, const std::string& b_path,
                          const TrainConfig& c);

// The tiny config trained on the tiny dataset; returns its run directory
// (with model.pt and checkpoints/final.pt). Read it, never change it.
const std::string& tiny_trained_run();
// The same recipe with model.causal: its model.pt streams (step, init_state).
const std::string& tiny_causal_run();

}  // namespace adaptive::test
