// Typed configuration: every key is declared once, with its type, default,
// range and help, in the spirit of xgboost's DMLC_DECLARE_FIELD. A config is a
// plain struct whose default member initialisers are the defaults and whose
// `visit` declares each field by its dot-separated JSON path:
//
//   struct TrainConfig {
//     int epochs = 30;
//     std::string optimizer = "sgd";
//     ModelOptions model;  // a library's options struct, with a visit() of its own
//     void visit(ConfigVisitor& v) {
//       v.field("train.epochs", epochs, 1, 100000, "epochs to train");
//       v.choice("train.optimizer", optimizer, {"sgd", "adamw"}, "optimizer");
//       v.group("model", model);  // its keys under "model."
//     }
//   };
//
// The same declaration reads JSON (config_from_json), writes the resolved
// config (config_to_json) and documents it (describe_config). Error messages
// start with the JSON path of the offending key and say what was expected and
// what was found; callers that read a file prefix its name.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/enum_names.h"
#include "common/errors.h"

namespace adaptive {

// One declared field: what visit() said about it (type, range, help) and
// access to the member it names, as xgboost's FieldEntry does. Reading,
// writing and describing a config are each one loop over these. `get` gives
// the member's value as JSON; `set` stores a value that passed the checks of
// `type` and the range.
struct ConfigField {
  enum class Type { kInteger, kUnsigned, kNumber, kBool, kString, kChoice };
  std::string path;  // dot-separated JSON path, "train.epochs"
  Type type = Type::kString;
  bool list = false;  // an array of min_size to max_size values of `type`
  size_t min_size = 0, max_size = 0;
  int64_t min_integer = 0, max_integer = 0;  // kInteger, inclusive
  double min_number = 0, max_number = 0;     // kNumber, inclusive
  std::vector<std::string> choices;          // kChoice
  const char* help = "";
  std::function<nlohmann::json()> get;
  std::function<void(const nlohmann::json&)> set;
};

// Receives each field of a config once and records it. `path` is the
// dot-separated JSON path ("train.epochs": key "epochs" inside object
// "train"); ranges are inclusive; vector sizes are counted in elements; `help`
// is one short phrase. Declaring a path twice is a bug in the config struct:
// it throws std::logic_error.
class ConfigVisitor {
 public:
  // `on_field`, when given, sees each field as it is declared, before visit()
  // goes on: a visit() may derive a member from one read just above it.
  explicit ConfigVisitor(std::function<void(const ConfigField&)> on_field = nullptr)
      : on_field_(std::move(on_field)) {}

  void field(const std::string& path, int& value, int lo, int hi, const char* help);
  void field(const std::string& path, int64_t& value, int64_t lo, int64_t hi, const char* help);
  void field(const std::string& path, uint64_t& value, const char* help);
  void field(const std::string& path, double& value, double lo, double hi, const char* help);
  void field(const std::string& path, bool& value, const char* help);
  void field(const std::string& path, std::string& value, const char* help);
  void field(const std::string& path, std::vector<double>& value, double lo, double hi,
             size_t min_size, size_t max_size, const char* help);
  void field(const std::string& path, std::vector<int>& value, int lo, int hi, size_t min_size,
             size_t max_size, const char* help);
  // A string that must be one of `choices`.
  void choice(const std::string& path, std::string& value, const std::vector<std::string>& choices,
              const char* help);

  // An enum, read and written by its names.
  template <class Enum>
  void choice(const std::string& path, Enum& value, const NameTable<Enum>& names,
              const char* help) {
    ConfigField f;
    f.get = [&value, names] { return nlohmann::json(names.name(value)); };
    f.set = [&value, names](const nlohmann::json& name) {
      value = names.parse(name.get<std::string>());
    };
    add_choice(path, std::move(f), names.names(), help);
  }

  // The fields of `options`, whose visit(ConfigVisitor&) declares paths
  // relative to `prefix` ("widths" becomes "model.widths").
  template <class Options>
  void group(const std::string& prefix, Options& options) {
    const std::string outer = prefix_;
    prefix_ += prefix + ".";
    options.visit(*this);
    prefix_ = outer;
  }

  // Every field declared so far, in declaration order.
  const std::vector<ConfigField>& fields() const { return fields_; }

 private:
  void add(const std::string& path, ConfigField f, const char* help);
  void add_choice(const std::string& path, ConfigField f, std::vector<std::string> choices,
                  const char* help);

  std::function<void(const ConfigField&)> on_field_;
  std::string prefix_;  // of the group() being visited, with its '.'
  std::vector<ConfigField> fields_;
};

namespace internal {
// The non-template core of the functions below; call those instead.
// `declare` runs a config's visit() on the visitor it is given.
using DeclareFields = std::function<void(ConfigVisitor&)>;
void read_config(const nlohmann::json& j, const DeclareFields& declare);
nlohmann::json write_config(const DeclareFields& declare);
std::string describe_fields(const DeclareFields& declare);
}  // namespace internal

// Sets the fields of `c` that `j` holds and leaves the others as they are (the
// defaults, for a fresh Config). Integers may be written as 3.0 but not 2.5.
// Then rejects every key of `j` that no field declares, suggesting the nearest
// declared path. `j` must be an object (null counts as empty). Throws
// ConfigError on the first problem, for example:
//   train.epoch: unknown key, did you mean train.epochs?
//   train.foo: unknown key (known keys under train: epochs, lr, optimizer)
//   train.epochs: expected an integer, got string "ten"
//   train.lr: expected a number in [0, 10], got 11
//   model.widths[2]: expected a number in [0.01, 1], got 1.5
//   model.widths: expected 1 to 16 values, got 0
//   train.optimizer: expected one of sgd, adamw, got "adam"
//   train: expected an object, got number 3
template <class Config>
void config_from_json(const nlohmann::json& j, Config& c) {
  internal::read_config(j, [&c](ConfigVisitor& v) { c.visit(v); });
}

// The resolved config: every declared field, in nested objects. Reading `j`
// into a fresh Config and writing it back gives `j` with the defaults filled.
template <class Config>
nlohmann::json config_to_json(const Config& c) {
  Config copy = c;  // visit() takes the fields by non-const reference
  return internal::write_config([&copy](ConfigVisitor& v) { copy.visit(v); });
}

// One line per field of a default Config, for --help text:
//   train.epochs     epochs to train (an integer in [1, 100000], default 30)
template <class Config>
std::string describe_config() {
  Config c;
  return internal::describe_fields([&c](ConfigVisitor& v) { c.visit(v); });
}

// Parses a JSON file; // and /* */ comments are allowed. Throws ConfigError
//   PATH: cannot open config file
//   PATH:LINE:COLUMN: invalid JSON: <what the parser expected>
// with LINE and COLUMN 1-based, COLUMN counted in bytes.
nlohmann::json read_json_file(const std::string& path);

// Applies one `--set key.path=value` to `j`, creating intermediate objects.
// The value is parsed as JSON when it parses (5, 2.5, true, [0.25,1.0], "x",
// null) and is otherwise taken as a plain string (sgd, data/synth). Throws
// ConfigError on a missing '=' or an empty key segment
//   --set 'x': expected key.path=value
// and when a parent on the path holds something other than an object. Unknown
// keys are left for config_from_json to report.
void apply_override(nlohmann::json& j, const std::string& assignment);

}  // namespace adaptive
