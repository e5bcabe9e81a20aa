#include "common/threads.h"

#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include <ATen/Parallel.h>
#include <catch2/catch.hpp>

using namespace adaptive;

TEST_CASE("a helper thread runs LibTorch ops serially and leaves the compute threads as set",
          "[common][threads]") {
  at::set_num_threads(2);  // each CTest entry is a process of its own
  int plain = 0, helper = 0;
  std::thread([&] { plain = at::get_num_threads(); }).join();
  std::thread([&] {
    make_helper_thread_serial();
    helper = at::get_num_threads();
  }).join();
  CHECK(plain == 2);                  // what a thread gets without the call: the check can fail
  CHECK(helper == 1);                 // what LibTorch's parallel ops consult before they split work
  CHECK(at::get_num_threads() == 2);  // the calling thread keeps its team
}

namespace {

std::set<std::string> thread_ids() {
  std::set<std::string> ids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task"))
    ids.insert(entry.path().filename().string());
  return ids;
}

}  // namespace

TEST_CASE("changing the compute threads reuses the threads there are", "[common][threads]") {
  at::set_num_threads(2);  // the process's setting, as a tool's main makes it
  const auto parallel_op = [] { at::parallel_for(0, 1 << 16, 1, [](int64_t, int64_t) {}); };
  // The first call on a thread lets LibTorch set up its own per-thread
  // state, which may re-create the pool once.
  set_intra_op_threads(2);
  parallel_op();  // the OpenMP team's second thread starts here
  const std::set<std::string> before = thread_ids();
  for (int round = 0; round < 4; ++round) {
    set_intra_op_threads(1);
    CHECK(at::get_num_threads() == 1);
    parallel_op();
    set_intra_op_threads(2);
    CHECK(at::get_num_threads() == 2);
    parallel_op();
  }
  // at::set_num_threads would have started a thread pool at each change.
  // (Threads other tests left may end meanwhile: only new ones count.)
  std::set<std::string> started;
  for (const std::string& id : thread_ids()) {
    if (!before.count(id)) started.insert(id);
  }
  CHECK(started.empty());
}
