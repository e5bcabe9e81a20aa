// adaptive-infer's results as text (docs/inference-output.md): CSV and
// human-readable lines per window and for the summary (the JSON lines are
// infer/engine.h's window_json and summary_json), and where they go.
#pragma once

#include <fstream>
#include <ostream>
#include <sstream>
#include <string>

#include "infer/engine.h"

namespace adaptive {

std::string csv_header();
std::string csv_line(const WindowResult& r);
std::string text_line(const WindowResult& r);
std::string text_summary(const RunSummary& s);

// Where results go: stdout ("" or "-"), flushed line by line; or a file.
// A file is written atomically by commit(), so a failed run leaves no
// half-written file; with `follow` (a live run) it is instead created at
// the first line and flushed line by line, so another program can follow it
// (every line in it is whole).
class ResultOutput {
 public:
  explicit ResultOutput(std::string path, bool follow = false);
  void write_line(const std::string& line);
  std::ostream& stream();  // for a writer of many lines (no flush per line)
  void commit();

 private:
  std::string path_;
  bool follow_ = false;
  std::ostringstream buffer_;
  std::ofstream file_;
};

}  // namespace adaptive
