#include "common/config.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>

namespace adaptive {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw ConfigError(path + ": " + message);
}

// A value's JSON text, cut after 40 bytes (on a UTF-8 boundary) with "...".
std::string short_dump(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() <= 40) return s;
  size_t cut = 40;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "...";
}

// What a wrong value is: `string "ten"`, `number 2.5`, `null`.
std::string type_and_value(const json& v) {
  if (v.is_null()) return "null";
  return std::string(v.type_name()) + " " + short_dump(v);
}

[[noreturn]] void wrong_type(const std::string& path, const std::string& expected, const json& v) {
  fail(path, "expected " + expected + ", got " + type_and_value(v));
}

// Like printf's %g, with more digits when six do not give the value back.
std::string format_number(double x) {
  char buf[32];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  return buf;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

// The phrases shared by error messages and describe_config.
std::string integer_range(int64_t lo, int64_t hi) {
  return "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
}
std::string number_range(double lo, double hi) {
  return "a number in [" + format_number(lo) + ", " + format_number(hi) + "]";
}
std::string size_range(size_t min_size, size_t max_size) {
  if (min_size == max_size) return std::to_string(min_size);
  return std::to_string(min_size) + " to " + std::to_string(max_size);
}

// Integral: an integer, or a float with no fraction such as 3.0 (not 2.5).
bool is_integral(const json& v) {
  return v.is_number_integer() ||
         (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
}

// An integer in [lo, hi], compared exactly whatever JSON number type holds it.
int64_t read_integer(const std::string& path, const json& v, int64_t lo, int64_t hi) {
  if (!is_integral(v)) wrong_type(path, "an integer", v);
  constexpr double kTwo63 = 9223372036854775808.0;
  bool fits = true;
  int64_t x = 0;
  if (v.is_number_unsigned()) {
    fits = v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (fits) x = static_cast<int64_t>(v.get<uint64_t>());
  } else if (v.is_number_integer()) {
    x = v.get<int64_t>();
  } else {
    const double d = v.get<double>();
    fits = d >= -kTwo63 && d < kTwo63;
    if (fits) x = static_cast<int64_t>(d);
  }
  if (!fits || x < lo || x > hi) {
    fail(path, "expected " + integer_range(lo, hi) + ", got " + short_dump(v));
  }
  return x;
}

uint64_t read_unsigned(const std::string& path, const json& v) {
  if (!is_integral(v)) wrong_type(path, "an integer", v);
  constexpr double kTwo64 = 18446744073709551616.0;
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0)
    return static_cast<uint64_t>(v.get<int64_t>());
  if (v.is_number_float() && v.get<double>() >= 0 && v.get<double>() < kTwo64) {
    return static_cast<uint64_t>(v.get<double>());
  }
  fail(path, "expected a non-negative integer, got " + short_dump(v));
}

double read_number(const std::string& path, const json& v, double lo, double hi) {
  if (!v.is_number()) wrong_type(path, "a number", v);
  const double x = v.get<double>();
  if (!(x >= lo && x <= hi))
    fail(path, "expected " + number_range(lo, hi) + ", got " + format_number(x));
  return x;
}

// Checks that `v` is an array with an allowed number of elements.
void check_array(const std::string& path, const json& v, const char* of, size_t min_size,
                 size_t max_size) {
  if (!v.is_array()) wrong_type(path, std::string("an array of ") + of, v);
  if (v.size() < min_size || v.size() > max_size)
    fail(path,
         "expected " + size_range(min_size, max_size) + " values, got " + std::to_string(v.size()));
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
    }
  }
  return row[b.size()];
}

std::string parent_of(const std::string& path) {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(0, dot);
}

// Reads declared fields out of a JSON object, remembering which paths were
// declared so that the keys nobody declared can be rejected afterwards.
class JsonReader : public ConfigVisitor {
 public:
  explicit JsonReader(const json& root) : root_(root) {}

  void field(const std::string& path, int& value, int lo, int hi, const char*) override {
    if (const json* v = find(path)) value = static_cast<int>(read_integer(path, *v, lo, hi));
  }
  void field(const std::string& path, int64_t& value, int64_t lo, int64_t hi,
             const char*) override {
    if (const json* v = find(path)) value = read_integer(path, *v, lo, hi);
  }
  void field(const std::string& path, uint64_t& value, const char*) override {
    if (const json* v = find(path)) value = read_unsigned(path, *v);
  }
  void field(const std::string& path, double& value, double lo, double hi, const char*) override {
    if (const json* v = find(path)) value = read_number(path, *v, lo, hi);
  }
  void field(const std::string& path, bool& value, const char*) override {
    const json* v = find(path);
    if (!v) return;
    if (!v->is_boolean()) wrong_type(path, "true or false", *v);
    value = v->get<bool>();
  }
  void field(const std::string& path, std::string& value, const char*) override {
    const json* v = find(path);
    if (!v) return;
    if (!v->is_string()) wrong_type(path, "a string", *v);
    value = v->get<std::string>();
  }
  void field(const std::string& path, std::vector<double>& value, double lo, double hi,
             size_t min_size, size_t max_size, const char*) override {
    const json* v = find(path);
    if (!v) return;
    check_array(path, *v, "numbers", min_size, max_size);
    std::vector<double> out;
    for (size_t i = 0; i < v->size(); ++i)
      out.push_back(read_number(path + "[" + std::to_string(i) + "]", (*v)[i], lo, hi));
    value = std::move(out);
  }
  void field(const std::string& path, std::vector<int>& value, int lo, int hi, size_t min_size,
             size_t max_size, const char*) override {
    const json* v = find(path);
    if (!v) return;
    check_array(path, *v, "integers", min_size, max_size);
    std::vector<int> out;
    for (size_t i = 0; i < v->size(); ++i) {
      const std::string element = path + "[" + std::to_string(i) + "]";
      out.push_back(static_cast<int>(read_integer(element, (*v)[i], lo, hi)));
    }
    value = std::move(out);
  }
  void choice(const std::string& path, std::string& value, const std::vector<std::string>& choices,
              const char*) override {
    const json* v = find(path);
    if (!v) return;
    const std::string expected = "expected one of " + join(choices);
    if (!v->is_string()) fail(path, expected + ", got " + type_and_value(*v));
    if (std::find(choices.begin(), choices.end(), v->get<std::string>()) == choices.end())
      fail(path, expected + ", got " + short_dump(*v));
    value = v->get<std::string>();
  }

  // Throws ConfigError on the first key of `object` (at `prefix`) that no field declares.
  void reject_unknown_keys(const json& object, const std::string& prefix = "") const {
    for (const auto& [key, value] : object.items()) {
      const std::string path = prefix.empty() ? key : prefix + "." + key;
      if (fields_.count(path)) continue;
      if (!objects_.count(path)) fail(path, unknown_key_message(path, prefix));
      if (value.is_object()) reject_unknown_keys(value, path);
      // A declared object holding a non-object was reported by find().
    }
  }

 private:
  // The value at `path`, or null when it is absent. Throws when a parent on
  // the path is present but not an object.
  const json* find(const std::string& path) {
    declare(path);
    if (root_.is_null()) return nullptr;
    const json* node = &root_;
    size_t start = 0;
    for (size_t dot; (dot = path.find('.', start)) != std::string::npos; start = dot + 1) {
      const auto it = node->find(path.substr(start, dot - start));
      if (it == node->end()) return nullptr;
      if (!it->is_object()) {
        fail(path.substr(0, dot), "expected an object, got " + type_and_value(*it));
      }
      node = &*it;
    }
    const auto it = node->find(path.substr(start));
    return it == node->end() ? nullptr : &*it;
  }

  void declare(const std::string& path) {
    if (!fields_.insert(path).second) {
      throw std::logic_error("config field declared twice: " + path);
    }
    order_.push_back(path);
    for (std::string p = parent_of(path); !p.empty(); p = parent_of(p)) objects_.insert(p);
  }

  std::string unknown_key_message(const std::string& path, const std::string& parent) const {
    // The nearest declared path (field or object), first declared on a tie.
    std::vector<std::string> candidates;
    for (const std::string& f : order_) {
      for (std::string p = f; !p.empty(); p = parent_of(p)) candidates.push_back(p);
    }
    std::string nearest;
    size_t best = std::max<size_t>(2, path.size() / 3) + 1;
    for (const std::string& c : candidates) {
      const size_t d = edit_distance(path, c);
      if (d < best) {
        best = d;
        nearest = c;
      }
    }
    if (!nearest.empty()) return "unknown key, did you mean " + nearest + "?";

    // Otherwise the keys declared beside it.
    std::vector<std::string> siblings;
    for (const std::string& f : order_) {
      if (!parent.empty() && f.rfind(parent + ".", 0) != 0) continue;
      const std::string rest = parent.empty() ? f : f.substr(parent.size() + 1);
      const std::string name = rest.substr(0, rest.find('.'));
      if (std::find(siblings.begin(), siblings.end(), name) == siblings.end())
        siblings.push_back(name);
    }
    return "unknown key (known " + (parent.empty() ? "top-level keys" : "keys under " + parent) +
           ": " + join(siblings) + ")";
  }

  const json& root_;
  std::set<std::string> fields_;    // declared field paths
  std::vector<std::string> order_;  // the same, in declaration order
  std::set<std::string> objects_;   // declared object paths ("train" for "train.lr")
};

// Stores `value` at a dotted path, creating the objects on the way.
void set_path(json& root, const std::string& path, json value) {
  json* node = &root;
  size_t start = 0;
  for (size_t dot; (dot = path.find('.', start)) != std::string::npos; start = dot + 1)
    node = &(*node)[path.substr(start, dot - start)];
  (*node)[path.substr(start)] = std::move(value);
}

class JsonWriter : public ConfigVisitor {
 public:
  json result = json::object();

  void field(const std::string& path, int& value, int, int, const char*) override {
    set_path(result, path, value);
  }
  void field(const std::string& path, int64_t& value, int64_t, int64_t, const char*) override {
    set_path(result, path, value);
  }
  void field(const std::string& path, uint64_t& value, const char*) override {
    set_path(result, path, value);
  }
  void field(const std::string& path, double& value, double, double, const char*) override {
    set_path(result, path, value);
  }
  void field(const std::string& path, bool& value, const char*) override {
    set_path(result, path, value);
  }
  void field(const std::string& path, std::string& value, const char*) override {
    set_path(result, path, value);
  }
  void field(const std::string& path, std::vector<double>& value, double, double, size_t, size_t,
             const char*) override {
    set_path(result, path, value);
  }
  void field(const std::string& path, std::vector<int>& value, int, int, size_t, size_t,
             const char*) override {
    set_path(result, path, value);
  }
  void choice(const std::string& path, std::string& value, const std::vector<std::string>&,
              const char*) override {
    set_path(result, path, value);
  }
};

class Describer : public ConfigVisitor {
 public:
  void field(const std::string& path, int& value, int lo, int hi, const char* help) override {
    add(path, help, integer_range(lo, hi), value);
  }
  void field(const std::string& path, int64_t& value, int64_t lo, int64_t hi,
             const char* help) override {
    add(path, help, integer_range(lo, hi), value);
  }
  void field(const std::string& path, uint64_t& value, const char* help) override {
    add(path, help, "a non-negative integer", value);
  }
  void field(const std::string& path, double& value, double lo, double hi,
             const char* help) override {
    add(path, help, number_range(lo, hi), value);
  }
  void field(const std::string& path, bool& value, const char* help) override {
    add(path, help, "true or false", value);
  }
  void field(const std::string& path, std::string& value, const char* help) override {
    add(path, help, "a string", value);
  }
  void field(const std::string& path, std::vector<double>& value, double lo, double hi,
             size_t min_size, size_t max_size, const char* help) override {
    add(path, help, size_range(min_size, max_size) + " values, each " + number_range(lo, hi),
        value);
  }
  void field(const std::string& path, std::vector<int>& value, int lo, int hi, size_t min_size,
             size_t max_size, const char* help) override {
    add(path, help, size_range(min_size, max_size) + " values, each " + integer_range(lo, hi),
        value);
  }
  void choice(const std::string& path, std::string& value, const std::vector<std::string>& choices,
              const char* help) override {
    add(path, help, "one of " + join(choices), value);
  }

  std::string text() const {
    size_t width = 0;
    for (const auto& row : rows_) width = std::max(width, row.first.size());
    std::string out;
    for (const auto& [path, rest] : rows_)
      out += path + std::string(width - path.size() + 2, ' ') + rest + "\n";
    return out;
  }

 private:
  void add(const std::string& path, const char* help, const std::string& kind, const json& value) {
    rows_.emplace_back(path,
                       std::string(help) + " (" + kind + ", default " + short_dump(value) + ")");
  }

  std::vector<std::pair<std::string, std::string>> rows_;
};

}  // namespace

namespace internal {

void read_config(const json& j, const ConfigFields& fields) {
  if (!j.is_object() && !j.is_null())
    fail("top level", "expected an object, got " + type_and_value(j));
  JsonReader reader(j);
  fields(reader);
  if (j.is_object()) reader.reject_unknown_keys(j);
}

json write_config(const ConfigFields& fields) {
  JsonWriter writer;
  fields(writer);
  return writer.result;
}

std::string describe_fields(const ConfigFields& fields) {
  Describer describer;
  fields(describer);
  return describer.text();
}

}  // namespace internal

namespace {

// `text` with bytes outside printable ASCII written as \xNN, for messages
// that quote a file's bytes.
std::string printable(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c >= 0x20 && c < 0x7F) {
      out += c;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", static_cast<unsigned char>(c));
      out += hex;
    }
  }
  return out;
}

}  // namespace

json read_json_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError(path + ": is a folder, expected a JSON config file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open config file");
  std::string text;
  try {
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::exception& e) {
    throw ConfigError(path + ": cannot read config file: " + e.what());
  }
  // "PATH:LINE:COLUMN: invalid JSON: what" for the byte at `offset`.
  const auto invalid = [&](size_t offset, const std::string& what) {
    offset = std::min(offset, text.size());
    const std::string before = text.substr(0, offset);
    const size_t line = 1 + std::count(before.begin(), before.end(), '\n');
    const size_t newline = before.rfind('\n');
    const size_t column = newline == std::string::npos ? offset + 1 : offset - newline;
    return ConfigError(path + ":" + std::to_string(line) + ":" + std::to_string(column) +
                       ": invalid JSON: " + printable(what));
  };
  try {
    return json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    // e.byte is the 1-based offset of the offending byte (size + 1 at the end).
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 3, column 5: ".
    std::string message = e.what();
    const size_t colon = message.find(": ", message.find("parse error"));
    if (colon != std::string::npos) message = message.substr(colon + 2);
    throw invalid(e.byte > 0 ? e.byte - 1 : 0, message);
  } catch (const json::exception& e) {
    // A number beyond a double's range (406: "number overflow parsing '1e400'")
    // carries no position: point at the first occurrence of the number.
    std::string message = e.what();
    message = message.substr(message.find(']') + 1);
    if (!message.empty() && message[0] == ' ') message.erase(0, 1);
    const size_t quote = message.find('\'');
    const std::string token = quote == std::string::npos
                                  ? ""
                                  : message.substr(quote + 1, message.rfind('\'') - quote - 1);
    throw invalid(token.empty() ? 0 : text.find(token), message);
  }
}

void apply_override(json& j, const std::string& assignment) {
  try {
    (void)json(assignment).dump();  // nlohmann checks UTF-8 when it writes a string
  } catch (const json::type_error&) {
    throw ConfigError("--set '" + printable(assignment) + "': not valid UTF-8 text");
  }
  const size_t eq = assignment.find('=');
  const std::string key = assignment.substr(0, eq);
  const std::string context = "--set '" + assignment + "'";
  const bool empty_segment =
      key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos;
  if (eq == std::string::npos || empty_segment)
    throw ConfigError(context + ": expected key.path=value");

  json value = json::parse(assignment.substr(eq + 1), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = assignment.substr(eq + 1);

  json* node = &j;
  size_t start = 0;
  while (true) {
    if (!node->is_object() && !node->is_null()) {
      const std::string where = start == 0 ? "top level" : key.substr(0, start - 1);
      throw ConfigError(context + ": " + where + ": expected an object, got " +
                        type_and_value(*node));
    }
    const size_t dot = key.find('.', start);
    if (dot == std::string::npos) break;
    node = &(*node)[key.substr(start, dot - start)];
    start = dot + 1;
  }
  (*node)[key.substr(start)] = std::move(value);
}

}  // namespace adaptive
