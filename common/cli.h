// What every command-line tool shares: one error-to-exit-code map and one
// subcommand table. A tool's main is then: parse options (cxxopts, in the
// main), call the library, print.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/errors.h"

namespace adaptive {

// Runs a tool's body and turns what it throws into one line on stderr and an
// exit code:
//   2  UsageError, std::invalid_argument, a malformed option: "TOOL: what"
//      ConfigError: "TOOL: config error: what"
//   1  any other exception: "TOOL: CONTEXTerror: what" (LibTorch errors: the
//      first line, without the C++ backtrace)
// `context` (e.g. "rank 1: " in a distributed run) is read when an error is
// printed, so the body may set it once it knows.
int run_tool(const std::string& tool, const std::function<int()>& body,
             const std::string* context = nullptr);

struct Subcommand {
  std::string name;                               // as typed: "export"
  std::string summary;                            // one line for the usage list
  std::function<int(int argc, char** argv)> run;  // argv[0] is the command's name
  const std::string* error_context = nullptr;     // see run_tool
};

// `TOOL COMMAND [options]`: runs the named command under run_tool("TOOL
// COMMAND", ...). With no command, the usage list on stderr (exit 2); with
// -h or --help, on stdout (exit 0); an unknown command is named with the
// known ones (exit 2). When `default_command` is set, arguments that start
// with an option ("-...") run that command (adaptive-train --config ...).
int run_subcommands(const std::string& tool, int argc, char** argv,
                    const std::vector<Subcommand>& commands,
                    const std::string& default_command = "");

}  // namespace adaptive
