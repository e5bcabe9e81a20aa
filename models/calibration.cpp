#include "models/calibration.h"

#include <cmath>

#include <torch/torch.h>

namespace adaptive {
namespace {
double nll(const at::Tensor& logits, const at::Tensor& labels, double t) {
  return torch::nll_loss(torch::log_softmax(logits / t, 1), labels).item<double>();
}
}  // namespace

double fit_temperature(const at::Tensor& logits, const at::Tensor& labels) {
  torch::NoGradGuard no_grad;
  const at::Tensor x = logits.to(torch::kDouble);
  // NLL is unimodal in log T: golden-section search.
  double lo = std::log(0.05), hi = std::log(20.0);
  const double g = (std::sqrt(5.0) - 1) / 2;
  double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
  double fa = nll(x, labels, std::exp(a)), fb = nll(x, labels, std::exp(b));
  for (int i = 0; i < 60; ++i) {
    if (fa < fb) {
      hi = b, b = a, fb = fa;
      a = hi - g * (hi - lo);
      fa = nll(x, labels, std::exp(a));
    } else {
      lo = a, a = b, fa = fb;
      b = lo + g * (hi - lo);
      fb = nll(x, labels, std::exp(b));
    }
  }
  return std::exp((lo + hi) / 2);
}

double expected_calibration_error(const at::Tensor& logits, const at::Tensor& labels,
                                  double temperature, int bins) {
  torch::NoGradGuard no_grad;
  const at::Tensor probs = torch::softmax(logits.to(torch::kDouble) / temperature, 1);
  const auto [confidence, predicted] = probs.max(1);
  const at::Tensor correct = predicted.eq(labels).to(torch::kDouble);
  const double n = static_cast<double>(labels.size(0));
  double ece = 0;
  for (int b = 0; b < bins; ++b) {
    const double lo = static_cast<double>(b) / bins, hi = static_cast<double>(b + 1) / bins;
    const at::Tensor in_bin = (confidence > lo) & (confidence <= hi);
    const double count = in_bin.sum().item<double>();
    if (count == 0) continue;
    const double accuracy = correct.masked_select(in_bin).mean().item<double>();
    const double mean_confidence = confidence.masked_select(in_bin).mean().item<double>();
    ece += std::abs(accuracy - mean_confidence) * count / n;
  }
  return ece;
}

}  // namespace adaptive
