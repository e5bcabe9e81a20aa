#include "datasets/dataset_layouts.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "datasets/errors.h"
#include "datasets/frame_source.h"

namespace fs = std::filesystem;

namespace adaptive {

const NameTable<DatasetLayout>& dataset_layout_names() {
  static const NameTable<DatasetLayout> t("dataset layout",
                                          {{DatasetLayout::kAuto, "auto"},
                                           {DatasetLayout::kCsv, "csv"},
                                           {DatasetLayout::kFolders, "folders"},
                                           {DatasetLayout::kJester, "jester"},
                                           {DatasetLayout::kSsv2, "ssv2"},
                                           {DatasetLayout::kUcf101, "ucf101"},
                                           {DatasetLayout::kKinetics, "kinetics"}});
  return t;
}

const NameTable<DatasetSplit>& dataset_split_names() {
  static const NameTable<DatasetSplit> t("split", {{DatasetSplit::kTrain, "train"},
                                                   {DatasetSplit::kVal, "val"},
                                                   {DatasetSplit::kTest, "test"}});
  return t;
}

namespace {

using Names = std::vector<std::string>;

// Where each download unpacks its annotation files and its clips.
const Names kAnnotationFolders = {"", "labels", "annotations", "ucfTrainTestlist"};
const Names kVideoFolders = {"20bn-jester-v1", "20bn-something-something-v2", "UCF-101", "videos",
                             ""};

// UCF101's val: the train list's lowest-numbered sixth of its groups (gXX):
// 3 of the 18 in each official fold.
constexpr size_t kUcfGroupsPerValGroup = 6;

// `raw` without a UTF-8 byte order mark when it is a file's first line.
std::string without_bom(std::string raw, int line) {
  if (line == 1 && raw.rfind("\xEF\xBB\xBF", 0) == 0) raw.erase(0, 3);
  return raw;
}

// A text file's non-blank lines, trimmed, with their numbers. Throws
// DataError when it cannot be opened.
std::vector<std::pair<int, std::string>> read_lines(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw DataError(file.string() + ": cannot open");
  std::vector<std::pair<int, std::string>> lines;
  std::string raw;
  for (int line = 1; std::getline(in, raw); ++line) {
    std::string text = trim(without_bom(raw, line));
    if (!text.empty()) lines.emplace_back(line, std::move(text));
  }
  return lines;
}

// A JSON file. Throws DataError when it cannot be opened or parsed.
nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw DataError(file.string() + ": cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw DataError(file.string() + ": not valid JSON (" + e.what() + ")");
  }
}

std::string join(const Names& names, size_t max_shown = 8) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < max_shown; ++i)
    out += (i ? ", " : "") + ("'" + names[i] + "'");
  if (names.size() > max_shown) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

fs::path in_root(const DatasetSource& s, const std::string& name) {
  const fs::path p(name);
  return p.is_absolute() ? p : fs::path(s.root) / p;
}

// The first of root/<folder>/<name> that exists, or nothing.
std::optional<fs::path> find_annotation(const DatasetSource& s, const Names& names) {
  std::error_code ec;
  for (const auto& folder : kAnnotationFolders)
    for (const auto& name : names) {
      const fs::path p = (fs::path(s.root) / folder / name).lexically_normal();
      if (fs::exists(p, ec)) return p;
    }
  return std::nullopt;
}

// The first non-blank line (reading no further: a split list can be large).
std::string first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string raw;
  for (int line = 1; std::getline(in, raw); ++line)
    if (std::string text = trim(without_bom(raw, line)); !text.empty()) return text;
  return "";
}

DatasetLayout layout_of_file(const fs::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) return DatasetLayout::kFolders;
  const std::string name = file.string();
  if (has_extension(name, {".json"})) return DatasetLayout::kSsv2;
  if (has_extension(name, {".txt"})) return DatasetLayout::kUcf101;
  const std::string line = first_line(file);
  Names fields;
  try {
    fields = split_csv_line(line);
  } catch (const std::invalid_argument&) {  // the reader names the fault
  }
  for (const auto& f : fields)
    if (trim(f) == "youtube_id" || trim(f) == "time_start") return DatasetLayout::kKinetics;
  if (line.find(';') != std::string::npos && line.find(',') == std::string::npos)
    return DatasetLayout::kJester;
  return DatasetLayout::kCsv;
}

// The published annotation names of a split (one of them is enough).
Names published_names(DatasetLayout layout, DatasetSplit split, int fold) {
  const auto i = static_cast<size_t>(split);
  const std::string n = std::to_string(fold);
  switch (layout) {
    case DatasetLayout::kCsv:
      return {std::array{"train.csv", "val.csv", "test.csv"}[i]};
    case DatasetLayout::kFolders:
      return {std::array{"train", "val", "test"}[i]};
    case DatasetLayout::kJester:
      return {std::array{"jester-v1-train.csv", "jester-v1-validation.csv", ""}[i]};
    case DatasetLayout::kSsv2:
      return {std::array{"train.json", "validation.json", ""}[i]};
    case DatasetLayout::kUcf101:
      return {split == DatasetSplit::kTest ? "testlist0" + n + ".txt" : "trainlist0" + n + ".txt"};
    case DatasetLayout::kKinetics:
      if (split == DatasetSplit::kVal) return {"validate.csv", "val.csv"};
      return {split == DatasetSplit::kTrain ? "train.csv" : "test.csv"};
    case DatasetLayout::kAuto:
      break;
  }
  throw std::logic_error("published_names: layout not resolved");
}

// ------------------------------------------------------------ class lists

std::vector<std::string> read_ssv2_labels(const fs::path& file) {
  const nlohmann::json j = read_json(file);
  if (!j.is_object() || j.empty())
    throw DataError(file.string() + ": expected an object of class name to index, got " +
                    std::string(j.type_name()));
  std::map<int64_t, std::string> by_index;
  for (const auto& [name, value] : j.items()) {
    int64_t index = -1;
    try {
      index = value.is_string() ? std::stoll(value.get<std::string>()) : value.get<int64_t>();
    } catch (const std::exception&) {
      throw DataError(file.string() + ": [\"" + name + "\"]: expected a class index, got " +
                      value.dump());
    }
    if (!by_index.emplace(index, name).second)
      throw DataError(file.string() + ": [\"" + name + "\"]: index " + std::to_string(index) +
                      " is also '" + by_index[index] + "'");
  }
  std::vector<std::string> classes;
  for (const auto& [index, name] : by_index) {
    if (index != static_cast<int64_t>(classes.size()))
      throw DataError(file.string() + ": [\"" + name + "\"]: index " + std::to_string(index) +
                      ", expected " + std::to_string(classes.size()) +
                      " (indices run from 0 without gaps)");
    classes.push_back(name);
  }
  return classes;
}

std::vector<std::string> read_ucf_class_index(const fs::path& file) {
  std::vector<std::string> classes;
  for (const auto& [line, text] : read_lines(file)) {
    const auto space = text.find_first_of(" \t");
    const std::string where = file.string() + ":" + std::to_string(line) + ": ";
    if (space == std::string::npos)
      throw DataError(where + "expected '<number> <class>', got '" + text + "'");
    const std::string number = text.substr(0, space), name = trim(text.substr(space));
    const std::string expected = std::to_string(classes.size() + 1);
    if (number != expected)
      throw DataError(where + "class number " + expected + " expected, got '" + number + "'");
    classes.push_back(name);
  }
  if (classes.empty()) throw DataError(file.string() + ": lists no class");
  return classes;
}

// ------------------------------------------------------------ clip folders

// The folder among the download's clip folders that holds most of the first
// clips listed (`relative` names a clip inside it).
fs::path video_folder(const DatasetSource& s, const Names& relative) {
  std::error_code ec;
  fs::path best = s.root;
  size_t best_found = 0;
  for (const auto& folder : kVideoFolders) {
    const fs::path dir = (fs::path(s.root) / folder).lexically_normal();
    if (!fs::is_directory(dir, ec)) continue;
    size_t found = 0;
    for (size_t i = 0; i < relative.size() && i < 32; ++i)
      found += fs::exists(dir / relative[i], ec) ? 1 : 0;
    if (found > best_found) best = dir, best_found = found;
  }
  return best;
}

class SplitReader {
 public:
  SplitReader(const fs::path& file, std::optional<std::vector<std::string>> classes)
      : file_(file.string()) {
    if (classes) index_.classes = *classes;
    index_.source = file_;
  }

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw DataError(file_ + (where.empty() ? "" : ":" + where) + ": " + what);
  }

  // The label of `name`, seen at `where`; with no fixed classes the names are
  // collected and sorted at the end.
  int label(const std::string& name, const std::string& where) {
    if (!fixed()) {
      seen_.insert(name);
      return -1;
    }
    const int i = index_.class_index(name);
    if (i < 0) fail(where, "unknown class '" + name + "' (known: " + join(index_.classes) + ")");
    return i;
  }

  void add(std::string path, const std::string& class_name, int label, const std::string& where) {
    if (!first_where_.emplace(path, where).second)
      fail(where, "clip '" + path + "' is listed twice (also at " + first_where_[path] + ")");
    index_.samples.push_back({std::move(path), label, 0, -1, {}});
    names_.push_back(class_name);
  }

  DatasetIndex finish() {
    if (index_.samples.empty()) throw DataError(file_ + ": lists no clip");
    if (!fixed()) {
      index_.classes.assign(seen_.begin(), seen_.end());
      for (size_t i = 0; i < names_.size(); ++i)
        index_.samples[i].label = index_.class_index(names_[i]);
    }
    return std::move(index_);
  }

 private:
  bool fixed() const { return !index_.classes.empty(); }

  std::string file_;
  DatasetIndex index_;
  std::set<std::string> seen_;
  std::vector<std::string> names_;  // each sample's class name
  std::map<std::string, std::string> first_where_;
};

std::string line_at(int line) {
  return std::to_string(line);
}

// A clip id names a file or folder in the clip folder: no path in it.
bool plain_name(const std::string& id) {
  return !id.empty() && id != "." && id != ".." && id.find('/') == std::string::npos &&
         id.find('\\') == std::string::npos;
}

DatasetIndex read_jester(const DatasetSource& s, const fs::path& file,
                         const std::optional<std::vector<std::string>>& classes) {
  const auto lines = read_lines(file);
  SplitReader r(file, classes);
  std::vector<std::pair<std::string, std::string>> rows;  // id, where
  std::vector<std::string> labels;
  for (const auto& [line, text] : lines) {
    const auto semi = text.find(';');
    if (semi == std::string::npos)
      r.fail(line_at(line), "expected 'id;label' (a labelled split), got '" + text + "'");
    rows.emplace_back(trim(text.substr(0, semi)), line_at(line));
    labels.push_back(trim(text.substr(semi + 1)));
    if (!plain_name(rows.back().first))
      r.fail(line_at(line), "the id '" + rows.back().first + "' is not a folder name");
  }
  Names ids;
  for (const auto& row : rows) ids.push_back(row.first);
  const fs::path videos = video_folder(s, ids);
  for (size_t i = 0; i < rows.size(); ++i) {
    const int label = r.label(labels[i], rows[i].second);
    r.add((videos / rows[i].first).string(), labels[i], label, rows[i].second);
  }
  return r.finish();
}

// "Putting [something] on a surface" -> "Putting something on a surface".
std::string ssv2_class(std::string templ) {
  templ.erase(
      std::remove_if(templ.begin(), templ.end(), [](char c) { return c == '[' || c == ']'; }),
      templ.end());
  return templ;
}

DatasetIndex read_ssv2(const DatasetSource& s, const fs::path& file,
                       const std::optional<std::vector<std::string>>& classes) {
  const nlohmann::json j = read_json(file);
  SplitReader r(file, classes);
  if (!j.is_array())
    r.fail("", "expected a list of {\"id\", \"template\", ...}, got " + std::string(j.type_name()));
  Names files, templates, wheres;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string where = " [" + std::to_string(i) + "]";
    const auto& e = j[i];
    if (!e.is_object() || !e.contains("id") || !e.contains("template"))
      r.fail(where, "expected an object with \"id\" and \"template\", got " + e.dump());
    const auto& id = e["id"];
    if (!id.is_string() && !id.is_number_integer())
      r.fail(where + ".id", "expected a string, got " + id.dump());
    if (!e["template"].is_string())
      r.fail(where + ".template", "expected a string, got " + e["template"].dump());
    const std::string name = id.is_string() ? id.get<std::string>() : id.dump();
    if (!plain_name(name)) r.fail(where + ".id", "'" + name + "' is not a file name");
    files.push_back(name + ".webm");
    templates.push_back(e["template"].get<std::string>());
    wheres.push_back(where + ".template");
  }
  const fs::path videos = video_folder(s, files);
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string name = ssv2_class(templates[i]);
    r.add((videos / files[i]).string(), name, r.label(name, wheres[i]), wheres[i]);
  }
  return r.finish();
}

DatasetIndex read_ucf101(const DatasetSource& s, const fs::path& file, DatasetSplit split,
                         const std::optional<std::vector<std::string>>& classes) {
  const auto lines = read_lines(file);
  // A train list's class numbers are classInd.txt's, whatever order data.classes fixes.
  std::optional<std::vector<std::string>> numbered;
  if (const auto index = find_annotation(s, {"classInd.txt"}))
    numbered = read_ucf_class_index(*index);
  SplitReader r(file, classes);
  static const std::regex group_re("_g([0-9]+)_c[0-9]+");
  struct Row {
    std::string path, class_name, where;
    int group;
  };
  std::vector<Row> rows;
  for (const auto& [line, text] : lines) {
    const std::string where = line_at(line);
    const auto space = text.find_first_of(" \t");
    const std::string path = text.substr(0, space);
    const auto slash = path.find('/');
    std::smatch m;
    if (slash == std::string::npos || !std::regex_search(path, m, group_re))
      r.fail(where, "expected 'Class/v_Class_gXX_cYY.avi[ number]', got '" + text + "'");
    Row row{path, path.substr(0, slash), where, std::stoi(m[1].str())};
    if (space != std::string::npos) {  // a train list's class number
      const std::string number = trim(text.substr(space));
      int n = 0;
      try {
        n = std::stoi(number);
      } catch (const std::exception&) {
        r.fail(where, "expected a class number after the path, got '" + number + "'");
      }
      if (numbered && (n < 1 || n > static_cast<int>(numbered->size())))
        r.fail(where, "class number " + number + " is not in classInd.txt (1 to " +
                          std::to_string(numbered->size()) + ")");
      if (numbered && (*numbered)[static_cast<size_t>(n - 1)] != row.class_name)
        r.fail(where, "class number " + number + " is '" + (*numbered)[static_cast<size_t>(n - 1)] +
                          "' in classInd.txt, but the clip's folder is '" + row.class_name + "'");
    }
    rows.push_back(std::move(row));
  }
  // Train and val share a train list: its groups are split between them.
  const bool train_list = file.filename().string().rfind("trainlist", 0) == 0;
  if (split != DatasetSplit::kTest && train_list) {
    std::vector<int> groups;
    for (const auto& row : rows)
      if (std::find(groups.begin(), groups.end(), row.group) == groups.end())
        groups.push_back(row.group);
    std::sort(groups.begin(), groups.end());
    const size_t val_count = std::max<size_t>(1, groups.size() / kUcfGroupsPerValGroup);
    if (val_count >= groups.size())
      throw DataError(file.string() + ": its clips come from " + std::to_string(groups.size()) +
                      " group(s) (gXX); UCF101's val takes the lowest-numbered sixth of the "
                      "groups, at least one, so training needs more");
    const std::set<int> val_groups(groups.begin(), groups.begin() + val_count);
    const bool want_val = split == DatasetSplit::kVal;
    rows.erase(
        std::remove_if(rows.begin(), rows.end(),
                       [&](const Row& row) { return val_groups.count(row.group) != want_val; }),
        rows.end());
  }
  Names paths;
  for (const auto& row : rows) paths.push_back(row.path);
  const fs::path videos = video_folder(s, paths);
  for (const auto& row : rows)
    r.add((videos / row.path).string(), row.class_name, r.label(row.class_name, row.where),
          row.where);
  return r.finish();
}

DatasetIndex read_kinetics(const DatasetSource& s, const fs::path& file, DatasetSplit split,
                           const std::optional<std::vector<std::string>>& classes) {
  const auto lines = read_lines(file);
  SplitReader r(file, classes);
  Names header;
  const auto column = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  };
  std::error_code ec;
  // The clips lie in the root or in videos/.
  std::vector<fs::path> bases = {fs::path(s.root)};
  if (fs::is_directory(fs::path(s.root) / "videos", ec))
    bases.insert(bases.begin(), fs::path(s.root) / "videos");
  const std::string split_name = dataset_split_names().name(split);
  for (const auto& [line, text] : lines) {
    Names f;
    try {
      f = split_csv_line(text);
    } catch (const std::invalid_argument& e) {
      r.fail(line_at(line), e.what());
    }
    for (auto& x : f) x = trim(x);
    if (header.empty()) {
      header = f;
      for (const char* need : {"label", "youtube_id", "time_start", "time_end"})
        if (column(need) < 0)
          r.fail(line_at(line), std::string("header has no '") + need +
                                    "' column (expected label,youtube_id,time_start,time_end,"
                                    "split; got " +
                                    join(header) + ")");
      continue;
    }
    if (f.size() < header.size())
      r.fail(line_at(line), "expected " + std::to_string(header.size()) + " columns (" +
                                join(header) + "), got " + std::to_string(f.size()));
    const auto line_no = line;  // a structured binding cannot be captured before C++20
    const auto seconds = [&](const char* name) {
      const std::string& t = f[static_cast<size_t>(column(name))];
      char* end = nullptr;
      const double v = std::strtod(t.c_str(), &end);
      if (t.empty() || *end != '\0' || v < 0 || v != std::floor(v))
        r.fail(line_at(line_no), std::string(name) + ": expected whole seconds, got '" + t + "'");
      return static_cast<long>(v);
    };
    char name[64];
    std::snprintf(name, sizeof name, "_%06ld_%06ld.mp4", seconds("time_start"),
                  seconds("time_end"));
    const std::string clip = f[static_cast<size_t>(column("youtube_id"))] + name;
    const std::string label = f[static_cast<size_t>(column("label"))];
    std::string folder_label = label;
    std::replace(folder_label.begin(), folder_label.end(), ' ', '_');
    Names splits = {split_name};
    if (column("split") >= 0)
      splits.insert(splits.begin(), f[static_cast<size_t>(column("split"))]);
    if (split == DatasetSplit::kVal) splits.push_back("validate");
    std::vector<fs::path> candidates;
    for (const fs::path& base : bases) {
      for (const auto& sp : splits)
        for (const auto& l : {label, folder_label}) candidates.push_back(base / sp / l / clip);
      for (const auto& sp : splits) candidates.push_back(base / sp / clip);
      for (const auto& l : {label, folder_label}) candidates.push_back(base / l / clip);
      candidates.push_back(base / clip);
    }
    fs::path found = candidates.front();
    for (const auto& c : candidates)
      if (fs::exists(c, ec)) {
        found = c;
        break;
      }
    r.add(found.lexically_normal().string(), label, r.label(label, line_at(line)), line_at(line));
  }
  return r.finish();
}

}  // namespace

DatasetLayout resolve_layout(const DatasetSource& s) {
  if (s.layout != DatasetLayout::kAuto) return s.layout;
  for (const auto& file : s.files)
    if (!file.empty()) return layout_of_file(in_root(s, file));
  std::error_code ec;
  if (!fs::is_directory(s.root, ec)) throw DataError(s.root + ": dataset folder does not exist");
  if (find_annotation(s, {"jester-v1-labels.csv"})) return DatasetLayout::kJester;
  if (find_annotation(s, {"labels.json"})) return DatasetLayout::kSsv2;
  if (find_annotation(s, {"classInd.txt"})) return DatasetLayout::kUcf101;
  if (const auto train = find_annotation(s, {"train.csv"})) return layout_of_file(*train);
  if (fs::is_directory(fs::path(s.root) / "train", ec)) return DatasetLayout::kFolders;
  throw DataError(s.root +
                  ": cannot tell the dataset's layout: none of jester-v1-labels.csv (Jester), "
                  "labels.json (Something-Something V2), classInd.txt (UCF101), train.csv "
                  "(Kinetics or a manifest) or a train/ folder is there or in labels/, "
                  "annotations/, ucfTrainTestlist/; set data.layout and data.train");
}

std::string split_file(const DatasetSource& s, DatasetLayout layout, DatasetSplit split) {
  const std::string& named = s.files[static_cast<size_t>(split)];
  if (!named.empty()) return in_root(s, named).lexically_normal().string();
  if (layout == DatasetLayout::kUcf101 && (s.fold < 1 || s.fold > 3))
    throw DataError("UCF101 has folds 1 to 3, got " + std::to_string(s.fold) + " (data.fold)");
  const Names names = published_names(layout, split, s.fold);
  const std::string& layout_name = dataset_layout_names().name(layout);
  const std::string& split_name = dataset_split_names().name(split);
  if (names.front().empty())
    throw DataError(s.root + ": " + layout_name + "'s published " + split_name +
                    " list carries no labels; name a labelled list for it (data." + split_name +
                    ")");
  if (layout == DatasetLayout::kCsv || layout == DatasetLayout::kFolders)
    return (fs::path(s.root) / names.front()).lexically_normal().string();
  if (const auto found = find_annotation(s, names)) return found->string();
  throw DataError(s.root + ": no " + join(names) + " for the " + split_name + " split of a " +
                  layout_name +
                  " dataset (looked in the folder and in labels/, annotations/, "
                  "ucfTrainTestlist/; name it with data." +
                  split_name + ")");
}

std::optional<std::vector<std::string>> layout_classes(const DatasetSource& s,
                                                       DatasetLayout layout) {
  if (!s.classes.empty()) return read_class_list(in_root(s, s.classes).string());
  const auto required = [&](const std::string& name) {
    if (const auto found = find_annotation(s, {name})) return *found;
    throw DataError(s.root + ": no " + name + ", which a " + dataset_layout_names().name(layout) +
                    " dataset names its classes in (looked in the folder and in labels/, "
                    "annotations/, ucfTrainTestlist/)");
  };
  switch (layout) {
    case DatasetLayout::kJester:
      return read_class_list(required("jester-v1-labels.csv").string());  // one per line
    case DatasetLayout::kSsv2:
      return read_ssv2_labels(required("labels.json"));
    case DatasetLayout::kUcf101:
      return read_ucf_class_index(required("classInd.txt"));
    case DatasetLayout::kCsv: {
      std::error_code ec;
      const fs::path list = fs::path(s.root) / "classes.txt";
      if (fs::exists(list, ec)) return read_class_list(list.string());
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

DatasetIndex open_split(const DatasetSource& s, DatasetSplit split,
                        const std::optional<std::vector<std::string>>& classes) {
  const DatasetLayout layout = resolve_layout(s);
  const std::optional<std::vector<std::string>> fixed =
      classes ? classes : layout_classes(s, layout);
  const fs::path file = split_file(s, layout, split);
  std::error_code ec;
  if (!fs::exists(file, ec))
    throw DataError(file.string() + ": the " + dataset_split_names().name(split) +
                    " split is not there");
  DatasetIndex index;
  switch (layout) {
    case DatasetLayout::kCsv:
      index = read_manifest(file.string(), fixed, s.rules);
      break;
    case DatasetLayout::kFolders:
      index = index_class_folders(file.string(), fixed);
      break;
    case DatasetLayout::kJester:
      index = read_jester(s, file, fixed);
      break;
    case DatasetLayout::kSsv2:
      index = read_ssv2(s, file, fixed);
      break;
    case DatasetLayout::kUcf101:
      index = read_ucf101(s, file, split, fixed);
      break;
    case DatasetLayout::kKinetics:
      index = read_kinetics(s, file, split, fixed);
      break;
    case DatasetLayout::kAuto:
      throw std::logic_error("open_split: layout not resolved");
  }
  for (const auto& sample : index.samples) index.missing += fs::exists(sample.path, ec) ? 0 : 1;
  return index;
}

}  // namespace adaptive
