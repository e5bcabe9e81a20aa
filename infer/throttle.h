// The throttle: which width each window of a video runs at, and why.
//
// Policies:
//   fixed       always the configured width (the baseline)
//   confidence  start at the narrowest width; a window whose calibrated
//               confidence is below `threshold` escalates (re-run wider at
//               once, or widen from the next window); after `dwell`
//               windows confident by `threshold + hysteresis` it steps down
//               one width, so it does not flap; a confident idle label
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
//   gate        the model's gate picks the width per window (none yet: the
//               narrowest, decision `start`); after a
//               window sure (>= threshold) of the idle label, the next runs
//               at the narrowest, as under the confidence policy. The
//               disagreement rule holds too: a window the gate ran narrower
//               than the last sure one, sure of another gesture, is not
//               trusted, and the next windows run at least at that wider
//               width (decision `disagree`) while it keeps its answer, for
//               at most `disagree_hold` windows
//
// Context caps every policy: the battery level (a curve from percent to
// the widest width allowed), a compute budget in MFLOPs per second of video
// (a token bucket), and input quality (windows too dark, blurry or still to
// carry information run at the narrowest width) and a deadline (live
// sources: the widest width whose measured time, after what the window has
// already waited, still meets it). Every plan names the
// signal that set the width (docs/inference-output.md, `decision`).
//
// Pure logic over numbers: no model, no video, so tests can script it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/enum_names.h"

namespace adaptive {

enum class PolicyKind { kFixed, kConfidence, kGate };
const NameTable<PolicyKind>& policy_names();  // "fixed" | "confidence" | "gate"
PolicyKind parse_policy(const std::string& name);

struct QualityOptions {
  bool enabled = true;
  double dark_below = 0.06;  // mean luma in [0, 1] below this: too dark
  double blur_below = 2.0;   // variance of the Laplacian below this: no detail
  double still_below = 0.0;  // mean |frame difference| in [0, 1] below this: idle (0: off)
};

// The defaults here are adaptive-infer's defaults (its options read them).
struct ThrottleOptions {
  PolicyKind policy = PolicyKind::kConfidence;
  int fixed_index = -1;         // fixed policy: the artifact's width index (-1: widest)
  double threshold = 0.6;       // calibrated confidence that counts as sure
  bool rerun = false;           // escalate by re-running the window (false: from the next one)
  int dwell = 1;                // confident windows before stepping down one width
  double hysteresis = 0.05;     // stepping down needs threshold + hysteresis
  double futility_gain = 0.05;  // a wider pass must add this much confidence (0: no futility rule)
  double futility_change = 0.15;  // a confidence move this large ends a futile hold
  int futility_hold = 16;         // windows a futile hold lasts at most
  int disagree_hold = 8;          // windows held wide after a disagreement (0: no rule)
  // Gate: cost bias added to the trained one (higher: narrower widths; 0: as trained).
  double gate_bias = 0;
  // Battery: (percent, widest width allowed at or below that percent).
  std::vector<std::pair<double, double>> battery_curve = {{50, 0.75}, {30, 0.5}, {15, 0.25}};
  double budget_mflops_per_s = 0;  // 0: no budget
  double budget_horizon_s = 2;     // the bucket holds this many seconds of budget
  double max_latency_ms = 0;       // deadline of a window after its last frame (0: none)
  QualityOptions quality;
};

// The fixed policy's width index among `width_count` widths: fixed_index, or
// the widest when it is -1 (or out of range).
int resolved_fixed_index(const ThrottleOptions& options, int width_count);

// Parses "50:0.75,30:0.5,15:0.25". Throws std::invalid_argument naming the entry.
std::vector<std::pair<double, double>> parse_battery_curve(const std::string& text);
// The same text back: "50:0.75,30:0.5,15:0.25".
std::string format_battery_curve(const std::vector<std::pair<double, double>>& curve);

// What is known before a window runs.
struct WindowSignals {
  double start_s = 0;       // video time of the window's start
  double battery_pct = -1;  // < 0: unknown (no cap)
  double luma = 0.5;        // mean, [0, 1]
  double sharpness = 100;   // variance of the Laplacian
  double motion = 1;        // mean |frame difference|, [0, 1]
  int gate_choice = -1;     // gate policy: the gate's width index (-1: none yet, the narrowest)
  double waited_ms = 0;     // time the window has waited since its last frame arrived
};

// What a pass at a width answered.
struct PassOutcome {
  int index = 0;            // width index
  double confidence = 0;    // calibrated
  int label = -1;           // class index
  bool idle_label = false;  // the label is the idle one (no_gesture)
};

struct Plan {
  int index = 0;
  std::string decision;  // why: start, escalate, confident, step_down, idle, battery, budget,
                         // deadline, futile, disagree, quality, fixed, gate
};

class Throttle {
 public:
  // `mflops`: cost of one window per width (ascending widths).
  Throttle(ThrottleOptions options, std::vector<double> widths, std::vector<double> mflops);

  // The width to run a window at first.
  Plan begin(const WindowSignals& signals);
  // After a pass: a wider pass of the same window (confidence policy,
  // re-run mode), or nothing.
  std::optional<Plan> after(const PassOutcome& pass);
  // The window is done: its final pass and the MFLOPs it spent in all.
  void finish(const PassOutcome& pass, double mflops_spent);
  // A pass at `index` took `ms` (feeds the deadline's time per width).
  void observe_pass(int index, double ms);

  // The widest index the context allows now (battery and budget).
  int cap() const { return cap_; }

 private:
  int widest_within(double mflops) const;
  double expected_ms(int index) const;  // < 0: no pass measured yet
  using Pass = PassOutcome;
  bool futile(const Pass& narrow, const Pass& wide) const;
  void hold_at(const Pass& narrow);  // step back to `narrow` and hold there
  // A sure pass narrower than the last window's sure pass, naming another gesture.
  bool disagrees(const Pass& pass) const;
  void finish_gate(const Pass& pass, bool sure);  // finish() under the gate policy

  ThrottleOptions options_;
  std::vector<double> widths_, mflops_;
  int current_ = 0;                // confidence policy: the width to start the next window at
  std::string pending_ = "start";  // why current_ is what it is
  int confident_run_ = 0;          // consecutive windows confident enough to step down
  bool gate_idle_ = false;         // gate policy: the last window was sure nothing happens
  int cap_ = 0;
  std::string cap_reason_;
  double bucket_ = 0, last_start_s_ = -1;
  double spent_this_window_ = 0;
  std::vector<double> pass_ms_;  // per width: moving average of measured passes (< 0: none yet)
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

}  // namespace adaptive
