// Inference over a manifest of labelled clips (path,label CSV): each clip
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
void run_manifest(const ModelArtifact& model, const std::string& manifest,
                  const InferOptions& options, const ManifestRules& rules, std::ostream& out);

}  // namespace adaptive
