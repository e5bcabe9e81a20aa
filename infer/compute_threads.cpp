#include "infer/compute_threads.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <ATen/Parallel.h>

#include "common/clock.h"
#include "common/cpu_time.h"
#include "common/threads.h"

namespace adaptive {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

PassCost time_pass(const std::function<void()>& pass, double gap_ms) {
  const double cpu_before = process_cpu_s();
  const auto start = Clock::now();
  pass();
  PassCost cost;
  cost.ms = ms_since(start);
  if (gap_ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(gap_ms));
  cost.cpu_ms = 1e3 * (process_cpu_s() - cpu_before);
  return cost;
}

int pick_threads(const std::vector<ThreadTiming>& timings, double deadline_ms) {
  if (timings.empty()) throw std::invalid_argument("pick_threads: no timing");
  const ThreadTiming& fastest = *std::min_element(
      timings.begin(), timings.end(),
      [](const ThreadTiming& a, const ThreadTiming& b) { return a.pass_ms < b.pass_ms; });
  const double limit_ms = deadline_ms > 0 ? 0.5 * deadline_ms : kThreadSlack * fastest.pass_ms;
  const ThreadTiming* best = nullptr;
  for (const ThreadTiming& t : timings) {
    if (t.pass_ms > limit_ms) continue;
    if (!best || t.threads < best->threads) best = &t;
  }
  return best ? best->threads : fastest.threads;
}

ThreadPlan::ThreadPlan(std::vector<int> per_width, std::vector<double> one_thread_ms)
    : per_width_(std::move(per_width)), one_thread_ms_(std::move(one_thread_ms)) {
  if (per_width_.size() != one_thread_ms_.size())
    throw std::invalid_argument("thread plan: one time per width needed");
}

void ThreadPlan::before_pass(int index) const {
  if (per_width_.empty()) return;
  const int threads = per_width_.at(static_cast<size_t>(index));
  if (at::get_num_threads() != threads) set_intra_op_threads(threads);
}

void ThreadPlan::after_pass(int index, double ms) {
  if (per_width_.empty()) return;
  const auto i = static_cast<size_t>(index);
  if (per_width_.at(i) > 1 && ms > 2 * one_thread_ms_.at(i)) per_width_[i] = 1;
}

ThreadPlan plan_threads(const MeasureThreads& measure, int widths, int max_threads,
                        double deadline_ms) {
  // One thread for every width, its time unknown (unused: the drop rule
  // reads it only for a team), until a timed width needs more.
  std::vector<int> per_width(static_cast<size_t>(std::max(widths, 0)), 1);
  std::vector<double> one_thread_ms(per_width.size(), 0);
  for (int i = widths - 1; i >= 0 && max_threads > 1; --i) {
    // Under a deadline one thread that meets its half is the choice, so a
    // team is timed only where it does not.
    std::vector<ThreadTiming> timings;
    if (deadline_ms > 0) timings = measure(i, {1});
    const bool one_will_do = deadline_ms > 0 && timings.front().pass_ms <= 0.5 * deadline_ms;
    if (!one_will_do) timings = measure(i, {1, max_threads});
    const auto w = static_cast<size_t>(i);
    per_width[w] = pick_threads(timings, deadline_ms);
    one_thread_ms[w] = timings.front().pass_ms;
    if (per_width[w] == 1) break;  // the narrower widths: one thread too
  }
  return ThreadPlan(std::move(per_width), std::move(one_thread_ms));
}

ThreadPlan choose_thread_plan(const std::function<void(int)>& pass, int widths, int max_threads,
                              double deadline_ms, double gap_ms, int rounds) {
  rounds = std::max(rounds, 1);
  // Width i's median pass time at each of `counts`. The counts take turns,
  // so that what warms up over the first passes (the allocator's pages,
  // oneDNN's kernels for a new thread count) and what comes and goes on the
  // machine fall on each alike; each count's first pass is untimed, and the
  // medians decide, not one slow pass.
  const auto measure = [&](int i, const std::vector<int>& counts) {
    std::vector<std::vector<double>> ms(counts.size());
    for (int r = -1; r < rounds; ++r) {
      for (size_t c = 0; c < counts.size(); ++c) {
        set_intra_op_threads(counts[c]);
        const PassCost cost = time_pass([&] { pass(i); }, gap_ms);
        if (r >= 0) ms[c].push_back(cost.ms);
      }
    }
    std::vector<ThreadTiming> timings;
    for (size_t c = 0; c < counts.size(); ++c) timings.push_back({counts[c], median(ms[c])});
    return timings;
  };
  ThreadPlan plan = plan_threads(measure, widths, max_threads, deadline_ms);
  set_intra_op_threads(max_threads);
  return plan;
}

}  // namespace adaptive
