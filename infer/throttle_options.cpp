#include "infer/throttle_options.h"

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

const NameTable<Climb>& climb_names() {
  static const NameTable<Climb> names("climb", {{Climb::kStep, "step"}, {Climb::kJump, "jump"}});
  return names;
}

const NameTable<Decision>& decision_names() {
  static const NameTable<Decision> names("decision", {{Decision::kStart, "start"},
                                                      {Decision::kEscalate, "escalate"},
                                                      {Decision::kConfident, "confident"},
                                                      {Decision::kStepDown, "step_down"},
                                                      {Decision::kIdle, "idle"},
                                                      {Decision::kBattery, "battery"},
                                                      {Decision::kBudget, "budget"},
                                                      {Decision::kDeadline, "deadline"},
                                                      {Decision::kFutile, "futile"},
                                                      {Decision::kDisagree, "disagree"},
                                                      {Decision::kQuality, "quality"},
                                                      {Decision::kFixed, "fixed"},
                                                      {Decision::kGate, "gate"},
                                                      {Decision::kSkip, "skip"}});
  return names;
}

namespace {

std::string number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

// Throws unless lo <= value <= hi (NaN fails); `range` says so in words.
void check_range(const char* name, double value, double lo, double hi, const char* range) {
  if (!(value >= lo && value <= hi))
    throw std::invalid_argument(std::string(name) + " must be " + range + ", got " + number(value));
}

}  // namespace

bool sure(const ThrottleOptions& options, const PassOutcome& pass) {
  return pass.confidence >= options.threshold;
}

void ThrottleOptions::validate() const {
  constexpr double kBig = 1e300;
  if (!(threshold > 0 && threshold <= 1))
    throw std::invalid_argument("threshold must be in (0, 1], got " + number(threshold));
  check_range("dwell", dwell, 1, kBig, ">= 1");
  check_range("hysteresis", hysteresis, 0, 1, "in [0, 1]");
  check_range("futility_gain", futility_gain, 0, 1, "in [0, 1]");
  check_range("futility_change", futility_change, 0, 1, "in [0, 1]");
  check_range("futility_hold", futility_hold, 1, kBig, ">= 1");
  check_range("disagree_hold", disagree_hold, 0, kBig, ">= 0");
  check_range("idle_stride", idle_stride, 1, kBig, ">= 1");
  check_range("gate_bias", gate_bias, -kBig, kBig, "a number");
  for (const auto& [pct, width] : battery_curve) {
    check_range("battery curve percent", pct, 0, 100, "in [0, 100]");
    if (!(width > 0 && width <= 1))
      throw std::invalid_argument("battery curve width must be in (0, 1], got " + number(width));
  }
  check_range("budget_mflops_per_s", budget_mflops_per_s, 0, kBig, ">= 0");
  if (!(budget_horizon_s > 0))
    throw std::invalid_argument("budget_horizon_s must be > 0, got " + number(budget_horizon_s));
  check_range("max_latency_ms", max_latency_ms, 0, kBig, ">= 0 (0: no deadline)");
  check_range("quality dark_below", quality.dark_below, 0, 1, "in [0, 1]");
  check_range("quality blur_below", quality.blur_below, 0, kBig, ">= 0");
  check_range("quality still_below", quality.still_below, 0, 1, "in [0, 1]");
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
    if (!(pct >= 0 && pct <= 100 && width > 0 && width <= 1)) {
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

}  // namespace adaptive
