// Inference over a manifest of labelled clips (path,label CSV) with the
// protocol `adaptive-train evaluate` uses, so both give one answer for the
// same model and split: each clip (its row's start_frame..end_frame when
// given) is decoded, and the evaluation clips the model's config takes of
// a video (data.eval_clips of them, spread evenly; data.frames at its
// data.frame_stride or data.target_fps) are preprocessed as the file's
// input says. Each runs as a window through the policy, the clip's windows
// a run of their own; the clip's label is the argmax of the mean of their
// calibrated logits. At a fixed width that is evaluate's answer.
// One JSON line per clip, then a summary with clip accuracy and compute
// (docs/inference-output.md).
#pragma once

#include <ostream>
#include <string>

#include "datasets/dataset_index.h"
#include "datasets/video_clip_dataset.h"
#include "infer/engine.h"

namespace adaptive {

struct ManifestOptions {
  // > 1: throughput mode, the fixed policy only (std::invalid_argument
  // otherwise), at InferOptions::throttle.fixed_index (-1: the widest), the
  // windows of consecutive clips stacked `batch` at a time into one forward
  // pass. Its clip lines have the same fields; the summary adds `batch` and
  // `width`.
  int batch = 1;
  int clips = 0;           // evaluation clips per video; 0: the model's data.eval_clips (else 1)
  double folder_fps = 12;  // frame folders' rate
  ManifestRules rules;
};

// How `adaptive-train evaluate` takes the clips of a video for `model`: its
// config's sampler keys where the file carries the config (else clips at
// the file's input rate), its input's resize, crop and normalisation.
VideoClipDatasetOptions evaluation_clip_options(const ArtifactMetadata& meta, double folder_fps);
// The model's data.eval_clips (1 when its file does not say).
int evaluation_clips(const ArtifactMetadata& meta);

// Writes the lines to `out`. A clip that cannot be decoded is skipped with a
// warning on stderr and counted in the summary's `skipped`. Throws DataError
// for a manifest that cannot be read. Every summary has `clips_per_s`
// (clips over the wall time of the run).
void run_manifest(const ModelArtifact& model, const std::string& manifest,
                  const InferOptions& options, const ManifestOptions& manifest_options,
                  std::ostream& out);

}  // namespace adaptive
