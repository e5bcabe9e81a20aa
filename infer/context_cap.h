// The context a device runs in, as one cap on whatever width a policy
// proposes (infer/width_policy.h):
//   battery   a curve from percent to the widest width allowed
//   budget    MFLOPs per second of video, a token bucket that refills with
//             video time and holds `budget_horizon_s` seconds of it
//   deadline  live sources: the widest width whose measured time, after what
//             the window has already waited, still meets it
//   quality   windows too dark, blurry or still to carry information run at
//             the narrowest width (not under the fixed policy: the baseline)
// A capped plan names the signal that capped it (decision battery, budget,
// deadline, quality or idle).
//
// Pure logic over numbers: no model, no video.
#pragma once

#include <optional>
#include <vector>

#include "infer/throttle_options.h"

namespace adaptive {

class ContextCap {
 public:
  // `mflops`: cost of one window per width (ascending widths).
  ContextCap(const ThrottleOptions& options, std::vector<double> widths,
             std::vector<double> mflops);

  // Before a window: the widest width battery, budget and deadline allow.
  void begin(const WindowSignals& signals);
  // Input quality: why the window should run narrowest (quality: dark or
  // blurry; idle: still), or nothing.
  std::optional<Decision> poor_input(const WindowSignals& signals) const;
  // The plan within the cap; it starts the window's spending.
  Plan clamp(Plan plan);
  // Whether another pass of this window at `index` fits the budget; a pass
  // that fits is counted.
  bool afford_pass(int index);
  // The window is done and spent `mflops` in all.
  void finish(double mflops);
  // A pass at `index` took `ms` (the deadline's time per width).
  void observe_pass(int index, double ms);

  // The widest index allowed for the current window.
  int cap() const { return cap_; }

 private:
  int widest_within(double mflops) const;
  double expected_ms(int index) const;  // < 0: no pass measured yet

  ThrottleOptions options_;
  std::vector<double> widths_, mflops_;
  int cap_ = 0;
  Decision cap_reason_ = Decision::kStart;
  double bucket_ = 0, last_start_s_ = -1;
  double spent_this_window_ = 0;
  std::vector<double> pass_ms_;  // per width: moving average of measured passes (< 0: none yet)
};

}  // namespace adaptive
