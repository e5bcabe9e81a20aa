// The throttle's vocabulary: its options (adaptive-infer's defaults), what
// is known before a window runs, what a pass answered, and the plan with its
// decision, the contract string of docs/inference-output.md.
#pragma once

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

// How the confidence policy moves between widths.
//   step  one width at a time, up when unsure, down after `dwell` sure windows
//   jump  an unsure window sends the next (or re-runs this one) straight to
//         the widest width allowed, and stepping down goes straight to the
//         narrowest. On a stream (infer/model_passes.h) a width that did not
//         run the last window is rebuilt at a whole window's cost, so every
//         width a climb passes through costs a window: jumping spends less
//         there, but lost 0.6-3.8 points of segments on the demo recipe's
//         causal models (docs/benchmarks.md#streaming): not the default
enum class Climb { kStep, kJump };
const NameTable<Climb>& climb_names();  // "step" | "jump"

// The defaults here are adaptive-infer's defaults (its options read them).
struct ThrottleOptions {
  PolicyKind policy = PolicyKind::kConfidence;
  int fixed_index = -1;         // fixed policy: the artifact's width index (-1: widest)
  double threshold = 0.6;       // calibrated confidence that counts as sure
  bool rerun = false;           // escalate by re-running the window (false: from the next one)
  Climb climb = Climb::kStep;   // how widths are climbed and left
  int dwell = 1;                // confident windows before stepping down
  double hysteresis = 0.05;     // stepping down needs threshold + hysteresis
  double futility_gain = 0.05;  // a wider pass must add this much confidence (0: no futility rule)
  double futility_change = 0.15;  // a confidence move this large ends a futile hold
  int futility_hold = 16;         // windows a futile hold lasts at most
  int disagree_hold = 8;          // windows held wide after a disagreement (0: no rule)
  // While the last window run was sure nothing happens (the idle label at
  // `threshold` or above), only one window in `idle_stride` runs: the others
  // repeat its answer without a pass (decision `skip`) until a window runs
  // again. The adaptive policies only (not fixed); 1: every window runs.
  // Windowed passes only: a stream steps every frame (infer/engine.h). 3 was
  // chosen on the demo model's val streams (docs/benchmarks.md#idle-stride).
  int idle_stride = 3;
  // Gate: cost bias added to the trained one (higher: narrower widths; 0: as trained).
  double gate_bias = 0;
  // Gate: the run's first window probes (a narrowest pass whose head
  // chooses, then the chosen width: up to the widest plus the narrowest).
  // Off, it runs at the narrowest and its head chooses the next window's
  // width, so no window costs more than the widest width alone: a stream's
  // default. A manifest's clips, each a run of one window, probe.
  bool gate_probe_first = false;
  // Battery: (percent, widest width allowed at or below that percent).
  std::vector<std::pair<double, double>> battery_curve = {{50, 0.75}, {30, 0.5}, {15, 0.25}};
  double budget_mflops_per_s = 0;  // 0: no budget
  double budget_horizon_s = 2;     // the bucket holds this many seconds of budget
  double max_latency_ms = 0;       // deadline of a window after its last frame (0: none)
  QualityOptions quality;

  // Throws std::invalid_argument naming the first option out of its range
  // ("threshold must be in (0, 1], got 1.5").
  void validate() const;
};

// The fixed policy's width index among `width_count` widths: fixed_index, or
// the widest when it is -1 (or out of range).
int resolved_fixed_index(const ThrottleOptions& options, int width_count);

// Parses "50:0.75,30:0.5,15:0.25". Throws std::invalid_argument naming the entry.
std::vector<std::pair<double, double>> parse_battery_curve(const std::string& text);
// The same text back: "50:0.75,30:0.5,15:0.25".
std::string format_battery_curve(const std::vector<std::pair<double, double>>& curve);

// Why a window runs at its width: the `decision` of docs/inference-output.md.
enum class Decision {
  kStart,      // a run's first window, at the narrowest
  kEscalate,   // the last pass was unsure: wider
  kConfident,  // sure: the width stays
  kStepDown,   // sure by the hysteresis margin for `dwell` windows: narrower (Climb)
  kIdle,       // sure of the idle label, or a still input: the narrowest
  kBattery,    // capped by the battery curve
  kBudget,     // capped by the compute budget
  kDeadline,   // capped by the deadline
  kFutile,     // a climb that gained nothing, given up
  kDisagree,   // a narrower width named another gesture: back up
  kQuality,    // too dark or blurry: the narrowest
  kFixed,      // the fixed policy
  kGate,       // the gate's choice
  kSkip,       // sure nothing happens: not run, the last answer stands (idle_stride)
};
const NameTable<Decision>& decision_names();  // the strings of docs/inference-output.md

// What is known before a window runs.
struct WindowSignals {
  double start_s = 0;       // video time of the window's start
  double battery_pct = -1;  // < 0: unknown (no cap)
  double luma = 0.5;        // mean, [0, 1]
  double sharpness = 100;   // variance of the Laplacian
  double motion = 1;        // mean |frame difference|, [0, 1]
  // Gate policy: the choice of a probe pass run for this window (-1: none;
  // the choice the previous window's pass made stands).
  int gate_choice = -1;
  double waited_ms = 0;  // time the window has waited since its last frame arrived
};

// What a pass at a width answered.
struct PassOutcome {
  int index = 0;            // width index
  double confidence = 0;    // calibrated
  int label = -1;           // class index
  bool idle_label = false;  // the label is the idle one (no_gesture)
  int gate_choice = -1;     // gate: the width its head chose for the next window (-1: none)
};

struct Plan {
  int index = 0;
  Decision decision = Decision::kStart;
};

// A pass sure enough to act on: its calibrated confidence at the threshold
// or above (every policy's rules, and the idle stride, read it).
bool sure(const ThrottleOptions& options, const PassOutcome& pass);

}  // namespace adaptive
