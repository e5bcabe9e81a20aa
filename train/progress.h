// Training progress on stderr: a live bar on a terminal (epoch, step, loss,
// clips/s, ETA), plain periodic lines otherwise (logs, CI).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/clock.h"

namespace adaptive {

class ProgressReporter {
 public:
  // `every`: steps between plain lines when stderr is not a terminal.
  ProgressReporter(int64_t epochs, int64_t steps_per_epoch, int every, bool enabled = true);

  // After each step: position, smoothed loss, throughput, learning rate.
  void step(int64_t epoch, int64_t step_in_epoch, double loss, double clips_per_s, double lr);
  // A message on its own line (ends the bar's line first).
  void message(const std::string& text);
  void end_epoch();

 private:
  int64_t epochs_, steps_per_epoch_;
  int every_;
  bool enabled_, tty_;
  bool bar_open_ = false;
  Clock::time_point start_;
  int64_t steps_done_ = 0;
};

}  // namespace adaptive
