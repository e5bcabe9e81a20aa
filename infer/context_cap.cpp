#include "infer/context_cap.h"

#include <algorithm>
#include <stdexcept>

namespace adaptive {

ContextCap::ContextCap(const ThrottleOptions& options, std::vector<double> widths,
                       std::vector<double> mflops)
    : options_(options), widths_(std::move(widths)), mflops_(std::move(mflops)) {
  if (widths_.empty() || widths_.size() != mflops_.size())
    throw std::invalid_argument("throttle: one cost per width needed");
  bucket_ = options_.budget_mflops_per_s * options_.budget_horizon_s;
  pass_ms_.assign(widths_.size(), -1);
}

void ContextCap::observe_pass(int index, double ms) {
  double& average = pass_ms_.at(static_cast<size_t>(index));
  average = average < 0 ? ms : 0.8 * average + 0.2 * ms;
}

double ContextCap::expected_ms(int index) const {
  if (pass_ms_[index] >= 0) return pass_ms_[index];
  // Not run yet: the nearest measured width, scaled by MFLOPs.
  for (int d = 1; d < static_cast<int>(widths_.size()); ++d) {
    for (const int j : {index - d, index + d}) {
      if (j >= 0 && j < static_cast<int>(widths_.size()) && pass_ms_[j] >= 0)
        return pass_ms_[j] * mflops_[index] / mflops_[j];
    }
  }
  return -1;
}

int ContextCap::widest_within(double mflops) const {
  int index = 0;
  for (int i = 0; i < static_cast<int>(mflops_.size()); ++i)
    if (mflops_[i] <= mflops + 1e-9) index = i;
  return index;
}

void ContextCap::begin(const WindowSignals& s) {
  const int widest = static_cast<int>(widths_.size()) - 1;
  cap_ = widest;
  const auto lower_to = [this](int index, Decision why) {
    if (index < cap_) cap_ = index, cap_reason_ = why;
  };
  if (s.battery_pct >= 0) {
    double allowed = 1.0;
    for (const auto& [pct, width] : options_.battery_curve)
      if (s.battery_pct <= pct) allowed = std::min(allowed, width);
    int index = 0;
    for (int i = 0; i <= widest; ++i)
      if (widths_[i] <= allowed + 1e-9) index = i;
    lower_to(index, Decision::kBattery);
  }
  if (options_.budget_mflops_per_s > 0) {  // the bucket refills with video time
    const double capacity = options_.budget_mflops_per_s * options_.budget_horizon_s;
    if (last_start_s_ >= 0)
      bucket_ =
          std::min(capacity, bucket_ + options_.budget_mflops_per_s * (s.start_s - last_start_s_));
    last_start_s_ = s.start_s;
    lower_to(widest_within(bucket_), Decision::kBudget);
  }
  if (options_.max_latency_ms > 0) {  // the widest width expected to meet the deadline
    int index = 0;
    for (int i = 1; i <= widest; ++i) {
      const double ms = expected_ms(i);
      if (ms >= 0 && s.waited_ms + ms > options_.max_latency_ms) break;
      index = i;
    }
    lower_to(index, Decision::kDeadline);
  }
}

std::optional<Decision> ContextCap::poor_input(const WindowSignals& s) const {
  const QualityOptions& q = options_.quality;
  if (!q.enabled) return {};
  if (s.luma < q.dark_below || s.sharpness < q.blur_below) return Decision::kQuality;
  if (s.motion < q.still_below) return Decision::kIdle;
  return {};
}

Plan ContextCap::clamp(Plan plan) {
  if (plan.index > cap_) plan = {cap_, cap_reason_};
  spent_this_window_ = mflops_[plan.index];
  return plan;
}

bool ContextCap::afford_pass(int index) {
  if (options_.budget_mflops_per_s > 0 && spent_this_window_ + mflops_[index] > bucket_ + 1e-9)
    return false;
  spent_this_window_ += mflops_[index];
  return true;
}

void ContextCap::finish(double mflops) {
  if (options_.budget_mflops_per_s > 0) bucket_ = std::max(0.0, bucket_ - mflops);
}

}  // namespace adaptive
