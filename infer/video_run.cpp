#include "infer/video_run.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "common/clock.h"
#include "datasets/live_source.h"
#include "datasets/timeline.h"
#include "infer/overlay.h"
#include "infer/result_format.h"

namespace adaptive {

const NameTable<ResultFormat>& result_format_names() {
  static const NameTable<ResultFormat> names("format", {{ResultFormat::kJsonl, "jsonl"},
                                                        {ResultFormat::kCsv, "csv"},
                                                        {ResultFormat::kText, "text"}});
  return names;
}

RunSummary run_video(const ModelArtifact& model, const std::string& input,
                     const InferOptions& options, const VideoOutputs& outputs) {
  std::vector<TimelineSegment> truth;
  if (!outputs.truth.empty()) truth = read_timeline(outputs.truth);
  InferOptions o = options;
  o.reader.keep_frames = !outputs.overlay.empty();
  std::unique_ptr<OverlayWriter> overlay;
  // A live run's results can be followed as they come.
  ResultOutput out(outputs.output, opens_live(input, o.input));
  const ResultFormat format = outputs.format;
  bool header_written = false;
  std::vector<TimedPrediction> predictions;
  auto last_progress = Clock::now();
  const auto started = last_progress;
  RunSummary summary = run_inference(model, input, o, [&](const WindowResult& r, const Window& w) {
    switch (format) {
      case ResultFormat::kJsonl:
        out.write_line(window_json(r).dump());
        break;
      case ResultFormat::kCsv:
        if (!header_written) out.write_line(csv_header()), header_written = true;
        out.write_line(csv_line(r));
        break;
      case ResultFormat::kText:
        out.write_line(text_line(r));
        break;
    }
    predictions.push_back({r.start_s, r.end_s, r.label});
    if (o.reader.keep_frames) {
      if (!overlay) {
        const double source_fps = static_cast<double>(r.end_frame + 1) / r.end_s;
        overlay = std::make_unique<OverlayWriter>(outputs.overlay, source_fps,
                                                  model.metadata().width_values());
      }
      overlay->write(w.new_frames, r);
    }
    const auto now = Clock::now();
    if (outputs.progress && now - last_progress > std::chrono::seconds(2)) {
      std::fprintf(stderr, "%s: %.1f s of video, %lld windows, %.0f s\n", outputs.tool.c_str(),
                   r.end_s, static_cast<long long>(r.index + 1), seconds_since(started));
      last_progress = now;
    }
  });
  // An input that ends before its first window is as unreadable as a corrupt
  // file: an error, with no summary and no output written.
  if (!summary.error.empty() && summary.windows == 0)
    throw std::runtime_error(input + ": " + summary.error);
  if (!truth.empty()) summary.truth = score_timeline(predictions, truth, o.idle_label);
  if (!summary.warning.empty())
    std::cerr << outputs.tool << ": warning: " << summary.warning << "\n";
  switch (format) {
    case ResultFormat::kJsonl:
      out.write_line(summary_json(summary, model).dump());
      break;
    case ResultFormat::kText:
      out.write_line(text_summary(summary));
      break;
    case ResultFormat::kCsv:
      std::cerr << text_summary(summary) << "\n";
      break;
  }
  out.commit();
  if (overlay) overlay->finish();
  return summary;
}

}  // namespace adaptive
