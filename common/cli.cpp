#include "common/cli.h"

#include <iostream>

#include <c10/util/Exception.h>
#include <cxxopts.hpp>

namespace adaptive {

int run_tool(const std::string& tool, const std::function<int()>& body,
             const std::string* context) {
  const auto error = [&](const std::string& what) {
    std::cerr << tool << ": " << (context ? *context : "") << "error: " << what << "\n";
    return 1;
  };
  try {
    return body();
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << tool << ": " << e.what() << "\n";
  } catch (const ConfigError& e) {
    std::cerr << tool << ": config error: " << e.what() << "\n";
  } catch (const std::invalid_argument& e) {  // UsageError too
    std::cerr << tool << ": " << e.what() << "\n";
  } catch (const c10::Error& e) {  // e.g. a peer rank died or timed out
    const std::string what = e.what_without_backtrace();
    return error(what.substr(0, what.find('\n')));
  } catch (const std::exception& e) {
    return error(e.what());
  }
  return 2;
}

int run_subcommands(const std::string& tool, int argc, char** argv,
                    const std::vector<Subcommand>& commands, const std::string& default_command) {
  const auto usage = [&](std::ostream& out) {
    out << "usage: " << tool << " <command> [options]\n";
    for (const auto& c : commands)
      out << "  " << c.name << std::string(c.name.size() < 9 ? 9 - c.name.size() : 1, ' ')
          << c.summary << (c.name == default_command ? " (the default)" : "") << "\n";
    out << "Run '" << tool << " <command> --help' for a command's options.\n";
  };
  std::string name = argc > 1 ? argv[1] : "";
  const bool help = name == "-h" || name == "--help";
  int shift = 1;
  if (!default_command.empty() && !help && (name.empty() || name[0] == '-')) {
    name = default_command;
    shift = 0;  // the tool's own name stands in for the command's
  } else if (name.empty() || help) {
    usage(help ? std::cout : std::cerr);
    return help ? 0 : 2;
  }
  for (const auto& c : commands) {
    if (c.name != name) continue;
    return run_tool(
        tool + (shift ? " " + name : ""), [&] { return c.run(argc - shift, argv + shift); },
        c.error_context);
  }
  std::string known;
  for (const auto& c : commands) known += (known.empty() ? "" : ", ") + c.name;
  std::cerr << tool << ": unknown command '" << name << "' (known: " << known << ")\n";
  return 2;
}

}  // namespace adaptive
