// adaptive-infer's results as text (docs/inference-output.md): CSV and
// human-readable lines per window and for the summary (the JSON lines are
// infer/engine.h's window_json and summary_json), and where they go.
#pragma once

#include <ostream>
#include <sstream>
#include <string>

#include "infer/engine.h"

namespace adaptive {

std::string csv_header();
std::string csv_line(const WindowResult& r);
std::string text_line(const WindowResult& r);
std::string text_summary(const RunSummary& s);

// Where results go: stdout, or a file written atomically by commit() (so a
// failed run leaves no half-written file).
class ResultOutput {
 public:
  explicit ResultOutput(std::string path) : path_(std::move(path)) {}
  std::ostream& stream();
  void commit();

 private:
  std::string path_;
  std::ostringstream buffer_;
};

}  // namespace adaptive
