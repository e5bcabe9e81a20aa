// Per-width compute threads for live sources: the choice from measured
// timings, the drop to one thread when a width slows down, and the plan a
// warm-up measures.
#include "infer/compute_threads.h"

#include <functional>
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

// Canned timings per width, (one thread, team) in ms, recording what was
// measured: (width, counts).
struct FakeMeasure {
  std::vector<std::pair<double, double>> ms;
  std::vector<std::pair<int, std::vector<int>>> calls;
  std::vector<ThreadTiming> operator()(int width, const std::vector<int>& counts) {
    calls.emplace_back(width, counts);
    std::vector<ThreadTiming> timings;
    const auto& [one, team] = ms.at(static_cast<size_t>(width));
    for (const int c : counts) timings.push_back({c, c == 1 ? one : team});
    return timings;
  }
};
using Calls = std::vector<std::pair<int, std::vector<int>>>;

TEST_CASE("threads: a file's widths are measured from the widest down until one thread wins",
          "[infer][threads]") {
  // Widths 3 and 2 gain from the team, width 1 does not: width 0 is not measured.
  FakeMeasure fake{{{1, 1}, {2, 3}, {20, 8}, {40, 15}}, {}};
  const ThreadPlan plan = plan_threads(std::ref(fake), 4, 2, /*deadline_ms=*/0);
  CHECK(fake.calls == Calls{{3, {1, 2}}, {2, {1, 2}}, {1, {1, 2}}});
  CHECK(plan.per_width() == std::vector<int>{1, 1, 2, 2});

  // The widest on one thread: nothing narrower is measured.
  FakeMeasure one{{{1, 1}, {2, 3}, {20, 18}}, {}};
  CHECK(plan_threads(std::ref(one), 3, 2, 0).per_width() == std::vector<int>{1, 1, 1});
  CHECK(one.calls == Calls{{2, {1, 2}}});

  // One thread at most: nothing to choose, nothing measured.
  FakeMeasure single{{{1, 1}, {20, 8}}, {}};
  CHECK(plan_threads(std::ref(single), 2, 1, 100).per_width() == std::vector<int>{1, 1});
  CHECK(single.calls.empty());
}

TEST_CASE("threads: under a deadline a team is measured only where one thread misses its half",
          "[infer][threads]") {
  // Half the deadline is 2 ms: width 1 misses it on one thread (3 ms), not
  // on the team; width 0 meets it on one thread.
  FakeMeasure fake{{{0.5, 0.4}, {3, 1}}, {}};
  const ThreadPlan plan = plan_threads(std::ref(fake), 2, 2, /*deadline_ms=*/4);
  CHECK(fake.calls == Calls{{1, {1}}, {1, {1, 2}}, {0, {1}}});
  CHECK(plan.per_width() == std::vector<int>{1, 2});
}

TEST_CASE("threads: the warm-up times the counts in turns, an untimed pass each first",
          "[infer][threads]") {
  const int before = at::get_num_threads();
  const int max_threads = 2;
  std::vector<std::pair<int, int>> calls;  // (width, threads) as each pass saw them
  const auto pass = [&](int width) { calls.emplace_back(width, at::get_num_threads()); };
  // One width of a file: 1 thread and max_threads taking turns, an untimed
  // pass each, then 2 timed rounds.
  const ThreadPlan plan = choose_thread_plan(pass, 1, max_threads, /*deadline_ms=*/0, 0, 2);
  REQUIRE(calls.size() == 6);
  for (size_t k = 0; k < calls.size(); ++k)
    CHECK(calls[k] == std::make_pair(0, k % 2 == 0 ? 1 : max_threads));
  REQUIRE(plan.per_width().size() == 1);
  CHECK((plan.per_width()[0] == 1 || plan.per_width()[0] == max_threads));
  CHECK(at::get_num_threads() == max_threads);  // left at the process's
  plan.before_pass(0);
  CHECK(at::get_num_threads() == plan.per_width()[0]);
  // Under a deadline that one thread meets: one thread only.
  calls.clear();
  choose_thread_plan(pass, 1, max_threads, /*deadline_ms=*/1000, 0, 2);
  CHECK(calls == std::vector<std::pair<int, int>>(3, {0, 1}));
  at::set_num_threads(before);
}
