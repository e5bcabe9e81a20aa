#include "infer/result_format.h"

#include <cstdio>
#include <iostream>
#include <stdexcept>

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
                decision_names().name(r.decision).c_str());
  return line;
}

std::string text_line(const WindowResult& r) {
  char line[256];
  std::snprintf(line, sizeof line, "%7.2f-%7.2f s  width %-5g %-12s %5.1f%%  %7.1f MFLOPs  %s",
                r.start_s, r.end_s, r.width, r.label.c_str(), 100 * r.confidence, r.mflops,
                decision_names().name(r.decision).c_str());
  return line;
}

std::string text_summary(const RunSummary& s) {
  char buf[1024];
  std::snprintf(
      buf, sizeof buf,
      "%lld frames (%.1f s), %lld windows, %s: mean width %.2f, %.2f GFLOPs of %.2f at "
      "full width (%.0f%% saved), %.0f frames/s, latency p50 %.2f ms p95 %.2f ms",
      static_cast<long long>(s.frames), s.duration_s, static_cast<long long>(s.windows),
      s.streaming ? (s.stream_exact ? "streamed (exactly as windowed)" : "streamed") : "windowed",
      s.mean_width, s.gflops, s.gflops_full_width, 100 * s.compute_saving, s.fps, s.latency_ms.p50,
      s.latency_ms.p95);
  std::string out = buf;
  const DeviceCost& c = s.cost;
  std::snprintf(buf, sizeof buf,
                "\ndevice: CPU %.2f s (%.3f s per second of video; decode %.2f, preprocess %.2f, "
                "model %.2f, output %.2f, other %.2f) after %.2f s to start; model time %.2f s "
                "of %.2f s at full width (%.0f%% saved); %s",
                c.cpu_s, c.cpu_per_video_s, c.decode_cpu_s, c.preprocess_cpu_s, c.model_cpu_s,
                c.output_cpu_s, c.other_cpu_s, c.startup_cpu_s, c.model_s, c.full_width_model_s,
                100 * c.time_saving,
                c.energy_j >= 0 ? ("energy " + std::to_string(c.energy_j) + " J").c_str()
                                : "no energy counter: CPU time is the proxy");
  out += buf;
  if (s.live) {
    const LiveSummary& l = *s.live;
    std::snprintf(buf, sizeof buf,
                  "\nlive: delay from last frame to decision p50 %.1f ms p95 %.1f ms max %.1f ms; "
                  "%lld of %lld windows missed the %.0f ms deadline; %lld frames dropped; %lld "
                  "reconnects",
                  l.delay_ms.p50, l.delay_ms.p95, l.delay_ms.max,
                  static_cast<long long>(l.missed_deadlines), static_cast<long long>(s.windows),
                  l.deadline_ms, static_cast<long long>(l.dropped_frames),
                  static_cast<long long>(l.reconnects));
    out += buf;
  }
  if (s.stopped) out += "\nstopped by a signal before the input ended";
  if (s.truth) {
    std::snprintf(buf, sizeof buf,
                  "\ntruth: segment accuracy %.1f%% (%d/%d), false alarms %d of %d idle windows "
                  "(%d right after a gesture), mean detection delay %.2f s, mean release %.2f s",
                  100 * s.truth->segment_accuracy, s.truth->segments_correct, s.truth->segments,
                  s.truth->false_alarms, s.truth->idle_windows, s.truth->false_alarms_after_gesture,
                  s.truth->mean_delay_s, s.truth->mean_release_s);
    out += buf;
  }
  return out;
}

ResultOutput::ResultOutput(std::string path, bool follow)
    : path_(path == "-" ? "" : std::move(path)), follow_(follow) {}

void ResultOutput::write_line(const std::string& line) {
  if (path_.empty()) {
    std::cout << line << '\n' << std::flush;
  } else if (follow_) {
    if (!file_.is_open()) {
      file_.open(path_, std::ios::binary | std::ios::trunc);
      if (!file_) throw std::runtime_error(path_ + ": cannot write the results");
    }
    file_ << line << '\n' << std::flush;
    if (!file_) throw std::runtime_error(path_ + ": writing the results failed");
  } else {
    buffer_ << line << '\n';
  }
}

std::ostream& ResultOutput::stream() {
  return path_.empty() ? std::cout : buffer_;
}

void ResultOutput::commit() {
  if (path_.empty()) {
    std::cout.flush();
  } else if (follow_) {
    if (file_.is_open()) file_.close();
  } else {
    write_file_atomically(path_, buffer_.str());
  }
}

}  // namespace adaptive
