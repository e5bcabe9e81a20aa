// Scoring an inference run against a ground-truth timeline (the synthetic
// stream videos come with one, datasets/timeline.h).
#pragma once

#include <string>
#include <vector>

#include "datasets/timeline.h"

namespace adaptive {

// One window's prediction in video time.
struct TimedPrediction {
  double start_s = 0, end_s = 0;
  std::string label;
};

struct TruthScore {
  int segments = 0;          // gesture segments (not the idle label)
  int segments_correct = 0;  // the most frequent non-idle label of the windows centred in it
  double segment_accuracy = 0;
  int idle_windows = 0;  // windows lying wholly in idle stretches
  int false_alarms = 0;  // of those, the ones that predicted a gesture
  double false_alarm_rate = 0;
  double mean_delay_s = 0;  // segment start to the end of its first correct window
  int missed = 0;           // gesture segments no window centred in them got right
};

TruthScore score_timeline(const std::vector<TimedPrediction>& windows,
                          const std::vector<TimelineSegment>& truth, const std::string& idle_label);

}  // namespace adaptive
