// Width policies: which width each window of a video runs at, before the
// context caps it (infer/context_cap.h). Each policy owns its state.
//
//   fixed       always the configured width (the baseline)
//   confidence  start at the narrowest width; a window whose calibrated
//               confidence is below `threshold` escalates (re-run wider at
//               once, or widen from the next window); after `dwell`
//               windows confident by `threshold + hysteresis` it steps down,
//               so it does not flap. Escalating and stepping down move one
//               width, or straight to the widest allowed and the narrowest
//               (ThrottleOptions::climb); a confident idle label
//               (no_gesture) drops straight to the narrowest. Futility: when
//               a climb reaches the widest width it may use and is still
//               unsure, and its confidence there is not `futility_gain`
//               above where the climb began, the width goes back to where it
//               began and stays (no escalation) until the input changes (the
//               confidence moves by `futility_change`) or `futility_hold`
//               windows pass: video that no width is sure of (out of
//               distribution, hopeless, idle but not the idle label) runs
//               narrow. Judged over the whole climb, not a step, as a middle
//               width often adds nothing where the widest does.
//               Disagreement: a narrower width that, sure, names another
//               gesture than the wider width it stepped down from just did
//               is not trusted: the width goes back up (decision `disagree`)
//               and stays there while the wider width keeps its answer, for
//               at most `disagree_hold` windows. Narrow widths confuse
//               mirror gestures (left/right, push/pull) with confidence
//               (docs/inference.md)
//   gate        the model's gate picks the width per window: the head that
//               read the previous window's pass, or a probe pass's head
//               (none yet: the narrowest, decision `start`); after a window
//               sure (>= threshold) of the idle label, the next runs at the
//               narrowest, as under the confidence policy. The disagreement
//               rule holds too: a window the gate ran narrower than the last
//               sure one, sure of another gesture, is not trusted, and the
//               next windows run at least at that wider width (decision
//               `disagree`) while it keeps its answer, for at most
//               `disagree_hold` windows
//
// Pure logic over numbers: no model, no video, so tests can script it.
#pragma once

#include <memory>
#include <optional>

#include "infer/context_cap.h"
#include "infer/throttle_options.h"

namespace adaptive {

class WidthPolicy {
 public:
  virtual ~WidthPolicy() = default;

  // The width a window should start at, before the context's cap.
  virtual Plan propose(const WindowSignals& signals) = 0;
  // Whether the context's input-quality rule applies to this policy.
  virtual bool follows_input_quality() const { return true; }
  // The context ran the window at the narrowest for its input (`plan`).
  virtual void input_overruled(const Plan& plan) {}
  // After a pass: a wider pass of the same window (asked of the context's
  // budget), or nothing.
  virtual std::optional<Plan> after(const PassOutcome& pass, ContextCap& context) { return {}; }
  // The window is done: its final pass.
  virtual void finish(const PassOutcome& pass, const ContextCap& context) = 0;
  // Gate: whether this window begins with a narrowest pass whose head
  // chooses its width (WindowSignals::gate_choice). `gates_every_width`: the
  // model has a head per width (ModelArtifact::gates_every_width).
  virtual bool wants_gate_probe(bool gates_every_width) const { return false; }
};

// The policy `options.policy` names, over `width_count` widths.
std::unique_ptr<WidthPolicy> make_width_policy(const ThrottleOptions& options, int width_count);

}  // namespace adaptive
