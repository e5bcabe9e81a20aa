// Errors raised by the data pipeline. Every message names the file (and the
// line, for text formats) and says what was expected and what was found.
#pragma once

#include <stdexcept>
#include <string>

namespace adaptive {

// A dataset that cannot be used at all: missing root, empty dataset, malformed
// manifest line, unknown label, missing class folder. Always stops the run.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One video or frame folder that cannot be decoded (missing, unreadable,
// truncated, zero frames). The loader skips it with a warning or stops the run,
// as `on_bad_sample` says.
class BadSampleError : public DataError {
 public:
  BadSampleError(std::string path, std::string reason)
      : DataError(path + ": " + reason), path_(std::move(path)), reason_(std::move(reason)) {}
  const std::string& path() const { return path_; }
  const std::string& reason() const { return reason_; }  // what() without the path

 private:
  std::string path_, reason_;
};

}  // namespace adaptive
