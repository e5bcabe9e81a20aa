#include "infer/model_passes.h"

#include <stdexcept>
#include <tuple>

namespace adaptive {

const NameTable<StreamingMode>& streaming_mode_names() {
  static const NameTable<StreamingMode> names(
      "streaming mode",
      {{StreamingMode::kAuto, "auto"}, {StreamingMode::kOn, "on"}, {StreamingMode::kOff, "off"}});
  return names;
}

ModelPasses::ModelPasses(const ModelArtifact& model, StreamingMode streaming, int64_t stride)
    : model_(model), stride_(stride) {
  const bool can = model.metadata().streams;
  if (streaming == StreamingMode::kOn && !can) {
    throw std::invalid_argument(model.path() +
                                ": --streaming on needs a causal model (trained with "
                                "model.causal: true); this one runs windowed only");
  }
  streaming_ = can && streaming != StreamingMode::kOff;
  streams_.resize(static_cast<size_t>(model.num_widths()));
}

double ModelPasses::window_mflops(int index) const {
  const ArtifactWidth& w = model_.metadata().widths.at(static_cast<size_t>(index));
  return streaming_ ? static_cast<double>(stride_) * w.step_mflops : w.mflops;
}

PassResult ModelPasses::run(const Window& w, int index, bool with_gate) {
  const ArtifactMetadata& meta = model_.metadata();
  PassResult r;
  if (!streaming_) {
    if (with_gate)
      std::tie(r.logits, r.scores) = model_.forward_and_gate(w.clip(), index);
    else
      r.logits = model_.forward_at(w.clip(), index);
    r.mflops = meta.widths[index].mflops + (with_gate ? meta.gate_mflops : 0);
    r.frames = meta.input.frames;
    return r;
  }
  Stream& s = streams_.at(static_cast<size_t>(index));
  const auto frames = static_cast<int64_t>(w.frames.size());
  const int64_t first = w.index * stride_, last = first + frames - 1;
  if (s.last_frame == last && (!with_gate || s.scores.defined())) {  // already there
    return {s.logits, s.scores, 0, 0};
  }
  const int64_t from = s.last_frame + 1;
  s.scores = at::Tensor();
  if (s.last_frame < 0 || from < first || from > last || w.padded) {
    // Rebuilt from the window's frames in one batched pass: what as many
    // steps from an empty state would give.
    if (with_gate)
      std::tie(s.logits, s.scores) = model_.prefill_and_gate(w.clip(), index, s.state);
    else
      s.logits = model_.prefill(w.clip(), index, s.state);
    r.frames = frames;
  } else {
    for (int64_t f = from; f <= last; ++f) {
      const at::Tensor frame = w.frames[static_cast<size_t>(f - first)].unsqueeze(0);
      if (with_gate && f == last)
        std::tie(s.logits, s.scores) = model_.step_and_gate(frame, s.state);
      else
        s.logits = model_.step(frame, s.state);
    }
    r.frames = last - from + 1;
  }
  // A padded window's frames are not the video's: the next pass rebuilds.
  s.last_frame = w.padded ? -1 : last;
  r.logits = s.logits;
  r.scores = s.scores;
  r.mflops = static_cast<double>(r.frames) * meta.widths[index].step_mflops +
             (with_gate ? meta.gate_mflops : 0);
  return r;
}

PassResult ModelPasses::probe(const Window& w) {
  if (streaming_) return run(w, 0, true);
  const ArtifactMetadata& meta = model_.metadata();
  PassResult r;
  std::tie(r.scores, r.logits) = model_.gate_with_logits(w.clip());
  r.mflops = meta.widths[0].mflops + meta.gate_mflops;
  r.frames = meta.input.frames;
  return r;
}

}  // namespace adaptive
