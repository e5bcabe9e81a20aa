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
  // Of the false alarms, those whose window starts less than its own length
  // after a gesture ends: a label outliving its gesture.
  int false_alarms_after_gesture = 0;
  double mean_delay_s = 0;  // segment start to the end of its first correct window
  int missed = 0;           // gesture segments no window centred in them got right
  // How long a gesture's label outlives it, averaged over the gestures
  // followed by an idle window: from the start of the first idle window after
  // the gesture to the start of the first of them that predicted the idle
  // label (0: released at once). Where none did, to the end of the idle
  // stretch (the next gesture's start, or the last of those windows' end).
  double mean_release_s = 0;
  int releases = 0;  // the gestures mean_release_s averages over
};

TruthScore score_timeline(const std::vector<TimedPrediction>& windows,
                          const std::vector<TimelineSegment>& truth, const std::string& idle_label);

}  // namespace adaptive
