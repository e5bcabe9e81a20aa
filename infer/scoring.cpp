#include "infer/scoring.h"

#include <algorithm>
#include <limits>
#include <map>

namespace adaptive {

TruthScore score_timeline(const std::vector<TimedPrediction>& windows,
                          const std::vector<TimelineSegment>& truth,
                          const std::string& idle_label) {
  TruthScore s;
  double delay_sum = 0;
  int delays = 0;
  for (const auto& seg : truth) {
    if (seg.label == idle_label) continue;
    ++s.segments;
    std::map<std::string, int> votes;
    double first_correct_end = -1;
    for (const auto& w : windows) {
      const double centre = (w.start_s + w.end_s) / 2;
      if (centre < seg.start_s || centre >= seg.end_s) continue;
      if (w.label != idle_label) ++votes[w.label];
      if (w.label == seg.label && first_correct_end < 0) first_correct_end = w.end_s;
    }
    std::string best;
    int best_votes = 0;
    for (const auto& [label, n] : votes)
      if (n > best_votes || (n == best_votes && label == seg.label)) best = label, best_votes = n;
    if (best == seg.label) ++s.segments_correct;
    if (first_correct_end >= 0) {
      delay_sum += std::max(0.0, first_correct_end - seg.start_s);
      ++delays;
    } else {
      ++s.missed;
    }
  }
  std::vector<const TimedPrediction*> idle_windows;
  for (const auto& w : windows) {
    bool idle = true;
    for (const auto& seg : truth) {
      if (seg.label != idle_label && w.start_s < seg.end_s && w.end_s > seg.start_s) idle = false;
    }
    if (!idle) continue;
    idle_windows.push_back(&w);
    ++s.idle_windows;
    if (w.label == idle_label) continue;
    ++s.false_alarms;
    for (const auto& seg : truth) {
      if (seg.label != idle_label && w.start_s >= seg.end_s &&
          w.start_s - seg.end_s < w.end_s - w.start_s) {
        ++s.false_alarms_after_gesture;
        break;
      }
    }
  }
  // Release: the idle windows between each gesture's end and the next one's start.
  double release_sum = 0;
  int releases = 0;
  for (const auto& seg : truth) {
    if (seg.label == idle_label) continue;
    double next_start = std::numeric_limits<double>::infinity();
    for (const auto& other : truth)
      if (other.label != idle_label && other.start_s >= seg.end_s)
        next_start = std::min(next_start, other.start_s);
    double first = next_start, released = next_start, last_end = -1;
    for (const TimedPrediction* w : idle_windows) {
      if (w->start_s < seg.end_s || w->start_s >= next_start) continue;
      first = std::min(first, w->start_s);
      last_end = std::max(last_end, w->end_s);
      if (w->label == idle_label) released = std::min(released, w->start_s);
    }
    if (last_end < 0) continue;  // no idle window after it
    if (released == std::numeric_limits<double>::infinity()) released = last_end;
    release_sum += released - first;
    ++releases;
  }
  s.segment_accuracy = s.segments ? static_cast<double>(s.segments_correct) / s.segments : 0;
  s.false_alarm_rate = s.idle_windows ? static_cast<double>(s.false_alarms) / s.idle_windows : 0;
  s.mean_delay_s = delays ? delay_sum / delays : 0;
  s.mean_release_s = releases ? release_sum / releases : 0;
  s.releases = releases;
  return s;
}

}  // namespace adaptive
