// One name table per enum: parsing, printing and the config's list of
// choices all read it, so a name is written once.
//
//   inline const NameTable<WidthMode>& width_mode_names() {
//     static const NameTable<WidthMode> t("width mode", {{WidthMode::kDiscrete, "discrete"},
//                                                        {WidthMode::kUniversal, "universal"}});
//     return t;
//   }
#pragma once

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace adaptive {

template <class Enum>
class NameTable {
 public:
  // `what` names the enum in errors ("unknown width mode 'x' (known: ...)").
  NameTable(std::string what, std::initializer_list<std::pair<Enum, std::string>> entries)
      : what_(std::move(what)), entries_(entries) {}

  // Throws std::invalid_argument: unknown <what> 'name' (known: a, b).
  Enum parse(const std::string& name) const {
    for (const auto& [value, n] : entries_)
      if (n == name) return value;
    std::string known;
    for (const auto& e : entries_) known += (known.empty() ? "" : ", ") + e.second;
    throw std::invalid_argument("unknown " + what_ + " '" + name + "' (known: " + known + ")");
  }

  const std::string& name(Enum value) const {
    for (const auto& e : entries_)
      if (e.first == value) return e.second;
    throw std::logic_error("no name for a value of " + what_);
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.second);
    return out;
  }

 private:
  std::string what_;
  std::vector<std::pair<Enum, std::string>> entries_;
};

}  // namespace adaptive
