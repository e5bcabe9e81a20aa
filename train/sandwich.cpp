#include "train/sandwich.h"

#include <cmath>
#include <sstream>

#include <torch/torch.h>

namespace adaptive {

const NameTable<WidthSampling>& width_sampling_names() {
  static const NameTable<WidthSampling> names("width sampling",
                                              {{WidthSampling::kSandwich, "sandwich"},
                                               {WidthSampling::kAll, "all"},
                                               {WidthSampling::kSingle, "single"}});
  return names;
}

WidthSampling parse_width_sampling(const std::string& name) {
  return width_sampling_names().parse(name);
}

NonFiniteLoss::NonFiniteLoss(double w, double value)
    : std::runtime_error([&] {
        std::ostringstream msg;
        msg << "loss is "
            << (std::isnan(value) ? "NaN"
                : value > 0       ? "+infinity"
                                  : "-infinity")
            << " at width " << w;
        return msg.str();
      }()),
      width(w) {}

std::vector<WidthChoice> sample_step_widths(WidthSampling sampling,
                                            const std::vector<double>& widths, WidthMode mode,
                                            int random_widths, Rng& rng) {
  const int last = static_cast<int>(widths.size()) - 1;
  std::vector<WidthChoice> choices = {{widths[last], last, true}};
  if (sampling == WidthSampling::kSingle || last == 0) return choices;
  if (sampling == WidthSampling::kAll) {
    for (int i = last - 1; i >= 0; --i) choices.push_back({widths[i], i, false});
    return choices;
  }
  choices.push_back({widths[0], 0, false});
  for (int r = 0; r < random_widths; ++r) {
    if (mode == WidthMode::kUniversal) {
      choices.push_back({rng.uniform(widths[0], widths[last]), -1, false});
    } else {
      const int i = last >= 2 ? static_cast<int>(rng.uniform_int(1, last - 1))
                              : static_cast<int>(rng.uniform_int(0, last));
      choices.push_back({widths[i], i, false});
    }
  }
  return choices;
}

at::Tensor distillation_loss(const at::Tensor& student, const at::Tensor& teacher, double t) {
  const at::Tensor p = torch::softmax(teacher / t, 1);
  const at::Tensor log_q = torch::log_softmax(student / t, 1);
  // KL(p || q) = sum p (log p - log q); p log p does not depend on the student.
  return (p * (torch::log(p.clamp_min(1e-12)) - log_q)).sum(1).mean() * (t * t);
}

std::vector<double> sandwich_step(SlimmableNet& model, const at::Tensor& clips,
                                  const at::Tensor& labels, const std::vector<WidthChoice>& choices,
                                  const SandwichOptions& o) {
  std::vector<double> losses;
  at::Tensor teacher;
  for (const WidthChoice& choice : choices) {
    ForwardContext ctx{choice.width, choice.index};
    ctx.pooled_frames = o.pooled_frames;
    const at::Tensor logits = model.forward(clips, ctx);
    at::Tensor loss;
    if (choice.widest || !o.distill || !teacher.defined()) {
      loss = torch::nn::functional::cross_entropy(
          logits, labels,
          torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(o.label_smoothing));
    } else {
      loss = distillation_loss(logits, teacher, o.distill_temperature);
    }
    const double value = loss.item<double>();
    if (!std::isfinite(value)) throw NonFiniteLoss(choice.width, value);
    (choice.widest ? loss : loss * o.narrow_weight).backward();
    if (choice.widest) teacher = logits.detach();
    losses.push_back(value);
  }
  return losses;
}

std::vector<double> accumulated_sandwich_step(SlimmableNet& model, const at::Tensor& clips,
                                              const at::Tensor& labels,
                                              const std::vector<WidthChoice>& choices,
                                              const SandwichOptions& options, int64_t parts) {
  const int64_t n = clips.size(0);
  parts = std::max<int64_t>(1, std::min(parts, n));
  std::vector<double> losses;
  for (int64_t k = 0; k < parts; ++k) {
    const int64_t begin = n * k / parts, end = n * (k + 1) / parts;
    const auto part = sandwich_step(model, clips.slice(0, begin, end), labels.slice(0, begin, end),
                                    choices, options);
    losses.resize(part.size(), 0.0);
    for (size_t i = 0; i < part.size(); ++i) losses[i] += part[i] / parts;
  }
  if (parts > 1) {
    torch::NoGradGuard no_grad;
    for (auto& p : model.parameters())
      if (p.grad().defined()) p.grad().div_(static_cast<double>(parts));
  }
  return losses;
}

}  // namespace adaptive
