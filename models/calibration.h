// Confidence calibration per width. The throttle in adaptive-infer compares
// confidences across widths, so they must mean the same thing at every width:
// each width gets a softmax temperature T fitted on validation logits
// (confidence = max softmax(logits / T)).
#pragma once

#include <ATen/core/Tensor.h>

namespace adaptive {

// Temperature in [0.05, 20] minimising the negative log-likelihood of
// `labels` under softmax(logits / T). logits [N, C] float, labels [N] int64.
double fit_temperature(const at::Tensor& logits, const at::Tensor& labels);

// Expected calibration error of max-softmax confidence, `bins` equal-width
// confidence bins: sum over bins of |accuracy - mean confidence| x share of samples.
double expected_calibration_error(const at::Tensor& logits, const at::Tensor& labels,
                                  double temperature = 1.0, int bins = 15);

}  // namespace adaptive
