#include "datasets/timeline.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "datasets/errors.h"

namespace adaptive {

std::vector<TimelineSegment> read_timeline(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot open timeline");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw DataError(path + ": not valid JSON: " + e.what());
  }
  if (!doc.is_array()) throw DataError(path + ": expected a JSON array of segments");
  std::vector<TimelineSegment> segments;
  for (size_t i = 0; i < doc.size(); ++i) {
    const auto& j = doc[i];
    const std::string where = path + ": [" + std::to_string(i) + "]";
    if (!j.is_object()) throw DataError(where + ": expected an object {label, start_s, end_s}");
    if (!j.contains("label") || !j["label"].is_string())
      throw DataError(where + ".label: expected a string");
    for (const char* key : {"start_s", "end_s"}) {
      if (!j.contains(key) || !j[key].is_number())
        throw DataError(where + "." + key + ": expected a number");
    }
    TimelineSegment s{j["label"], j["start_s"], j["end_s"]};
    if (!(s.start_s >= 0 && s.end_s > s.start_s)) {
      throw DataError(where + ": expected 0 <= start_s < end_s, got " + std::to_string(s.start_s) +
                      ", " + std::to_string(s.end_s));
    }
    if (!segments.empty() && s.start_s < segments.back().end_s - 1e-9) {
      throw DataError(where + ": starts at " + std::to_string(s.start_s) +
                      " s, before the previous segment ends (" +
                      std::to_string(segments.back().end_s) + " s)");
    }
    segments.push_back(std::move(s));
  }
  return segments;
}

}  // namespace adaptive
