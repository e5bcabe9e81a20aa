// One training step of a slimmable network under the sandwich rule:
// the widest width learns from the labels, the narrowest and `random_widths`
// random widths learn from the widest width's detached soft predictions
// (in-place distillation) or from the labels. Gradients of every width are
// accumulated, the narrower widths' scaled by SandwichOptions::narrow_weight;
// the caller makes one optimizer step.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "common/enum_names.h"
#include "datasets/rng.h"
#include "models/slimmable_net.h"

namespace adaptive {

enum class WidthSampling { kSandwich, kAll, kSingle };
const NameTable<WidthSampling>& width_sampling_names();  // "sandwich" | "all" | "single"
WidthSampling parse_width_sampling(const std::string& name);

struct WidthChoice {
  double width = 1;
  int index = -1;       // in the model's width list; -1 for a universal width between them
  bool widest = false;  // learns from labels and teaches the others
};

// The widths of one step, widest first. Discrete mode draws random widths
// from the listed ones strictly between the narrowest and the widest (from
// all listed widths when there are none between); universal mode draws them
// uniformly from [narrowest, widest].
std::vector<WidthChoice> sample_step_widths(WidthSampling sampling,
                                            const std::vector<double>& widths, WidthMode mode,
                                            int random_widths, Rng& rng);

struct SandwichOptions {
  bool distill = true;
  double distill_temperature = 1.0;
  double label_smoothing = 0.0;
  // Each narrower width's loss is scaled by this before its backward pass; the
  // widest's by 1. Below 1 gives the widest a larger share of the shared
  // weights' updates. 0.5 against 1: +7 to +15 points at full width and +21
  // to +24 at the narrowest on the benchmark's test clips, both seeds
  // (docs/benchmarks.md, "Training: slimmable against trained alone").
  double narrow_weight = 0.5;
  // > 0: the clips carry past frames; each width pools over the last this
  // many (ForwardContext::pooled_frames).
  int64_t pooled_frames = 0;
};

// A loss that is NaN or infinite, with the width where it appeared.
class NonFiniteLoss : public std::runtime_error {
 public:
  NonFiniteLoss(double width, double value);
  double width;
};

// Distillation loss: KL(softmax(teacher/T) || softmax(student/T)) * T^2, mean over the batch.
at::Tensor distillation_loss(const at::Tensor& student_logits, const at::Tensor& teacher_logits,
                             double temperature);

// Runs forward and backward at each choice (gradients accumulate into the
// model's .grad). Returns the loss of each choice. Throws NonFiniteLoss.
std::vector<double> sandwich_step(SlimmableNet& model, const at::Tensor& clips,
                                  const at::Tensor& labels, const std::vector<WidthChoice>& choices,
                                  const SandwichOptions& options);

// The same over `parts` micro-batches of the batch (fewer when the batch is
// smaller), with gradients averaged over them, as train.accumulate asks:
// batch norm sees micro-batches, as the ranks of a distributed run do.
// Returns each choice's loss, averaged over the parts.
std::vector<double> accumulated_sandwich_step(SlimmableNet& model, const at::Tensor& clips,
                                              const at::Tensor& labels,
                                              const std::vector<WidthChoice>& choices,
                                              const SandwichOptions& options, int64_t parts);

}  // namespace adaptive
