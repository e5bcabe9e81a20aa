// Elapsed time on the monotonic clock, the one every timing in the project
// uses (wall time of steps, passes and runs; never the calendar clock).
#pragma once

#include <chrono>

namespace adaptive {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

inline double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace adaptive
