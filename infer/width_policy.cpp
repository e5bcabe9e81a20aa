#include "infer/width_policy.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace adaptive {
namespace {

using Pass = PassOutcome;

// The disagreement rule both adaptive policies keep: a sure pass narrower
// than the last window's sure pass, naming another gesture.
bool disagrees(const ThrottleOptions& o, const std::optional<Pass>& last_sure, const Pass& pass) {
  return o.disagree_hold > 0 && last_sure && sure(o, pass) && !pass.idle_label &&
         !last_sure->idle_label && pass.index < last_sure->index && pass.label != last_sure->label;
}

class FixedPolicy final : public WidthPolicy {
 public:
  explicit FixedPolicy(int index) : index_(index) {}
  Plan propose(const WindowSignals&) override { return {index_, Decision::kFixed}; }
  bool follows_input_quality() const override { return false; }  // the baseline
  void finish(const Pass&, const ContextCap&) override {}

 private:
  int index_;
};

class ConfidencePolicy final : public WidthPolicy {
 public:
  explicit ConfidencePolicy(const ThrottleOptions& options) : o_(options) {}

  Plan propose(const WindowSignals&) override { return {current_, pending_}; }

  void input_overruled(const Plan& plan) override {
    current_ = plan.index;
    pending_ = plan.decision;
  }

  std::optional<Plan> after(const Pass& pass, ContextCap& context) override {
    if (o_.rerun && !window_first_) window_first_ = pass;
    const bool disagree = o_.rerun && disagrees_now(pass);
    if (sure(o_, pass) && !disagree) return {};
    // 'next' widens from the next window (finish); a held width is not raised.
    if (!o_.rerun || pass.index >= context.cap() || holding_) return {};
    // Re-run this window wider (back to the width it disagrees with), if the
    // budget still allows it; a jump the budget cannot pay for falls short,
    // to the widest width it can.
    const int wider =
        disagree ? std::min(last_sure_->index, context.cap()) : climb_to(pass, context);
    const int lowest = disagree || !jumps() ? wider : pass.index + 1;
    for (int index = wider; index >= lowest; --index) {
      if (context.afford_pass(index))
        return Plan{index, disagree ? Decision::kDisagree : Decision::kEscalate};
    }
    return {};
  }

  void finish(const Pass& pass, const ContextCap& context) override;

 private:
  bool jumps() const { return o_.climb == Climb::kJump; }
  // The width an unsure pass below the cap escalates to.
  int climb_to(const Pass& pass, const ContextCap& context) const {
    return jumps() ? context.cap() : pass.index + 1;
  }
  bool disagrees_now(const Pass& pass) const {
    return !holding_ && disagrees(o_, last_sure_, pass);
  }
  bool futile(const Pass& narrow, const Pass& wide) const {
    return o_.futility_gain > 0 && wide.confidence < narrow.confidence + o_.futility_gain;
  }
  void hold_at(const Pass& narrow) {  // step back to `narrow` and hold there
    current_ = narrow.index;
    pending_ = Decision::kFutile;
    holding_ = true;
    hold_from_ = narrow;
    held_windows_ = 0;
  }

  ThrottleOptions o_;
  int current_ = 0;                      // the width to start the next window at
  Decision pending_ = Decision::kStart;  // why current_ is what it is
  int confident_run_ = 0;                // consecutive windows confident enough to step down
  // Futility: where the current climb began (the window's first pass in
  // re-run mode), and the hold a fruitless climb starts.
  std::optional<Pass> window_first_, climb_from_;
  bool holding_ = false;
  Pass hold_from_;
  int held_windows_ = 0;
  // Disagreement: the last window's final pass when it was sure (else none),
  // and the wider width's answer held after a disagreement.
  std::optional<Pass> last_sure_;
  std::optional<Pass> agreed_;
  int agreed_windows_ = 0;
};

void ConfidencePolicy::finish(const Pass& pass, const ContextCap& context) {
  const int cap = context.cap();
  const std::optional<Pass> first = window_first_;  // re-run mode: this window's first pass
  window_first_.reset();
  const bool is_sure = sure(o_, pass);
  // Disagreement: judged on the window's first pass, against the last window.
  const bool disagreed = disagrees_now(o_.rerun && first ? *first : pass);
  const std::optional<Pass> previous = last_sure_;
  last_sure_.reset();
  if (is_sure) last_sure_ = pass;
  if (agreed_ && !(is_sure && !pass.idle_label && pass.label == agreed_->label)) agreed_.reset();
  if (holding_) {  // held narrow: until the input changes, or the hold runs out
    const bool changed = std::abs(pass.confidence - hold_from_.confidence) >= o_.futility_change;
    if (changed || ++held_windows_ >= o_.futility_hold) holding_ = false;
  }
  if (disagreed && !o_.rerun) {  // back up to the width that answered otherwise
    climb_from_.reset();
    confident_run_ = 0;
    agreed_ = previous;
    agreed_windows_ = 0;
    last_sure_ = previous;
    current_ = previous->index;
    pending_ = Decision::kDisagree;
    return;
  }
  if (!is_sure) {
    confident_run_ = 0;
    // Where this climb began: the window's first pass (re-run mode), or the
    // window the climb started at ('next').
    const std::optional<Pass> from = o_.rerun ? first : climb_from_;
    if (pass.index >= cap && from && pass.index > from->index && futile(*from, pass)) {
      climb_from_.reset();
      hold_at(*from);  // climbed as high as allowed, still unsure, no surer: give it up
    } else if (holding_) {
      current_ = pass.index;
      pending_ = Decision::kFutile;
    } else if (!o_.rerun) {
      if (pass.index < cap) {  // widen from the next window
        if (!climb_from_) climb_from_ = pass;
        current_ = climb_to(pass, context);
        pending_ = Decision::kEscalate;
      }
    } else {
      current_ = pass.index;
      if (pass.index > 0) pending_ = Decision::kEscalate;
    }
    return;
  }
  climb_from_.reset();
  holding_ = false;
  if (pass.idle_label) {  // sure nothing is happening: back to the narrowest
    current_ = 0;
    pending_ = Decision::kIdle;
    confident_run_ = 0;
    return;
  }
  current_ = pass.index;
  pending_ = Decision::kConfident;
  // Re-run mode: the wider pass overruled the narrower one; hold it.
  if (disagreed && pass.label != first->label) agreed_ = pass, agreed_windows_ = 0;
  if (agreed_) {  // held wide while the wider width keeps its answer
    if (++agreed_windows_ < o_.disagree_hold) {
      confident_run_ = 0;
      pending_ = Decision::kDisagree;
      return;
    }
    agreed_.reset();
  }
  // Stepping down takes `dwell` windows in a row sure by the hysteresis margin.
  if (pass.confidence < o_.threshold + o_.hysteresis) {
    confident_run_ = 0;
  } else if (++confident_run_ >= o_.dwell) {
    confident_run_ = 0;
    if (current_ > 0) current_ = jumps() ? 0 : current_ - 1, pending_ = Decision::kStepDown;
  }
}

class GatePolicy final : public WidthPolicy {
 public:
  GatePolicy(const ThrottleOptions& options, int width_count)
      : o_(options), widest_(width_count - 1) {}

  Plan propose(const WindowSignals& s) override {
    const int choice = s.gate_choice >= 0 ? s.gate_choice : next_;
    Plan plan;
    if (idle_)
      plan = {0, Decision::kIdle};
    else if (choice < 0)  // no choice yet: a run's first window
      plan = {0, Decision::kStart};
    else
      plan = {std::min(choice, widest_), Decision::kGate};
    if (!idle_ && agreed_ && agreed_->index > plan.index)
      plan = {agreed_->index, Decision::kDisagree};
    return plan;
  }

  void finish(const Pass& pass, const ContextCap&) override {
    const bool is_sure = sure(o_, pass);
    idle_ = pass.idle_label && is_sure;
    next_ = pass.gate_choice;
    if (disagrees(o_, last_sure_, pass)) {  // not trusted: the wider answer stands, and is held
      agreed_ = last_sure_;
      agreed_windows_ = 0;
      return;
    }
    last_sure_.reset();
    if (is_sure) last_sure_ = pass;
    // Held while the wider width keeps its answer, for at most disagree_hold windows.
    if (agreed_ && !(is_sure && !pass.idle_label && pass.label == agreed_->label &&
                     ++agreed_windows_ < o_.disagree_hold)) {
      agreed_.reset();
    }
  }

  bool wants_gate_probe(bool gates_every_width) const override {
    return !gates_every_width || (next_ < 0 && o_.gate_probe_first);
  }

 private:
  ThrottleOptions o_;
  int widest_;
  bool idle_ = false;  // the last window was sure nothing happens
  int next_ = -1;      // the width the last window's pass chose for this one (-1: none)
  // Disagreement, as under the confidence policy.
  std::optional<Pass> last_sure_;
  std::optional<Pass> agreed_;
  int agreed_windows_ = 0;
};

}  // namespace

std::unique_ptr<WidthPolicy> make_width_policy(const ThrottleOptions& options, int width_count) {
  switch (options.policy) {
    case PolicyKind::kFixed:
      return std::make_unique<FixedPolicy>(resolved_fixed_index(options, width_count));
    case PolicyKind::kConfidence:
      return std::make_unique<ConfidencePolicy>(options);
    case PolicyKind::kGate:
      return std::make_unique<GatePolicy>(options, width_count);
  }
  throw std::logic_error("make_width_policy: unknown policy");
}

}  // namespace adaptive
