// How many compute threads each width's passes run on.
//
// On a few cores shared with the reading thread, the decoder and other
// programs, LibTorch's OpenMP threads spin at their barriers while they wait
// for each other, and after the idle gap between two windows the team must
// first be woken. On this project's 2-core machine a demo-model pass after a
// 187 ms gap took 8-13 ms and 20-26 ms of CPU on 2 threads against 2.6-3.9 ms
// on 1, and 137 ms with another process holding one core
// (docs/benchmarks.md#live-streams); a Jester-scale model's widest width, on
// the other hand, needs both cores to keep up. So before a live run the
// widths are timed, from the widest down until one settles on one thread, at
// one thread, each pass after an idle gap, and at all of them where one
// thread misses half the deadline; it runs on the fewest
// threads whose pass takes at most that half (none does: the fastest). A
// file is timed at both counts before its first window, with no gap: back to
// back, a demo-model window took 4.4 ms on one thread and 4.3 ms on two,
// which spent twice the CPU, and a stream's one-frame step ran faster on
// one. A width on more than one thread whose pass later takes over twice its
// one-thread time (the machine got busier) drops to one thread for the rest
// of the run.
#pragma once

#include <functional>
#include <vector>

namespace adaptive {

// What one pass cost, followed by an idle gap: its wall time, and the
// process's CPU over the pass and the gap (threads that spin before they
// sleep burn it there). The one measure of "CPU per pass" that the thread
// choice and adaptive-bench share.
struct PassCost {
  double ms = 0, cpu_ms = 0;
};
// Runs `pass`, then idles `gap_ms` (0: none).
PassCost time_pass(const std::function<void()>& pass, double gap_ms);

// One width at one thread count, measured.
struct ThreadTiming {
  int threads = 1;
  double pass_ms = 0;  // median wall time of a pass
};

// The fewest threads among `timings` (one width's) whose pass takes at most
// half of `deadline_ms`; when none does, the fastest. With no deadline (<= 0:
// a file, whose windows run back to back), the fewest among the counts within
// kThreadSlack of the fastest pass: a team of threads must buy more than that
// in time to be worth its CPU. Two threads spend about twice one's CPU, so at
// 1.5 a second thread costs at most a third more energy per pass for its 1.5x
// speed. At 1.2 the demo model's widths, 1.28x faster on two threads, took
// two by the chance of the warm-up's timing, and a file's CPU time doubled
// with it (2026-12-06). Fewer threads never spend more CPU on the same work,
// so the CPU the warm-up could measure decides nothing: it is the process's,
// and the reading thread's decoding lands in it at random (a 1-3 ms pass
// measured 1-5 ms of CPU), which chose teams by chance.
// Throws std::invalid_argument when empty.
constexpr double kThreadSlack = 1.5;
int pick_threads(const std::vector<ThreadTiming>& timings, double deadline_ms);

// The threads of each width's passes. Empty: every pass on the process's.
class ThreadPlan {
 public:
  ThreadPlan() = default;
  // `one_thread_ms`: each width's pass time at one thread (the drop rule).
  ThreadPlan(std::vector<int> per_width, std::vector<double> one_thread_ms);

  // Before a pass at width `index`: sets LibTorch's compute threads.
  void before_pass(int index) const;
  // After it: `ms` took the pass (may drop the width to one thread).
  void after_pass(int index, double ms);

  bool empty() const { return per_width_.empty(); }
  const std::vector<int>& per_width() const { return per_width_; }

 private:
  std::vector<int> per_width_;
  std::vector<double> one_thread_ms_;
};

// One width's pass time at each of `counts` threads, in that order.
using MeasureThreads =
    std::function<std::vector<ThreadTiming>(int width, const std::vector<int>& counts)>;

// Each width's thread count from `measure`. The widest width goes first:
// once a width runs on one thread, every narrower one does too, unmeasured,
// since a narrower pass has less work to share out and a team buys it less
// (on the demo model, which runs every width on one thread, this times one
// width instead of four). Otherwise a width is measured at one thread and at
// `max_threads` and gets pick_threads' choice; with a deadline, a width whose
// one thread (measured first, alone) meets half of it runs on one and its
// team is not measured: the team could not be chosen, and its passes burn
// CPU and the idle gaps' time for nothing. With `max_threads` 1 nothing is
// measured.
ThreadPlan plan_threads(const MeasureThreads& measure, int widths, int max_threads,
                        double deadline_ms);

// plan_threads over `pass(i)`, timed: the counts take turns, an untimed
// pass each, then the medians of `rounds` >= 1 passes each, each followed by
// `gap_ms` idle. Leaves LibTorch at `max_threads`. Taking turns charges a
// team its wake-up and a single thread the team's spinning after it, as a
// run whose widths differ in threads pays them; a team that wins only when
// kept hot, pass after pass, is not chosen (--threads gives it).
ThreadPlan choose_thread_plan(const std::function<void(int)>& pass, int widths, int max_threads,
                              double deadline_ms, double gap_ms, int rounds = 5);

}  // namespace adaptive
