#include "infer/result_format.h"

#include <cstdio>
#include <iostream>

#include "common/atomic_file.h"

namespace adaptive {

std::string csv_header() {
  return "index,start_frame,end_frame,start_s,end_s,width,width_index,label,label_index,"
         "confidence,mflops,latency_ms,decision";
}

std::string csv_line(const WindowResult& r) {
  char line[512];
  std::snprintf(line, sizeof line, "%lld,%lld,%lld,%.3f,%.3f,%g,%d,%s,%d,%.4f,%.2f,%.3f,%s",
                static_cast<long long>(r.index), static_cast<long long>(r.start_frame),
                static_cast<long long>(r.end_frame), r.start_s, r.end_s, r.width, r.width_index,
                r.label.c_str(), r.label_index, r.confidence, r.mflops, r.latency_ms,
                r.decision.c_str());
  return line;
}

std::string text_line(const WindowResult& r) {
  char line[256];
  std::snprintf(line, sizeof line, "%7.2f-%7.2f s  width %-5g %-12s %5.1f%%  %7.1f MFLOPs  %s",
                r.start_s, r.end_s, r.width, r.label.c_str(), 100 * r.confidence, r.mflops,
                r.decision.c_str());
  return line;
}

std::string text_summary(const RunSummary& s) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "%lld frames (%.1f s), %lld windows: mean width %.2f, %.2f GFLOPs of %.2f at full "
                "width (%.0f%% saved), %.0f frames/s, latency p50 %.2f ms p95 %.2f ms",
                static_cast<long long>(s.frames), s.duration_s, static_cast<long long>(s.windows),
                s.mean_width, s.gflops, s.gflops_full_width, 100 * s.compute_saving, s.fps,
                s.latency_p50, s.latency_p95);
  std::string out = buf;
  if (s.truth) {
    std::snprintf(buf, sizeof buf,
                  "\ntruth: segment accuracy %.1f%% (%d/%d), false alarms %d of %d idle windows, "
                  "mean detection delay %.2f s",
                  100 * s.truth->segment_accuracy, s.truth->segments_correct, s.truth->segments,
                  s.truth->false_alarms, s.truth->idle_windows, s.truth->mean_delay_s);
    out += buf;
  }
  return out;
}

std::ostream& ResultOutput::stream() {
  return path_.empty() ? std::cout : buffer_;
}

void ResultOutput::commit() {
  if (!path_.empty()) write_file_atomically(path_, buffer_.str());
}

}  // namespace adaptive
