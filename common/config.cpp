#include "common/config.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <type_traits>

namespace adaptive {
namespace {

using nlohmann::json;
using FieldType = ConfigField::Type;

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

// The value at the dot-separated `path` below `root`, one object per segment:
// the one walk of reading, writing and --set. Reading (a const root) gives
// nullptr when a segment is absent, or when the root is null (an empty
// config). Writing creates what is absent, a null node becoming an object.
// A node on the way that holds anything else throws ConfigError
//   PARENT: expected an object, got number 3
// with PARENT its path ("top level" for the root).
template <class Json>
Json* walk(Json& root, const std::string& path) {
  constexpr bool kWrite = !std::is_const_v<Json>;
  Json* node = &root;
  for (size_t start = 0;;) {
    if (node->is_null()) {
      if constexpr (kWrite) {
        *node = json::object();
      } else if (node == &root) {
        return nullptr;
      }
    }
    if (!node->is_object()) {
      fail(start == 0 ? "top level" : path.substr(0, start - 1),
           "expected an object, got " + type_and_value(*node));
    }
    const size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? dot : dot - start);
    if constexpr (kWrite) {
      node = &(*node)[key];
    } else {
      const auto it = node->find(key);
      if (it == node->end()) return nullptr;
      node = &*it;
    }
    if (dot == std::string::npos) return node;
    start = dot + 1;
  }
}

// What a field of `type` holds, as describe_config and the errors say it.
std::string kind_of(const ConfigField& f) {
  switch (f.type) {
    case FieldType::kInteger:
      return integer_range(f.min_integer, f.max_integer);
    case FieldType::kUnsigned:
      return "a non-negative integer";
    case FieldType::kNumber:
      return number_range(f.min_number, f.max_number);
    case FieldType::kBool:
      return "true or false";
    case FieldType::kString:
      return "a string";
    case FieldType::kChoice:
      return "one of " + join(f.choices);
  }
  throw std::logic_error("unhandled config field type");
}

// `v` checked against one value of field `f` (an element, for a list), in
// the form `f.set` stores: integers as int64 or uint64, numbers as double.
json checked_value(const ConfigField& f, const std::string& path, const json& v) {
  switch (f.type) {
    case FieldType::kInteger:
      return read_integer(path, v, f.min_integer, f.max_integer);
    case FieldType::kUnsigned:
      return read_unsigned(path, v);
    case FieldType::kNumber:
      return read_number(path, v, f.min_number, f.max_number);
    case FieldType::kBool:
      if (!v.is_boolean()) wrong_type(path, kind_of(f), v);
      return v;
    case FieldType::kString:
      if (!v.is_string()) wrong_type(path, kind_of(f), v);
      return v;
    case FieldType::kChoice:
      if (!v.is_string()) wrong_type(path, kind_of(f), v);
      if (std::find(f.choices.begin(), f.choices.end(), v.get<std::string>()) == f.choices.end())
        fail(path, "expected " + kind_of(f) + ", got " + short_dump(v));
      return v;
  }
  throw std::logic_error("unhandled config field type");
}

// Reads field `f` from `root` when `root` holds it.
void read_field(const json& root, const ConfigField& f) {
  const json* v = walk(root, f.path);
  if (!v) return;
  if (!f.list) {
    f.set(checked_value(f, f.path, *v));
    return;
  }
  check_array(f.path, *v, f.type == FieldType::kInteger ? "integers" : "numbers", f.min_size,
              f.max_size);
  json values = json::array();
  for (size_t i = 0; i < v->size(); ++i)
    values.push_back(checked_value(f, f.path + "[" + std::to_string(i) + "]", (*v)[i]));
  f.set(values);
}

// Says why `path` (a key under `parent`) is unknown: the nearest declared
// path (field or object, the first declared on a tie), or else the keys
// declared beside it.
std::string unknown_key_message(const std::vector<ConfigField>& fields, const std::string& path,
                                const std::string& parent) {
  std::string nearest;
  size_t best = std::max<size_t>(2, path.size() / 3) + 1;
  for (const ConfigField& f : fields) {
    for (std::string p = f.path; !p.empty(); p = parent_of(p)) {
      const size_t d = edit_distance(path, p);
      if (d < best) {
        best = d;
        nearest = p;
      }
    }
  }
  if (!nearest.empty()) return "unknown key, did you mean " + nearest + "?";

  std::vector<std::string> siblings;
  for (const ConfigField& f : fields) {
    if (!parent.empty() && f.path.rfind(parent + ".", 0) != 0) continue;
    const std::string rest = parent.empty() ? f.path : f.path.substr(parent.size() + 1);
    const std::string name = rest.substr(0, rest.find('.'));
    if (std::find(siblings.begin(), siblings.end(), name) == siblings.end())
      siblings.push_back(name);
  }
  return "unknown key (known " + (parent.empty() ? "top-level keys" : "keys under " + parent) +
         ": " + join(siblings) + ")";
}

// Throws ConfigError on the first key of `object` (at `prefix`) that no
// field declares.
void reject_unknown_keys(const std::vector<ConfigField>& fields, const json& object,
                         const std::string& prefix = "") {
  for (const auto& [key, value] : object.items()) {
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    bool field = false, object_path = false;
    for (const ConfigField& f : fields) {
      field = field || f.path == path;
      object_path = object_path || f.path.rfind(path + ".", 0) == 0;
    }
    if (field) continue;
    if (!object_path) fail(path, unknown_key_message(fields, path, prefix));
    // A declared object holding a non-object was reported when reading.
    if (value.is_object()) reject_unknown_keys(fields, value, path);
  }
}

// A field bound to `value`, whose JSON form nlohmann converts both ways.
template <class T>
ConfigField bound(T& value, FieldType type) {
  ConfigField f;
  f.type = type;
  f.get = [&value] { return json(value); };
  f.set = [&value](const json& v) { value = v.get<T>(); };
  return f;
}

ConfigField integers(ConfigField f, int64_t lo, int64_t hi) {
  f.min_integer = lo;
  f.max_integer = hi;
  return f;
}

ConfigField numbers(ConfigField f, double lo, double hi) {
  f.min_number = lo;
  f.max_number = hi;
  return f;
}

ConfigField sized(ConfigField f, size_t min_size, size_t max_size) {
  f.list = true;
  f.min_size = min_size;
  f.max_size = max_size;
  return f;
}

}  // namespace

void ConfigVisitor::field(const std::string& path, int& value, int lo, int hi, const char* help) {
  add(path, integers(bound(value, FieldType::kInteger), lo, hi), help);
}
void ConfigVisitor::field(const std::string& path, int64_t& value, int64_t lo, int64_t hi,
                          const char* help) {
  add(path, integers(bound(value, FieldType::kInteger), lo, hi), help);
}
void ConfigVisitor::field(const std::string& path, uint64_t& value, const char* help) {
  add(path, bound(value, FieldType::kUnsigned), help);
}
void ConfigVisitor::field(const std::string& path, double& value, double lo, double hi,
                          const char* help) {
  add(path, numbers(bound(value, FieldType::kNumber), lo, hi), help);
}
void ConfigVisitor::field(const std::string& path, bool& value, const char* help) {
  add(path, bound(value, FieldType::kBool), help);
}
void ConfigVisitor::field(const std::string& path, std::string& value, const char* help) {
  add(path, bound(value, FieldType::kString), help);
}
void ConfigVisitor::field(const std::string& path, std::vector<double>& value, double lo, double hi,
                          size_t min_size, size_t max_size, const char* help) {
  add(path, sized(numbers(bound(value, FieldType::kNumber), lo, hi), min_size, max_size), help);
}
void ConfigVisitor::field(const std::string& path, std::vector<int>& value, int lo, int hi,
                          size_t min_size, size_t max_size, const char* help) {
  add(path, sized(integers(bound(value, FieldType::kInteger), lo, hi), min_size, max_size), help);
}
void ConfigVisitor::choice(const std::string& path, std::string& value,
                           const std::vector<std::string>& choices, const char* help) {
  add_choice(path, bound(value, FieldType::kChoice), choices, help);
}

void ConfigVisitor::add_choice(const std::string& path, ConfigField f,
                               std::vector<std::string> choices, const char* help) {
  f.type = FieldType::kChoice;
  f.choices = std::move(choices);
  add(path, std::move(f), help);
}

void ConfigVisitor::add(const std::string& path, ConfigField f, const char* help) {
  f.path = prefix_ + path;
  f.help = help;
  for (const ConfigField& declared : fields_) {
    if (declared.path == f.path) throw std::logic_error("config field declared twice: " + f.path);
  }
  fields_.push_back(std::move(f));
  if (on_field_) on_field_(fields_.back());
}

namespace internal {

void read_config(const json& j, const DeclareFields& declare) {
  if (!j.is_object() && !j.is_null())
    fail("top level", "expected an object, got " + type_and_value(j));
  // Each field is read as it is declared (see ConfigVisitor's constructor).
  ConfigVisitor visitor([&j](const ConfigField& f) { read_field(j, f); });
  declare(visitor);
  if (j.is_object()) reject_unknown_keys(visitor.fields(), j);
}

json write_config(const DeclareFields& declare) {
  ConfigVisitor visitor;
  declare(visitor);
  json result = json::object();
  for (const ConfigField& f : visitor.fields()) *walk(result, f.path) = f.get();
  return result;
}

std::string describe_fields(const DeclareFields& declare) {
  ConfigVisitor visitor;
  declare(visitor);
  size_t width = 0;
  for (const ConfigField& f : visitor.fields()) width = std::max(width, f.path.size());
  std::string out;
  for (const ConfigField& f : visitor.fields()) {
    const std::string kind =
        f.list ? size_range(f.min_size, f.max_size) + " values, each " + kind_of(f) : kind_of(f);
    out += f.path + std::string(width - f.path.size() + 2, ' ') + f.help + " (" + kind +
           ", default " + short_dump(f.get()) + ")\n";
  }
  return out;
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

// Where and why the parser stopped: the 0-based byte offset it names and its
// message without nlohmann's "[json.exception.parse_error.101] parse error
// at line 3, column 5: " prefix.
struct ParseErrorAt {
  size_t offset = 0;
  std::string message;
};

// nlohmann's own DOM builder, taking the error's position from the parser
// itself rather than from the exception, which for a number beyond a
// double's range (406) carries none.
class DomParser : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  DomParser(json& result, ParseErrorAt& error)
      : json_sax_dom_parser(result, /*allow_exceptions=*/false), error_(error) {}

  // `position` is the count of bytes read: one past the offending byte for a
  // syntax error, one past the number's last byte for an overflow, which is
  // reported at the number's first byte.
  bool parse_error(size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& e) {
    const bool overflow = e.id == 406;
    error_.offset = overflow ? position - std::min(position, last_token.size())
                             : (position > 0 ? position - 1 : 0);
    std::string message = e.what();
    message.erase(0, std::min(message.size(), message.find(']') + 1));
    if (const size_t at = message.find("parse error"); at != std::string::npos) {
      const size_t colon = message.find(": ", at);
      if (colon != std::string::npos) message.erase(0, colon + 1);
    }
    if (!message.empty() && message[0] == ' ') message.erase(0, 1);
    error_.message = message;
    return false;
  }

 private:
  ParseErrorAt& error_;
};

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
  ParseErrorAt error;
  json result;
  DomParser dom(result, error);
  if (!json::sax_parse(text, &dom, json::input_format_t::json, /*strict=*/true,
                       /*ignore_comments=*/true)) {
    const size_t offset = std::min(error.offset, text.size());
    const std::string before = text.substr(0, offset);
    const size_t line = 1 + std::count(before.begin(), before.end(), '\n');
    const size_t newline = before.rfind('\n');
    const size_t column = newline == std::string::npos ? offset + 1 : offset - newline;
    throw ConfigError(path + ":" + std::to_string(line) + ":" + std::to_string(column) +
                      ": invalid JSON: " + printable(error.message));
  }
  return result;
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

  try {
    *walk(j, key) = std::move(value);
  } catch (const ConfigError& e) {
    throw ConfigError(context + ": " + e.what());
  }
}

}  // namespace adaptive
