// Lowering a trained slimmable network (and its gate) to one ONNX model
// holding every exported width: the artifact's second form beside
// TorchScript (docs/artifact.md, "ONNX"). The widths' graphs are written by
// the networks' own structure over OnnxBackend (models/onnx_backend.h).
//
// More than one width: the graph takes the clip and a width index and runs
// only that width's subgraph, under a chain of If nodes:
//
//   inputs   clip         float [N, C, T, H, W]
//            width_index  int64 scalar; one the file does not hold fails
//                         in the node "width_index_check" (a Gather over
//                         the valid indices), which the runtime's error names
//   outputs  logits       float [N, classes]
//            gate_scores  float [N, widths]: the gate head reading that
//                         width's pass (with a gate; head 0 reads the
//                         narrowest pass, the probe of a clip seen alone)
//
// One width: a plain graph of that width, the clip in, the same outputs: for
// runtimes that cannot run If (OpenCV's DNN module, 4.6).
//
// The model is checked before it is returned (ONNX's checker and strict shape
// inference, what onnx.checker.check_model(full_check=True) runs).
#pragma once

#include <string>
#include <vector>

#include "models/script_export.h"

namespace adaptive {

// `width_indices`: indices into model.widths(), ascending, not empty.
// `gate`: a head per width of the model (every width exported; throws
// std::invalid_argument otherwise). `metadata`: the text stored as the
// model's metadata_props "adaptive.json". Returns the serialised ModelProto.
// Throws std::logic_error when ONNX's checker refuses the graph.
std::string lower_to_onnx(const SlimmableNet& model, const WidthGateImpl* gate,
                          const std::vector<int>& width_indices, const ScriptInputShape& input,
                          const std::string& metadata);

}  // namespace adaptive
