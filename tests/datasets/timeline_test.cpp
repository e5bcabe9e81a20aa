#include "datasets/timeline.h"

#include <catch2/catch.hpp>

#include "datasets/errors.h"
#include "test_support.h"

using namespace adaptive;
using adaptive::test::TempDir;

TEST_CASE("timelines are read and checked segment by segment", "[datasets][timeline]") {
  TempDir dir;
  const std::string path = dir.str("t.json");
  test::write_file(path, R"([{"label": "no_gesture", "start_s": 0, "end_s": 1.5, "difficulty": 0.2},
                            {"label": "push", "start_s": 1.5, "end_s": 2.25}])");
  const auto t = read_timeline(path);
  REQUIRE(t.size() == 2);
  CHECK(t[1].label == "push");
  CHECK(t[1].start_s == 1.5);
  CHECK(t[1].end_s == 2.25);

  auto error_for = [&](const std::string& text) {
    test::write_file(path, text);
    try {
      read_timeline(path);
    } catch (const DataError& e) {
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  CHECK(error_for(R"({"label": "x"})") == path + ": expected a JSON array of segments");
  CHECK(error_for(R"([{"label": "x", "start_s": 0}])") == path + ": [0].end_s: expected a number");
  CHECK(error_for(R"([{"label": 3, "start_s": 0, "end_s": 1}])") ==
        path + ": [0].label: expected a string");
  CHECK(error_for(R"([{"label": "a", "start_s": 2, "end_s": 1}])") ==
        path + ": [0]: expected 0 <= start_s < end_s, got 2.000000, 1.000000");
  CHECK(
      error_for(
          R"([{"label": "a", "start_s": 0, "end_s": 2}, {"label": "b", "start_s": 1, "end_s": 3}])") ==
      path + ": [1]: starts at 1.000000 s, before the previous segment ends (2.000000 s)");
  CHECK_THAT(error_for("[{"), Catch::StartsWith(path + ": not valid JSON: "));
}
