// The throttle: which width each window of a video runs at, and why. A width
// policy proposes (infer/width_policy.h: fixed, confidence, gate); the
// context caps (infer/context_cap.h: battery, budget, deadline, input
// quality); every plan names the signal that set its width
// (docs/inference-output.md, `decision`).
//
// Pure logic over numbers: no model, no video, so tests can script it.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "infer/context_cap.h"
#include "infer/throttle_options.h"
#include "infer/width_policy.h"

namespace adaptive {

class Throttle {
 public:
  // `mflops`: cost of one window per width (ascending widths). Throws
  // std::invalid_argument for options out of range (ThrottleOptions::validate)
  // or a cost list that does not match the widths.
  Throttle(const ThrottleOptions& options, std::vector<double> widths, std::vector<double> mflops);

  // The width to run a window at first.
  Plan begin(const WindowSignals& signals);
  // After a pass: a wider pass of the same window (confidence policy,
  // re-run mode), or nothing.
  std::optional<Plan> after(const PassOutcome& pass);
  // The window is done: its final pass and the MFLOPs it spent in all.
  void finish(const PassOutcome& pass, double mflops_spent);
  // Asked before begin(): whether this window goes unrun, its answer the
  // last window's (ThrottleOptions::idle_stride; counted as skipped).
  bool skip();
  // The idle stride in effect: ThrottleOptions::idle_stride, 1 for the fixed policy.
  int idle_stride() const {
    return options_.policy == PolicyKind::kFixed ? 1 : options_.idle_stride;
  }
  // A pass at `index` took `ms` (feeds the deadline's time per width).
  void observe_pass(int index, double ms) { context_.observe_pass(index, ms); }
  // See WidthPolicy::wants_gate_probe.
  bool wants_gate_probe(bool gates_every_width) const {
    return policy_->wants_gate_probe(gates_every_width);
  }

  // The widest index the context allows now (battery, budget, deadline).
  int cap() const { return context_.cap(); }

 private:
  std::unique_ptr<WidthPolicy> policy_;
  ContextCap context_;
  ThrottleOptions options_;
  bool sure_idle_ = false;  // the last window run was sure nothing happens
  int skipped_ = 0;         // windows skipped since it
};

}  // namespace adaptive
