#include "datasets/dataset_index.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "datasets/errors.h"
#include "datasets/frame_source.h"

namespace fs = std::filesystem;

namespace adaptive {
namespace {

std::string join(const std::vector<std::string>& names, size_t max_shown = 12) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < max_shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > max_shown) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

// Offset of the first byte that does not belong to a well-formed UTF-8
// sequence (overlong forms, surrogates and values past U+10FFFF included), or
// npos.
size_t invalid_utf8_at(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned min = 0, cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, min = 0x10000, cp = c & 0x07;
    } else {
      return i;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n + 1;
  }
  return std::string::npos;
}

std::string hex_byte(char c) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", static_cast<unsigned char>(c));
  return text;
}

bool is_sample_path(const fs::directory_entry& e) {
  if (e.is_directory()) return true;  // a frame folder
  return e.is_regular_file() && has_extension(e.path().string(), video_extensions());
}

class ManifestParser {
 public:
  ManifestParser(std::string path, const std::optional<std::vector<std::string>>& classes,
                 const ManifestRules& rules)
      : path_(std::move(path)),
        base_(fs::path(path_).parent_path().lexically_normal()),
        fixed_classes_(classes),
        rules_(rules) {}

  DatasetIndex parse() {
    std::ifstream in(path_);
    if (!in) throw DataError(path_ + ": cannot open manifest");
    std::string raw;
    std::vector<std::pair<int, std::vector<std::string>>> rows;
    for (int line_no = 1; std::getline(in, raw); ++line_no) {
      line_ = line_no;
      if (line_no == 1) {
        if (raw.rfind("\xEF\xBB\xBF", 0) == 0) raw.erase(0, 3);  // UTF-8 BOM
        if (raw.rfind("\xFF\xFE", 0) == 0 || raw.rfind("\xFE\xFF", 0) == 0)
          fail("the manifest is UTF-16 text (byte order mark); save it as UTF-8");
      }
      if (raw.find('\0') != std::string::npos) {
        fail("NUL byte at column " + std::to_string(raw.find('\0') + 1) +
             ": not UTF-8 text (UTF-16 or a binary file?)");
      }
      if (const size_t at = invalid_utf8_at(raw); at != std::string::npos) {
        fail("byte " + hex_byte(raw[at]) + " at column " + std::to_string(at + 1) +
             " is not valid UTF-8; save the manifest as UTF-8");
      }
      const std::string line = trim(raw);
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> fields;
      try {
        fields = split_csv_line(line);
      } catch (const std::invalid_argument& e) {
        fail(e.what());
      }
      for (auto& f : fields) f = trim(f);
      if (rows.empty() && columns_.empty() && is_header(fields)) {
        set_columns(fields);
        continue;
      }
      rows.emplace_back(line_no, std::move(fields));
    }
    if (columns_.empty()) set_columns({"path", "label", "start_frame", "end_frame"});
    if (rows.empty()) throw DataError(path_ + ": manifest lists no sample");

    DatasetIndex index;
    index.source = path_;
    index.classes = fixed_classes_ ? *fixed_classes_ : labels_in(rows);
    std::map<std::tuple<std::string, int64_t, int64_t>, int> first_line;
    for (auto& [line_no, fields] : rows) {
      line_ = line_no;
      SampleEntry entry = parse_row(fields, index);
      const auto [it, fresh] =
          first_line.emplace(std::tuple(entry.path, entry.start_frame, entry.end_frame), line_no);
      if (!fresh) {
        fail("'" + fields[column("path")] + "' with the same frames is listed twice (line " +
             std::to_string(it->second) + " and here)");
      }
      index.samples.push_back(std::move(entry));
    }
    return index;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw DataError(path_ + ":" + std::to_string(line_) + ": " + what);
  }

  // A first row naming either required column is a header (which then must
  // name both): a header missing one would otherwise be read as a sample.
  static bool is_header(const std::vector<std::string>& fields) {
    return std::find(fields.begin(), fields.end(), "path") != fields.end() ||
           std::find(fields.begin(), fields.end(), "label") != fields.end();
  }

  void set_columns(const std::vector<std::string>& names) {
    for (const char* required : {"path", "label"}) {
      if (std::find(names.begin(), names.end(), required) == names.end())
        fail(std::string("header has no '") + required + "' column (got: " + join(names) + ")");
    }
    columns_ = names;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i].empty())
        fail("empty column name in header (column " + std::to_string(i + 1) + ")");
      if (std::count(names.begin(), names.end(), names[i]) > 1) {
        fail("column '" + names[i] + "' appears twice in header");
      }
    }
  }

  int column(const std::string& name) const {
    auto it = std::find(columns_.begin(), columns_.end(), name);
    return it == columns_.end() ? -1 : static_cast<int>(it - columns_.begin());
  }

  size_t required_fields() const {
    return static_cast<size_t>(std::max(column("path"), column("label"))) + 1;
  }

  std::vector<std::string> labels_in(
      const std::vector<std::pair<int, std::vector<std::string>>>& rows) {
    std::set<std::string> labels;
    for (auto& [line_no, fields] : rows) {
      if (fields.size() > static_cast<size_t>(column("label")))
        labels.insert(fields[column("label")]);
    }
    return {labels.begin(), labels.end()};
  }

  int64_t parse_frame(const std::string& text, const std::string& what) const {
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) {
      fail(what + " must be a non-negative integer, got '" + text + "'");
    }
    return value;
  }

  SampleEntry parse_row(const std::vector<std::string>& fields, const DatasetIndex& index) const {
    if (fields.size() < required_fields()) {
      std::ostringstream msg;
      msg << "expected at least " << required_fields() << " columns (" << join(columns_)
          << "), got " << fields.size();
      fail(msg.str());
    }
    if (fields.size() > columns_.size()) {
      std::ostringstream msg;
      msg << "expected at most " << columns_.size() << " columns (" << join(columns_) << "), got "
          << fields.size();
      fail(msg.str());
    }
    SampleEntry entry;
    const std::string& rel = fields[column("path")];
    if (rel.empty()) fail("empty path");
    const fs::path resolved = (base_ / rel).lexically_normal();  // an absolute rel replaces base_
    if (!rules_.allow_outside_root && is_root(resolved, base_))
      fail("path '" + rel + "' is the dataset root itself, not a clip in it");
    if (!rules_.allow_outside_root && !inside(resolved, base_)) {
      fail("path '" + rel + "' leads outside the dataset root " +
           (base_.empty() ? std::string(".") : base_.string()) +
           " (allow such paths with data.allow_outside_root / --allow-outside-root)");
    }
    entry.path = resolved.string();
    const std::string& label = fields[column("label")];
    entry.label = index.class_index(label);
    if (entry.label < 0) {
      fail("unknown label '" + label + "' (known: " + join(index.classes) + ")");
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      const std::string& name = columns_[i];
      if (name == "path" || name == "label") continue;
      if (name == "start_frame") {
        if (!fields[i].empty()) entry.start_frame = parse_frame(fields[i], "start_frame");
      } else if (name == "end_frame") {
        if (!fields[i].empty()) entry.end_frame = parse_frame(fields[i], "end_frame");
      } else {
        entry.extra[name] = fields[i];
      }
    }
    if (entry.end_frame >= 0 && entry.start_frame > entry.end_frame) {
      fail("start_frame " + std::to_string(entry.start_frame) + " is after end_frame " +
           std::to_string(entry.end_frame));
    }
    return entry;
  }

  // Whether normalised `p` names folder `root` itself (an empty root is the
  // working directory).
  static bool is_root(const fs::path& p, const fs::path& root) {
    return p == (root.empty() ? fs::path(".") : root) ||
           (!root.empty() && p.lexically_relative(root) == ".");
  }

  // Whether normalised `p` lies in folder `root` (both normalised; an empty
  // root is the working directory).
  static bool inside(const fs::path& p, const fs::path& root) {
    if (p.is_absolute() != root.is_absolute() && !root.empty()) return false;
    if (root.empty()) return !p.is_absolute() && *p.begin() != "..";
    const fs::path rel = p.lexically_relative(root);
    return !rel.empty() && *rel.begin() != "..";
  }

  std::string path_;
  fs::path base_;
  const std::optional<std::vector<std::string>>& fixed_classes_;
  ManifestRules rules_;
  std::vector<std::string> columns_;
  int line_ = 0;
};

}  // namespace

int DatasetIndex::class_index(const std::string& name) const {
  auto it = std::find(classes.begin(), classes.end(), name);
  return it == classes.end() ? -1 : static_cast<int>(it - classes.begin());
}

std::vector<int64_t> DatasetIndex::class_counts() const {
  std::vector<int64_t> counts(classes.size(), 0);
  for (const auto& s : samples) ++counts.at(s.label);
  return counts;
}

std::vector<std::string> read_class_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot open class list");
  std::vector<std::string> classes;
  std::string raw;
  for (int line_no = 1; std::getline(in, raw); ++line_no) {
    if (line_no == 1 && raw.rfind("\xEF\xBB\xBF", 0) == 0) raw.erase(0, 3);  // UTF-8 BOM
    const std::string name = trim(raw);
    if (name.empty() || name[0] == '#') continue;
    if (std::find(classes.begin(), classes.end(), name) != classes.end()) {
      throw DataError(path + ":" + std::to_string(line_no) + ": class '" + name + "' listed twice");
    }
    classes.push_back(name);
  }
  if (classes.empty()) throw DataError(path + ": class list is empty");
  return classes;
}

DatasetIndex index_class_folders(const std::string& root,
                                 const std::optional<std::vector<std::string>>& classes) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw DataError(root + ": dataset folder does not exist");
  DatasetIndex index;
  index.source = root;
  if (classes) {
    index.classes = *classes;
  } else {
    for (const auto& e : fs::directory_iterator(root)) {
      if (e.is_directory()) index.classes.push_back(e.path().filename().string());
    }
    std::sort(index.classes.begin(), index.classes.end());
    if (index.classes.empty())
      throw DataError(root + ": no class folder (expected root/<class>/<clip>)");
  }
  for (size_t label = 0; label < index.classes.size(); ++label) {
    const fs::path dir = fs::path(root) / index.classes[label];
    if (!fs::is_directory(dir, ec)) {
      throw DataError(dir.string() + ": class folder for '" + index.classes[label] +
                      "' is missing");
    }
    std::vector<std::string> paths;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (is_sample_path(e)) paths.push_back(e.path().string());
    }
    std::sort(paths.begin(), paths.end());
    for (auto& p : paths)
      index.samples.push_back({std::move(p), static_cast<int>(label), 0, -1, {}});
  }
  if (index.samples.empty())
    throw DataError(root + ": dataset is empty (no video or frame folder)");
  return index;
}

DatasetIndex read_manifest(const std::string& path,
                           const std::optional<std::vector<std::string>>& classes,
                           const ManifestRules& rules) {
  return ManifestParser(path, classes, rules).parse();
}

DatasetIndex open_dataset_index(const std::string& path,
                                const std::optional<std::vector<std::string>>& classes,
                                const ManifestRules& rules) {
  return has_extension(path, {".csv"}) ? read_manifest(path, classes, rules)
                                       : index_class_folders(path, classes);
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  if (quoted) throw std::invalid_argument("unterminated quote");
  return fields;
}

}  // namespace adaptive
