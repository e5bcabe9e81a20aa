// One video, file or live, to the outputs adaptive-infer writes: a result
// line per window as it is decided (JSON lines, CSV or text:
// docs/inference-output.md), the annotated video, the score against a
// ground-truth timeline, progress on stderr, then the summary.
#pragma once

#include <string>

#include "common/enum_names.h"
#include "infer/engine.h"

namespace adaptive {

enum class ResultFormat { kJsonl, kCsv, kText };
const NameTable<ResultFormat>& result_format_names();  // "jsonl" | "csv" | "text"

struct VideoOutputs {
  ResultFormat format = ResultFormat::kJsonl;
  std::string output;                   // results file ("" or "-": stdout; infer/result_format.h)
  std::string overlay;                  // the annotated video (.avi; "": none)
  std::string truth;                    // a ground-truth timeline to score against ("": none)
  bool progress = true;                 // a line on stderr every 2 s
  std::string tool = "adaptive-infer";  // names the progress and warning lines
};

// Runs `input` and writes every output; warnings go to stderr. The summary
// is written (JSON or text to the results; CSV: text on stderr) before this
// returns, also when the run ended early (RunSummary::error) or was stopped.
// Throws as run_inference does, std::runtime_error for an input that ends
// before its first window (nothing is written then), and for an unreadable
// timeline or an unwritable output.
RunSummary run_video(const ModelArtifact& model, const std::string& input,
                     const InferOptions& options, const VideoOutputs& outputs);

}  // namespace adaptive
