// Disk faults: a disk that fills under a training run, an output folder that
// cannot be written, and tools writing onto a full disk.
// Each is a clear error and a non-zero exit, and what was written before
// (the last good checkpoint) survives intact.
//
// The faults are real: each case runs in a mount namespace of its own
// (unshare) with a small tmpfs as the output disk, filled with dd while the
// tool runs, or mounted read-only. The mounts vanish with the
// namespace. Where this system refuses namespaces those cases are skipped
// (test::skip: CTest reports them skipped; under ADAPTIVE_NO_SKIP=1 they fail).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "common/atomic_file.h"
#include "train/checkpoint.h"
#include "train/train_config.h"

// Catch2 after LibTorch: both define CHECK, Catch2's must win.
#include <catch2/catch.hpp>

#include "test_support.h"

using namespace adaptive;
using adaptive::test::run_command;
using adaptive::test::TempDir;
namespace fs = std::filesystem;

namespace {

// Runs `script` (sh) as root of a fresh user + mount namespace in which `disk`
// is a tmpfs of `mb` MB. Where namespaces are off, skips the case (the caller
// returns at once) and returns false.
bool run_on_small_disk(const std::string& disk, int mb, const std::string& script,
                       test::CommandResult& result) {
  fs::create_directories(disk);
  static const test::CommandResult probe =
      run_command("unshare -rm sh -c 'mount -t tmpfs -o size=1m tmpfs " + disk + "'", 30);
  if (probe.rc != 0) {
    test::skip("no user + mount namespace here: unshare/mount refused (exit " +
               std::to_string(probe.rc) + "): " + probe.output);
    return false;
  }
  test::write_file(disk + ".sh", "mount -t tmpfs -o size=" + std::to_string(mb) + "m tmpfs " +
                                     disk + " || exit 99\n" + script);
  result = run_command("unshare -rm sh " + disk + ".sh", 300);
  INFO(result.output);
  REQUIRE(result.rc == 0);  // the script itself records the tools' exit codes
  return true;
}

int read_rc(const TempDir& dir, const std::string& name) {
  const std::string text = test::read_file(dir.str(name));
  return text.empty() ? -1 : std::stoi(text);
}

// Starts a training run in the background that logs a step after every
// batch and checkpoints after each; waits for `steps` logged steps.
std::string start_training_and_wait(const std::string& config, const std::string& run,
                                    const std::string& log, int steps) {
  return std::string(ADAPTIVE_TRAIN) + " --config " + config + " --out " + run + " >" + log +
         " 2>&1 & p=$!\n" + "while n=$(grep -c train " + run +
         "/metrics.jsonl 2>/dev/null); [ ${n:-0} -lt " + std::to_string(steps) +
         " ]; do kill -0 $p 2>/dev/null || break; sleep 0.01; done\n";
}

std::string config_long_run(const TempDir& dir) {
  return test::write_tiny_config(dir, "long", [](TrainConfig& c) {
    c.train.epochs = 20;
    c.train.checkpoint_every = 1;
  });
}

}  // namespace

TEST_CASE("a disk that fills mid-run stops training with an error, and the last checkpoint resumes",
          "[reliability][disk][slow]") {
  TempDir dir;
  const std::string disk = dir.str("disk"), run = disk + "/run";
  const std::string config = config_long_run(dir);
  const std::string script =
      start_training_and_wait(config, run, dir.str("full.log"), 3) + "dd if=/dev/zero of=" + disk +
      "/filler bs=64k 2>/dev/null\n" + "wait $p; echo $? >" + dir.str("rc_full") + "\n" + "ls " +
      run + "/checkpoints >" + dir.str("listing") + "\n" + "cp " + run + "/checkpoints/last.pt " +
      dir.str("survivor.pt") + "\n" + "rm " + disk + "/filler\n" + ADAPTIVE_TRAIN + " --config " +
      config + " --out " + run + " --resume auto >" + dir.str("resume.log") + " 2>&1; echo $? >" +
      dir.str("rc_resume") + "\n";
  test::CommandResult r;
  if (!run_on_small_disk(disk, 4, script, r)) return;
  const std::string log = test::read_file(dir.str("full.log"));
  INFO(log);
  CHECK(read_rc(dir, "rc_full") == 1);
  CHECK_THAT(log, Catch::Contains("adaptive-train: error: ") &&
                      Catch::Contains("No space left on device") && Catch::Contains(run));
  // No half-written file is left, and the last checkpoint is whole.
  CHECK(test::read_file(dir.str("listing")).find(".tmp") == std::string::npos);
  const Checkpoint survivor = read_checkpoint(dir.str("survivor.pt"));
  CHECK(survivor.state.step >= 2);
  // With space again, the run resumes from it.
  INFO(test::read_file(dir.str("resume.log")));
  CHECK(read_rc(dir, "rc_resume") == 0);
  CHECK_THAT(test::read_file(dir.str("resume.log")), Catch::Contains("resuming from"));
}

TEST_CASE("a file write killed midway leaves the previous version whole", "[reliability][disk]") {
  // What every checkpoint, export and result file goes through.
  TempDir dir;
  const std::string path = dir.str("last.pt");
  const std::string before = "the previous checkpoint, whole\n";
  write_file_atomically(path, before);
  const std::string big(64 << 20, 'x');
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    write_file_atomically(path, big);
    _exit(0);
  }
  // Kill the writer once its temporary file has bytes in it.
  std::error_code ec;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  const auto temp_bytes = [&]() -> uintmax_t {
    const auto names = test::temp_files(dir.str());
    return names.empty() ? 0 : fs::file_size(dir.path() / names.front(), ec);
  };
  while (temp_bytes() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  const bool killed = WIFSIGNALED(status);
  const std::string after = test::read_file(path);
  INFO("killed: " << killed << ", temporary file " << temp_bytes() << " bytes");
  REQUIRE(killed);         // mid-write: 64 MB take far longer than the poll
  CHECK(after == before);  // the old file, untouched
}

TEST_CASE("an output folder under a regular file stops a run before it trains",
          "[reliability][disk]") {
  TempDir dir;
  const std::string config = test::write_tiny_config(dir, "tiny", [](TrainConfig&) {});
  // No namespace needed.
  test::write_file(dir.path() / "plain.txt", "a file, not a folder\n");
  const auto under_file = run_command(std::string(ADAPTIVE_TRAIN) + " --config " + config +
                                      " --out " + dir.str("plain.txt") + "/run");
  INFO(under_file.output);
  CHECK(under_file.rc == 1);
  CHECK_THAT(under_file.output, Catch::Contains("plain.txt") && Catch::Contains("Not a directory"));
  CHECK_THAT(under_file.output, !Catch::Contains("training:"));
}

TEST_CASE("an output folder on a read-only disk stops a run before it trains",
          "[reliability][disk]") {
  TempDir dir;
  const std::string config = test::write_tiny_config(dir, "tiny", [](TrainConfig&) {});
  const std::string disk = dir.str("disk");
  const std::string script = "mount -o remount,ro " + disk + "\n" + ADAPTIVE_TRAIN + " --config " +
                             config + " --out " + disk + "/run >" + dir.str("log") +
                             " 2>&1; echo $? >" + dir.str("rc") + "\n";
  test::CommandResult r;
  if (!run_on_small_disk(disk, 1, script, r)) return;
  const std::string log = test::read_file(dir.str("log"));
  INFO(log);
  CHECK(read_rc(dir, "rc") == 1);
  CHECK_THAT(log, Catch::Contains(disk + "/run") && Catch::Contains("Read-only file system"));
  CHECK_THAT(log, !Catch::Contains("training:"));
}

TEST_CASE("exports, inference results and overlays onto a full disk fail whole, leaving nothing",
          "[reliability][disk][slow]") {
  TempDir dir;
  const std::string& trained = test::tiny_trained_run();
  const std::string disk = dir.str("disk");
  const std::string video = test::tiny_synth_dataset() + "/streams/test/stream_000.avi";
  const std::string script =
      "dd if=/dev/zero of=" + disk + "/filler bs=64k 2>/dev/null\n" + ADAPTIVE_TRAIN +
      " export --checkpoint " + trained + "/checkpoints/final.pt --out " + disk + "/model.pt >" +
      dir.str("export.log") + " 2>&1; echo $? >" + dir.str("rc_export") + "\n" + ADAPTIVE_INFER +
      " --model " + trained + "/model.pt --input " + video + " --quiet --output " + disk +
      "/out.jsonl >" + dir.str("infer.log") + " 2>&1; echo $? >" + dir.str("rc_infer") + "\n" +
      ADAPTIVE_INFER + " --model " + trained + "/model.pt --input " + video + " --quiet --output " +
      dir.str("overlay_run.jsonl") + " --overlay " + disk + "/overlay.avi >" +
      dir.str("overlay.log") + " 2>&1; echo $? >" + dir.str("rc_overlay") + "\n" + "rm " + disk +
      "/filler; ls -A " + disk + " >" + dir.str("listing") + "\n";
  test::CommandResult r;
  if (!run_on_small_disk(disk, 2, script, r)) return;
  INFO(test::read_file(dir.str("export.log"))
       << test::read_file(dir.str("infer.log")) << test::read_file(dir.str("overlay.log")));
  CHECK(read_rc(dir, "rc_export") == 1);
  CHECK_THAT(test::read_file(dir.str("export.log")), Catch::Contains("No space left on device"));
  CHECK(read_rc(dir, "rc_infer") == 1);
  CHECK_THAT(test::read_file(dir.str("infer.log")), Catch::Contains("No space left on device"));
  CHECK(read_rc(dir, "rc_overlay") == 1);
  CHECK_THAT(test::read_file(dir.str("overlay.log")), Catch::Contains("overlay.avi"));
  CHECK(test::read_file(dir.str("listing")).empty());  // no file, whole or partial, left behind
}
