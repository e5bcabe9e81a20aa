#include "infer/throttle.h"

namespace adaptive {
namespace {

const ThrottleOptions& validated(const ThrottleOptions& options) {
  options.validate();
  return options;
}

}  // namespace

Throttle::Throttle(const ThrottleOptions& options, std::vector<double> widths,
                   std::vector<double> mflops)
    : policy_(make_width_policy(validated(options), static_cast<int>(widths.size()))),
      context_(options, std::move(widths), std::move(mflops)),
      options_(options) {}

Plan Throttle::begin(const WindowSignals& signals) {
  context_.begin(signals);
  Plan plan = policy_->propose(signals);
  if (policy_->follows_input_quality()) {
    if (const auto why = context_.poor_input(signals)) {
      plan = {0, *why};
      policy_->input_overruled(plan);
    }
  }
  return context_.clamp(plan);
}

std::optional<Plan> Throttle::after(const PassOutcome& pass) {
  return policy_->after(pass, context_);
}

void Throttle::finish(const PassOutcome& pass, double mflops_spent) {
  context_.finish(mflops_spent);
  policy_->finish(pass, context_);
  sure_idle_ = pass.idle_label && sure(options_, pass);
  skipped_ = 0;
}

bool Throttle::skip() {
  if (!sure_idle_ || skipped_ + 1 >= idle_stride()) return false;
  ++skipped_;
  return true;
}

}  // namespace adaptive
