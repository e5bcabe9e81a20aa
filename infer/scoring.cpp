#include "infer/scoring.h"

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
  for (const auto& w : windows) {
    bool idle = true;
    for (const auto& seg : truth) {
      if (seg.label != idle_label && w.start_s < seg.end_s && w.end_s > seg.start_s) idle = false;
    }
    if (!idle) continue;
    ++s.idle_windows;
    if (w.label != idle_label) ++s.false_alarms;
  }
  s.segment_accuracy = s.segments ? static_cast<double>(s.segments_correct) / s.segments : 0;
  s.false_alarm_rate = s.idle_windows ? static_cast<double>(s.false_alarms) / s.idle_windows : 0;
  s.mean_delay_s = delays ? delay_sum / delays : 0;
  return s;
}

}  // namespace adaptive
