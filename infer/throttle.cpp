#include "infer/throttle.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace adaptive {

const NameTable<PolicyKind>& policy_names() {
  static const NameTable<PolicyKind> names("policy", {{PolicyKind::kFixed, "fixed"},
                                                      {PolicyKind::kConfidence, "confidence"},
                                                      {PolicyKind::kGate, "gate"}});
  return names;
}

PolicyKind parse_policy(const std::string& name) {
  return policy_names().parse(name);
}

std::vector<std::pair<double, double>> parse_battery_curve(const std::string& text) {
  std::vector<std::pair<double, double>> curve;
  std::stringstream entries(text);
  for (std::string entry; std::getline(entries, entry, ',');) {
    const auto colon = entry.find(':');
    double pct = -1, width = -1;
    try {
      if (colon != std::string::npos) {
        pct = std::stod(entry.substr(0, colon));
        width = std::stod(entry.substr(colon + 1));
      }
    } catch (const std::exception&) {
    }
    if (pct < 0 || pct > 100 || width <= 0 || width > 1) {
      throw std::invalid_argument("battery curve entry '" + entry +
                                  "': expected PERCENT:WIDTH with PERCENT in [0, 100] and WIDTH "
                                  "in (0, 1], e.g. 30:0.5");
    }
    curve.emplace_back(pct, width);
  }
  return curve;
}

std::string format_battery_curve(const std::vector<std::pair<double, double>>& curve) {
  std::ostringstream out;
  for (size_t i = 0; i < curve.size(); ++i)
    out << (i ? "," : "") << curve[i].first << ":" << curve[i].second;
  return out.str();
}

int resolved_fixed_index(const ThrottleOptions& options, int width_count) {
  const int widest = width_count - 1;
  return options.fixed_index < 0 || options.fixed_index > widest ? widest : options.fixed_index;
}

Throttle::Throttle(ThrottleOptions options, std::vector<double> widths, std::vector<double> mflops)
    : options_(std::move(options)), widths_(std::move(widths)), mflops_(std::move(mflops)) {
  if (widths_.empty() || widths_.size() != mflops_.size())
    throw std::invalid_argument("throttle: one cost per width needed");
  options_.fixed_index = resolved_fixed_index(options_, static_cast<int>(widths_.size()));
  bucket_ = options_.budget_mflops_per_s * options_.budget_horizon_s;
  pass_ms_.assign(widths_.size(), -1);
}

void Throttle::observe_pass(int index, double ms) {
  double& average = pass_ms_.at(static_cast<size_t>(index));
  average = average < 0 ? ms : 0.8 * average + 0.2 * ms;
}

double Throttle::expected_ms(int index) const {
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

int Throttle::widest_within(double mflops) const {
  int index = 0;
  for (int i = 0; i < static_cast<int>(mflops_.size()); ++i)
    if (mflops_[i] <= mflops + 1e-9) index = i;
  return index;
}

Plan Throttle::begin(const WindowSignals& s) {
  const int widest = static_cast<int>(widths_.size()) - 1;
  // Context: battery, then budget (the bucket refills with video time).
  cap_ = widest;
  cap_reason_.clear();
  if (s.battery_pct >= 0) {
    double allowed = 1.0;
    for (const auto& [pct, width] : options_.battery_curve)
      if (s.battery_pct <= pct) allowed = std::min(allowed, width);
    int index = 0;
    for (int i = 0; i <= widest; ++i)
      if (widths_[i] <= allowed + 1e-9) index = i;
    if (index < cap_) cap_ = index, cap_reason_ = "battery";
  }
  if (options_.budget_mflops_per_s > 0) {
    const double capacity = options_.budget_mflops_per_s * options_.budget_horizon_s;
    if (last_start_s_ >= 0)
      bucket_ =
          std::min(capacity, bucket_ + options_.budget_mflops_per_s * (s.start_s - last_start_s_));
    last_start_s_ = s.start_s;
    const int index = widest_within(bucket_);
    if (index < cap_) cap_ = index, cap_reason_ = "budget";
  }
  if (options_.max_latency_ms > 0) {  // the widest width expected to meet the deadline
    int index = 0;
    for (int i = 1; i <= widest; ++i) {
      const double ms = expected_ms(i);
      if (ms >= 0 && s.waited_ms + ms > options_.max_latency_ms) break;
      index = i;
    }
    if (index < cap_) cap_ = index, cap_reason_ = "deadline";
  }

  Plan plan;
  const QualityOptions& q = options_.quality;
  const bool poor = q.enabled && (s.luma < q.dark_below || s.sharpness < q.blur_below);
  const bool still = q.enabled && s.motion < q.still_below;
  switch (options_.policy) {
    case PolicyKind::kFixed:
      plan = {options_.fixed_index, "fixed"};
      break;
    case PolicyKind::kGate:
      if (gate_idle_)
        plan = {0, "idle"};
      else if (s.gate_choice < 0)  // no choice yet: a run's first window
        plan = {0, "start"};
      else
        plan = {std::min(s.gate_choice, widest), "gate"};
      if (!gate_idle_ && agreed_ && agreed_->index > plan.index)
        plan = {agreed_->index, "disagree"};
      break;
    case PolicyKind::kConfidence:
      plan = {current_, pending_};
      break;
  }
  if (options_.policy != PolicyKind::kFixed && (poor || still)) {
    plan = {0, poor ? "quality" : "idle"};
    if (options_.policy == PolicyKind::kConfidence) current_ = 0, pending_ = plan.decision;
  }
  if (plan.index > cap_) plan = {cap_, cap_reason_};
  spent_this_window_ = mflops_[plan.index];
  return plan;
}

bool Throttle::futile(const Pass& narrow, const Pass& wide) const {
  return options_.futility_gain > 0 && wide.confidence < narrow.confidence + options_.futility_gain;
}

void Throttle::hold_at(const Pass& narrow) {
  current_ = narrow.index;
  pending_ = "futile";
  holding_ = true;
  hold_from_ = narrow;
  held_windows_ = 0;
}

void Throttle::finish_gate(const Pass& pass, bool sure) {
  if (disagrees(pass)) {  // not trusted: the wider width's answer stands, and is held
    agreed_ = last_sure_;
    agreed_windows_ = 0;
    return;
  }
  last_sure_.reset();
  if (sure) last_sure_ = pass;
  // Held while the wider width keeps its answer, for at most disagree_hold windows.
  if (agreed_ && !(sure && !pass.idle_label && pass.label == agreed_->label &&
                   ++agreed_windows_ < options_.disagree_hold)) {
    agreed_.reset();
  }
}

bool Throttle::disagrees(const Pass& pass) const {
  return options_.disagree_hold > 0 && !holding_ && last_sure_ &&
         pass.confidence >= options_.threshold && !pass.idle_label && !last_sure_->idle_label &&
         pass.index < last_sure_->index && pass.label != last_sure_->label;
}

std::optional<Plan> Throttle::after(const PassOutcome& pass) {
  if (options_.policy != PolicyKind::kConfidence) return {};
  if (options_.rerun && !window_first_) window_first_ = pass;
  const bool sure = pass.confidence >= options_.threshold;
  const bool disagree = options_.rerun && disagrees(pass);
  if (sure && !disagree) return {};
  // 'next' widens from the next window (finish); a held width is not raised.
  if (!options_.rerun || pass.index >= cap_ || holding_) return {};
  // Re-run this window wider (back to the width it disagrees with), if the
  // budget still allows it.
  const int wider = disagree ? std::min(last_sure_->index, cap_) : pass.index + 1;
  if (options_.budget_mflops_per_s > 0 && spent_this_window_ + mflops_[wider] > bucket_ + 1e-9)
    return {};
  spent_this_window_ += mflops_[wider];
  return Plan{wider, disagree ? "disagree" : "escalate"};
}

void Throttle::finish(const PassOutcome& pass, double mflops_spent) {
  if (options_.budget_mflops_per_s > 0) bucket_ = std::max(0.0, bucket_ - mflops_spent);
  const std::optional<Pass> first = window_first_;  // re-run mode: this window's first pass
  window_first_.reset();
  const bool sure = pass.confidence >= options_.threshold;
  gate_idle_ = options_.policy == PolicyKind::kGate && pass.idle_label && sure;
  if (options_.policy == PolicyKind::kGate) return finish_gate(pass, sure);
  if (options_.policy != PolicyKind::kConfidence) return;
  // Disagreement: judged on the window's first pass, against the last window.
  const bool disagreed = disagrees(options_.rerun && first ? *first : pass);
  const std::optional<Pass> previous = last_sure_;
  last_sure_.reset();
  if (sure) last_sure_ = pass;
  if (agreed_ && !(sure && !pass.idle_label && pass.label == agreed_->label)) agreed_.reset();
  if (holding_) {  // held narrow: until the input changes, or the hold runs out
    const bool changed =
        std::abs(pass.confidence - hold_from_.confidence) >= options_.futility_change;
    if (changed || ++held_windows_ >= options_.futility_hold) holding_ = false;
  }
  if (disagreed && !options_.rerun) {  // back up to the width that answered otherwise
    climb_from_.reset();
    confident_run_ = 0;
    agreed_ = previous;
    agreed_windows_ = 0;
    last_sure_ = previous;
    current_ = previous->index;
    pending_ = "disagree";
    return;
  }
  if (!sure) {
    confident_run_ = 0;
    // Where this climb began: the window's first pass (re-run mode), or the
    // window the climb started at ('next').
    const std::optional<Pass> from = options_.rerun ? first : climb_from_;
    if (pass.index >= cap_ && from && pass.index > from->index && futile(*from, pass)) {
      climb_from_.reset();
      hold_at(*from);  // climbed as high as allowed, still unsure, no surer: give it up
    } else if (holding_) {
      current_ = pass.index;
      pending_ = "futile";
    } else if (!options_.rerun) {
      if (pass.index < cap_) {  // widen from the next window
        if (!climb_from_) climb_from_ = pass;
        current_ = pass.index + 1;
        pending_ = "escalate";
      }
    } else {
      current_ = pass.index;
      if (pass.index > 0) pending_ = "escalate";
    }
    return;
  }
  climb_from_.reset();
  holding_ = false;
  if (pass.idle_label) {  // sure nothing is happening: back to the narrowest
    current_ = 0;
    pending_ = "idle";
    confident_run_ = 0;
    return;
  }
  current_ = pass.index;
  pending_ = "confident";
  // Re-run mode: the wider pass overruled the narrower one; hold it.
  if (disagreed && pass.label != first->label) agreed_ = pass, agreed_windows_ = 0;
  if (agreed_) {  // held wide while the wider width keeps its answer
    if (++agreed_windows_ < options_.disagree_hold) {
      confident_run_ = 0;
      pending_ = "disagree";
      return;
    }
    agreed_.reset();
  }
  // Stepping down takes `dwell` windows in a row sure by the hysteresis margin.
  if (pass.confidence < options_.threshold + options_.hysteresis) {
    confident_run_ = 0;
  } else if (++confident_run_ >= options_.dwell) {
    confident_run_ = 0;
    if (current_ > 0) --current_, pending_ = "step_down";
  }
}

}  // namespace adaptive
