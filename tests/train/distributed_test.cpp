#include "train/distributed.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <torch/torch.h>

#include "common/clock.h"
#include "train/checkpoint.h"
#include "train/train_config.h"
#include "train/trainer.h"

// Catch2 after LibTorch: both define CHECK, Catch2's must win.
#include <catch2/catch.hpp>

#include "test_support.h"

using namespace adaptive;
using adaptive::test::TempDir;
namespace fs = std::filesystem;

namespace {

int free_port() {
  return 20000 + static_cast<int>(getpid() % 20000);
}

// Runs each command in the background at once; returns their exit codes.
std::vector<int> run_together(const std::vector<std::string>& commands, const TempDir& dir) {
  std::string script;
  for (size_t i = 0; i < commands.size(); ++i) {
    const std::string n = std::to_string(i);
    script += "(" + commands[i] + " >" + dir.str("out" + n + ".log") + " 2>&1; echo $? >" +
              dir.str("rc" + n) + ") & ";
  }
  script += "wait";
  REQUIRE(std::system(("sh -c '" + script + "'").c_str()) == 0);
  std::vector<int> codes;
  for (size_t i = 0; i < commands.size(); ++i) {
    std::ifstream in(dir.str("rc" + std::to_string(i)));
    int rc = -1;
    in >> rc;
    codes.push_back(rc);
  }
  return codes;
}

std::string rank_command(int rank, int world, int port, const std::string& config,
                         const std::string& out, const std::string& prefix = "") {
  return "RANK=" + std::to_string(rank) + " WORLD_SIZE=" + std::to_string(world) +
         " LOCAL_RANK=" + std::to_string(rank) +
         " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " " + prefix +
         ADAPTIVE_TRAIN + " --config " + config + " --out " + out;
}

std::map<std::string, at::Tensor> parameters_of(const std::string& checkpoint,
                                                const std::string& config) {
  const TrainConfig c = load_train_config(config);
  auto model = build_model(model_options(c, 10));
  load_checkpoint(checkpoint, *model, nullptr);
  std::map<std::string, at::Tensor> out;
  for (const auto& p : model->named_parameters()) out[p.key()] = p.value().clone();
  return out;
}

}  // namespace

TEST_CASE("torchrun's variables: read, checked, or absent for a run alone",
          "[train][distributed]") {
  std::map<std::string, std::string> vars;
  auto getenv = [&](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
  CHECK_FALSE(distributed_env(getenv));
  vars = {{"WORLD_SIZE", "4"},      {"RANK", "3"},
          {"LOCAL_RANK", "1"},      {"MASTER_ADDR", "10.0.0.2"},
          {"MASTER_PORT", "29400"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"}};
  const auto env = distributed_env(getenv);
  REQUIRE(env);
  CHECK(env->rank == 3);
  CHECK(env->world_size == 4);
  CHECK(env->local_rank == 1);
  CHECK(env->master_addr == "10.0.0.2");
  CHECK(env->master_port == 29400);
  CHECK(env->agent_store);
  vars["RANK"] = "4";
  CHECK_THROWS_WITH(distributed_env(getenv), "RANK=4 is outside [0, WORLD_SIZE=4)");
  vars["RANK"] = "one";
  CHECK_THROWS_WITH(distributed_env(getenv), "RANK='one': expected an integer");
  vars.erase("RANK");
  CHECK_THROWS_WITH(distributed_env(getenv), Catch::StartsWith("RANK is not set"));
}

TEST_CASE("2 processes train as 1 process with the same global batch", "[train][distributed][slow]") {
  TempDir dir;
  // One process: batch 4 in 2 micro-batches of 2 (batch norm sees 2 clips,
  // as each rank does). Two processes: 2 clips each, learning rate scaled by 2.
  const std::string alone = test::write_tiny_config(dir, "alone", [](TrainConfig& c) {
    c.train.batch_size = 4;
    c.train.accumulate = 2;
  });
  const std::string ranked = test::write_tiny_config(dir, "ranked", [](TrainConfig& c) {
    c.train.batch_size = 2;
    c.train.lr /= 2;
  });
  // The run alone at learning rate 0: same seed, so its parameters are the
  // ones both runs started from.
  const std::string still = test::write_tiny_config(dir, "still", [](TrainConfig& c) {
    c.train.batch_size = 4;
    c.train.accumulate = 2;
    c.train.lr = 0;
  });
  const int port = free_port();
  const auto codes = run_together({rank_command(0, 2, port, ranked, dir.str("dist")),
                                   rank_command(1, 2, port, ranked, dir.str("dist"))},
                                  dir);
  INFO(test::read_file(dir.str("out0.log")) << test::read_file(dir.str("out1.log")));
  REQUIRE(codes == std::vector<int>{0, 0});
  for (const auto& [config, out] : {std::pair{alone, "alone"}, std::pair{still, "still"}}) {
    const auto run = test::run_command(std::string(ADAPTIVE_TRAIN) + " --config " + config +
                                       " --out " + dir.str(out));
    INFO(run.output);
    REQUIRE(run.rc == 0);
  }
  // Rank 0 alone wrote the run directory.
  CHECK_THAT(test::read_file(dir.str("out0.log")),
             Catch::Contains("distributed: 2 ranks (gloo), global batch 4"));
  CHECK(fs::exists(dir.str("dist/checkpoints/final.pt")));
  const auto a = parameters_of(dir.str("alone/checkpoints/last.pt"), alone);
  const auto d = parameters_of(dir.str("dist/checkpoints/last.pt"), ranked);
  const auto initial = parameters_of(dir.str("still/checkpoints/last.pt"), still);
  REQUIRE(a.size() == d.size());
  REQUIRE(a.size() == initial.size());
  double worst = 0, moved = 0;
  for (const auto& [name, value] : a) {
    worst = std::max(worst, (value - d.at(name)).abs().max().item<double>());
    moved = std::max(moved, (value - initial.at(name)).abs().max().item<double>());
  }
  CHECK(moved > 0.01);  // training changed the weights from where they started...
  CHECK(worst < 1e-4);  // ...and both runs changed them alike (float sums in another order)
  WARN("largest parameter change by training: "
       << moved << "; largest difference, 2 processes vs 1: " << worst);
}

TEST_CASE("a rank that dies makes the other stop with an error, not hang", "[train][distributed][slow]") {
  TempDir dir;
  const std::string config = test::write_tiny_config(dir, "long", [](TrainConfig& c) {
    c.train.epochs = 1000;
    c.train.dist_timeout_s = 20;
  });
  const int port = free_port();
  const auto start = Clock::now();
  const auto codes =
      run_together({rank_command(0, 2, port, config, dir.str("run")),
                    rank_command(1, 2, port, config, dir.str("run"), "timeout -s KILL 4 ")},
                   dir);
  const double seconds = seconds_since(start);
  const std::string log = test::read_file(dir.str("out0.log"));
  INFO(log);
  CHECK(codes[1] == 137);  // killed
  CHECK(codes[0] == 1);
  CHECK_THAT(log, Catch::Contains("adaptive-train: rank 0: error: "));
  CHECK(seconds < 4 + 20 + 10);
  WARN("rank 0 after rank 1 was killed at 4 s: exit "
       << codes[0] << " at " << seconds << " s: " << log.substr(log.rfind("adaptive-train:")));
}

TEST_CASE("SIGTERM during training writes a checkpoint, says how to resume, and it resumes",
          "[train][signals]") {
  TempDir dir;
  const std::string config =
      test::write_tiny_config(dir, "long", [](TrainConfig& c) { c.train.epochs = 500; });
  const std::string run = dir.str("run");
  // Start, wait for the first logged step, then SIGTERM.
  const std::string script = std::string(ADAPTIVE_TRAIN) + " --config " + config + " --out " + run +
                             " >" + dir.str("out.log") + " 2>&1 & p=$!; " +
                             "while ! grep -q train " + run + "/metrics.jsonl 2>/dev/null; do " +
                             "sleep 0.1; done; kill -TERM $p; wait $p; echo $? >" + dir.str("rc");
  REQUIRE(std::system(("sh -c '" + script + "'").c_str()) == 0);
  std::ifstream rc_file(dir.str("rc"));
  int rc = -1;
  rc_file >> rc;
  const std::string log = test::read_file(dir.str("out.log"));
  INFO(log);
  CHECK(rc == 128 + SIGTERM);
  CHECK_THAT(log, Catch::Contains("interrupted at epoch "));
  CHECK_THAT(log, Catch::Contains("stopped by signal 15; checkpoint written. Resume with:"));
  CHECK_THAT(log, Catch::Contains(" --out " + run + " --resume auto"));
  const Checkpoint stopped = read_checkpoint(run + "/checkpoints/last.pt");
  CHECK(stopped.state.step > 0);
  // The checkpoint resumes: one more step from where it stopped.
  TrainerOptions resume = test::quiet_trainer(run, "auto");
  resume.stop_after_steps = stopped.state.step + 1;
  Trainer(load_train_config(config), resume).run();
  CHECK(read_checkpoint(run + "/checkpoints/last.pt").state.step == stopped.state.step + 1);
}

TEST_CASE("a run killed (SIGKILL) again and again and resumed ends as an uninterrupted one",
          "[train][signals][slow]") {
  TempDir dir;
  const std::string config = test::write_tiny_config(dir, "kill", [](TrainConfig& c) {
    // 80 steps: more than 5 launches can run, each killed 3-5 steps plus at
    // most 60 ms after its start, even on a fast idle machine.
    c.train.epochs = 16;
    c.train.checkpoint_every = 1;  // a checkpoint written at nearly every moment
    c.model.dropout = 0.2;         // the torch generator's state must survive too
  });
  const std::string train = std::string(ADAPTIVE_TRAIN) + " --config " + config;
  REQUIRE(std::system((train + " --out " + dir.str("whole") + " >/dev/null 2>&1").c_str()) == 0);
  std::mt19937 rng(11);
  // Each launch resumes, runs 3-5 more steps (lines in metrics.jsonl, which
  // resumes append to) plus a random 0-60 ms, and is killed: mid-step, or
  // while a checkpoint is being written.
  const std::string metrics = dir.str("killed/metrics.jsonl");
  const auto launch_log = [&](int i) { return dir.str("killed" + std::to_string(i) + ".log"); };
  const int launches = 5;
  for (int i = 0; i < launches; ++i) {
    const int steps = std::uniform_int_distribution<int>(3, 5)(rng);
    const int ms = std::uniform_int_distribution<int>(0, 60)(rng);
    const std::string count = "$(grep -c train " + metrics + " 2>/dev/null)";
    const std::string script =
        "n0=" + count + "; n0=${n0:-0}; " + train + " --out " + dir.str("killed") +
        " --resume auto >" + launch_log(i) + " 2>&1 & p=$!; while n=" + count + "; [ ${n:-0} -lt " +
        "$((n0 + " + std::to_string(steps) + ")) ]; do kill -0 $p 2>/dev/null || break; " +
        "sleep 0.01; done; sleep " + std::to_string(ms / 1000.0) + "; kill -KILL $p 2>/dev/null " +
        "&& echo killed >>" + dir.str("kills") + "; wait $p; " +
        // A temp file left behind: the kill landed while a checkpoint was written.
        "ls " + dir.str("killed/checkpoints") + " | grep -q tmp && echo >>" + dir.str("mid_write") +
        "; true";
    REQUIRE(std::system(("sh -c '" + script + "'").c_str()) == 0);
  }
  int kills = 0;
  std::ifstream kill_log(dir.str("kills"));
  for (std::string line; std::getline(kill_log, line);) ++kills;
  // And once more to the end.
  const int rc = std::system(
      (train + " --out " + dir.str("killed") + " --resume auto >" + launch_log(launches) + " 2>&1")
          .c_str());
  std::string log;
  int resumed = 0;  // launches after the first that resumed from a checkpoint
  for (int i = 0; i <= launches; ++i) {
    const std::string text = test::read_file(launch_log(i));
    log += "--- launch " + std::to_string(i) + "\n" + text;
    if (i > 0 && text.find("resuming from") != std::string::npos) ++resumed;
  }
  INFO(log);
  REQUIRE(rc == 0);
  // Under load a late kill can miss a run that already finished: most land.
  CHECK(kills >= 3);
  CHECK(resumed >= kills);  // every kill came after a checkpoint, mid-run
  const std::string mid_write = test::read_file(dir.str("mid_write"));
  WARN(kills << " SIGKILLs (" << std::count(mid_write.begin(), mid_write.end(), '\n')
             << " while a checkpoint was being written), " << resumed
             << " resumes before the run completed");
  test::require_same_weights(dir.str("whole/checkpoints/last.pt"),
                             dir.str("killed/checkpoints/last.pt"), load_train_config(config));
}
