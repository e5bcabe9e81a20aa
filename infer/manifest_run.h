// Inference over a manifest of labelled clips (path,label CSV): each clip,
// its row's start_frame..end_frame when given (the frames training reads),
// runs as a video of its own; its label is its most confident window's.
// One JSON line per clip, then a summary with clip accuracy and compute
// (docs/inference-output.md).
#pragma once

#include <ostream>
#include <string>

#include "datasets/dataset_index.h"
#include "infer/engine.h"

namespace adaptive {

// Writes the lines to `out`. A clip that cannot be decoded is skipped with a
// warning on stderr and counted in the summary's `skipped`. Throws DataError
// for a manifest that cannot be read.
//
// batch > 1 is throughput mode: the fixed policy only (std::invalid_argument
// otherwise), at options.throttle.fixed_index (-1: the widest), windows of
// consecutive clips stacked `batch` at a time into one forward pass. Its
// clip lines have the same fields; the summary adds `batch` and `width`.
// Every summary has `clips_per_s` (clips over the wall time of the run).
void run_manifest(const ModelArtifact& model, const std::string& manifest,
                  const InferOptions& options, const ManifestRules& rules, std::ostream& out,
                  int batch = 1);

}  // namespace adaptive
