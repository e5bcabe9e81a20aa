// Per-width compute threads for live sources: the choice from measured
// timings, the drop to one thread when a width slows down, and the plan a
// warm-up measures.
#include "infer/compute_threads.h"

#include <chrono>
#include <thread>
#include <utility>
#include <vector>

#include <ATen/Parallel.h>
#include <catch2/catch.hpp>

using namespace adaptive;

TEST_CASE(
    "threads: the fewest that meet half the deadline, else the fastest, and with none the "
    "fewest within 1.5x of the fastest",
    "[infer][threads]") {
  // A small width after an idle gap: one thread is faster and cheaper.
  CHECK(pick_threads({{1, 2.6}, {2, 12.7}}, 187.5) == 1);
  // A large width: both meet the deadline; one thread spends less CPU.
  CHECK(pick_threads({{1, 50.3}, {2, 35.4}}, 187.5) == 1);
  // Only two threads meet half the deadline.
  CHECK(pick_threads({{1, 120.0}, {2, 70.0}}, 187.5) == 2);
  // Neither does: the fastest.
  CHECK(pick_threads({{1, 300.0}, {2, 200.0}}, 187.5) == 2);
  // No deadline (a file's windows, back to back): the fewest within 1.5x of
  // the fastest. A small model gains little from a second thread...
  CHECK(pick_threads({{1, 4.4}, {2, 4.3}}, 0) == 1);
  CHECK(pick_threads({{2, 4.3}, {1, 4.4}}, 0) == 1);  // the fewest, in any order
  CHECK(pick_threads({{1, 1.3}, {2, 2.7}}, 0) == 1);
  CHECK(pick_threads({{1, 2.28}, {2, 1.78}}, 0) == 1);  // 1.28x: not worth about twice the CPU
  // ... a large one runs 1.7x faster on two: worth it.
  CHECK(pick_threads({{1, 300.0}, {2, 176.0}}, 0) == 2);
  CHECK_THROWS_AS(pick_threads({}, 100), std::invalid_argument);
}

TEST_CASE("threads: a width on more threads that slows past twice its one-thread time drops to one",
          "[infer][threads]") {
  ThreadPlan plan({1, 2}, {3.0, 40.0});
  plan.after_pass(1, 60.0);  // slower than one thread, within twice it: kept
  CHECK(plan.per_width() == std::vector<int>{1, 2});
  plan.after_pass(0, 100.0);  // already one thread
  CHECK(plan.per_width() == std::vector<int>{1, 2});
  plan.after_pass(1, 81.0);  // another program holds a core: the team waits for it
  CHECK(plan.per_width() == std::vector<int>{1, 1});
  CHECK_THROWS_AS(ThreadPlan({1, 2}, {3.0}), std::invalid_argument);
  CHECK(ThreadPlan().empty());
}

// A pass that takes `one_ms` on one thread and `team_ms` on more, recording
// (width, threads) as it saw them.
struct FakePass {
  std::vector<std::pair<int, int>> calls;
  std::vector<std::pair<int, int>> ms;  // per width: (one thread, team)
  void operator()(int width) {
    const int threads = at::get_num_threads();
    calls.emplace_back(width, threads);
    const auto& [one, team] = ms.at(static_cast<size_t>(width));
    std::this_thread::sleep_for(std::chrono::milliseconds(threads == 1 ? one : team));
  }
};

TEST_CASE(
    "threads: a file's warm-up times the widest widths first, in turns, until one thread "
    "wins",
    "[infer][threads]") {
  const int before = at::get_num_threads();
  const int max_threads = 2;
  // Widths 3 and 2 gain from the team, width 1 does not: width 0 is not timed.
  FakePass fake{{}, {{0, 0}, {1, 20}, {20, 1}, {20, 1}}};
  const ThreadPlan plan = choose_thread_plan([&](int w) { fake(w); }, 4, max_threads,
                                             /*deadline_ms=*/0, 0, 2);
  // Width by width from the widest, 1 thread and max_threads taking turns:
  // an untimed pass each, then 2 timed rounds.
  REQUIRE(fake.calls.size() == 18);
  for (size_t k = 0; k < fake.calls.size(); ++k) {
    CHECK(fake.calls[k].first == 3 - static_cast<int>(k / 6));
    CHECK(fake.calls[k].second == (k % 2 == 0 ? 1 : max_threads));
  }
  CHECK(plan.per_width() == std::vector<int>{1, 1, max_threads, max_threads});
  CHECK(at::get_num_threads() == max_threads);  // left at the process's
  plan.before_pass(3);
  CHECK(at::get_num_threads() == max_threads);
  plan.before_pass(0);
  CHECK(at::get_num_threads() == 1);
  at::set_num_threads(before);
}

TEST_CASE("threads: when the widest width runs on one thread, nothing narrower is timed",
          "[infer][threads]") {
  const int before = at::get_num_threads();
  FakePass fake{{}, {{0, 0}, {0, 0}, {1, 20}}};
  const ThreadPlan plan =
      choose_thread_plan([&](int w) { fake(w); }, 3, 2, /*deadline_ms=*/0, 0, 2);
  REQUIRE(fake.calls.size() == 6);
  for (const auto& call : fake.calls) CHECK(call.first == 2);
  CHECK(plan.per_width() == std::vector<int>{1, 1, 1});
  // One thread at most: nothing to choose, nothing timed.
  fake.calls.clear();
  const ThreadPlan single =
      choose_thread_plan([&](int w) { fake(w); }, 3, 1, /*deadline_ms=*/100, 0, 2);
  CHECK(fake.calls.empty());
  CHECK(single.per_width() == std::vector<int>{1, 1, 1});
  at::set_num_threads(before);
}

TEST_CASE("threads: under a deadline a team is timed only where one thread misses its half",
          "[infer][threads]") {
  const int before = at::get_num_threads();
  const int max_threads = 2;
  // Width 1 takes 3 ms on one thread (half the deadline is 2 ms) and no time
  // on the team; width 0 is quick on one thread.
  FakePass fake{{}, {{0, 0}, {3, 0}}};
  const ThreadPlan plan =
      choose_thread_plan([&](int w) { fake(w); }, 2, max_threads, /*deadline_ms=*/4, 0, 2);
  REQUIRE(fake.calls.size() == 9 + 3);
  for (size_t k = 0; k < 9; ++k) {
    CHECK(fake.calls[k].first == 1);
    CHECK(fake.calls[k].second == (k < 3 || k % 2 == 1 ? 1 : max_threads));
  }
  for (size_t k = 9; k < fake.calls.size(); ++k) CHECK(fake.calls[k] == std::make_pair(0, 1));
  CHECK(plan.per_width() == std::vector<int>{1, max_threads});
  at::set_num_threads(before);
}
