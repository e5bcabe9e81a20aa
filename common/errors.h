// The error types every layer and tool shares. Tools map them to exit codes
// in one place (common/cli.h, run_tool): usage and config errors exit 2,
// everything else 1.
#pragma once

#include <stdexcept>

namespace adaptive {

// A bad command line: a missing or conflicting option, a value out of range.
class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A usage or configuration error: bad JSON, unknown key, wrong type, value out
// of range, malformed --set.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace adaptive
