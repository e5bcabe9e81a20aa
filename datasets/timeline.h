// Ground-truth timelines of stream videos: which gesture happens when.
// File format: a JSON array of {"label": str, "start_s": num, "end_s": num}
// (extra keys allowed), segments in time order and not overlapping.
#pragma once

#include <string>
#include <vector>

namespace adaptive {

struct TimelineSegment {
  std::string label;
  double start_s = 0;
  double end_s = 0;
};

// Reads and checks a timeline. Throws DataError naming the file and the
// segment ([index]) that is wrong: not JSON, not an array, missing or
// mistyped keys, end before start, segments out of order or overlapping.
std::vector<TimelineSegment> read_timeline(const std::string& path);

}  // namespace adaptive
