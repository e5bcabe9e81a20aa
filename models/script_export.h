// Lowering a trained slimmable network (and its gate) to one TorchScript
// module holding every exported width: the artifact's code and weights
// (docs/artifact.md; the metadata is added by train/exporter.h).
//
// Each width gets its own straight-line methods over weights sliced and
// stored contiguous for that width, with batch norm folded into the convs, so
// a narrow width runs exactly the convolutions of a plain network of its
// channels. The module's methods:
//
//   forward(x)                 logits at the current width
//   forward_at(x, width_index) logits at that width; changes no state
//   set_width(w), get_width(), widths()
//   gate(x), forward_gated(x)  when a gate is given
//   gate_with_logits(x)        gate scores and the narrowest width's logits
//                              from one pass (an extension of the contract)
//   forward_and_gate(x, width_index)
//                              logits at that width and the scores of the
//                              gate head that reads it: the next window's
//                              width on a stream (an extension too)
//   init_state(width_index), step(frame, state), step_and_gate(frame, state)
//                              a causal model's stream (ModelOptions::causal):
//                              one frame [N, C, H, W] in, the logits (and
//                              gate scores) of the window ending on it out,
//                              with the state the next step takes
//
// Inputs are checked against [N, channels, frames, height, width]; a wrong
// shape or width raises an error that says what is valid.
#pragma once

#include <vector>

#include <torch/script.h>

#include "models/slimmable_net.h"
#include "models/width_gate.h"

namespace adaptive {

// The clip the exported methods take, [N, channels, frames, height, width]:
// the training clip's (the exporter fills it from the config).
struct ScriptInputShape {
  int64_t channels = 3, frames = 0, height = 0, width = 0;
};

// A batch runs through a width's convolutions in chunks of clips whose input
// is at most this size (at least one clip), so that no activation reaches
// the size (32 MiB) above which glibc's malloc hands freed memory back to the
// system: a tensor that large is page-faulted in again on every call, which
// on a batch of 8 Jester-sized clips made the narrowest width 1.5-1.8x
// slower than the same calls with freed memory kept (docs/benchmarks.md).
// The activations of the backbones in configs/ stay within about 3x their
// input (the stem: base channels at a quarter of the pixels).
constexpr int64_t kChunkInputBytes = int64_t{4} << 20;
// Clips per chunk for this input: kChunkInputBytes over one float clip's bytes.
int64_t clips_per_chunk(const ScriptInputShape& input);

// Throws std::invalid_argument unless `width_indices` ascend within the
// model's `model_widths` widths and, when `gated`, hold every width (the gate
// scores them all). Every lowering checks its widths with it.
void check_export_widths(int model_widths, const std::vector<int>& width_indices, bool gated);

// `width_indices`: indices into model.widths() to export, ascending (empty:
// all). `gate`: a head per width of the model; it needs every width
// exported (throws std::invalid_argument otherwise). `default_index`: index
// into the exported widths that forward() uses after loading (-1: widest).
// The model must be on the CPU; it is not modified (lowering reads weights).
torch::jit::Module lower_to_torchscript(const SlimmableNet& model, const WidthGateImpl* gate,
                                        std::vector<int> width_indices, ScriptInputShape input,
                                        int default_index = -1);

}  // namespace adaptive
