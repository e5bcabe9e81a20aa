#include "common/threads.h"

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
