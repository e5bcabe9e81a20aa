// What a dataset holds: the class names and one entry per video or frame
// folder. Built from one of two layouts:
//
//   folder-per-class   root/<class>/<clip>.<ext>  or  root/<class>/<clip>/<frames>
//                      classes sorted by name unless a class list fixes them
//   CSV manifest       path,label[,start_frame,end_frame]
//                      UTF-8; paths relative to the manifest's folder (the
//                      dataset root); an optional header row names the
//                      columns (any order, extra columns such as `difficulty`
//                      are kept as per-sample metadata)
//
// A class list file (one name per line, `#` comments, blank lines ignored)
// fixes label order; without one, a manifest's labels are sorted by name.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace adaptive {

struct SampleEntry {
  std::string path;                          // absolute or relative to the working directory
  int label = -1;                            // index into DatasetIndex::classes
  int64_t start_frame = 0;                   // first frame used (inclusive)
  int64_t end_frame = -1;                    // last frame used (inclusive); -1 means the end
  std::map<std::string, std::string> extra;  // manifest columns beyond the known ones
};

struct DatasetIndex {
  std::vector<std::string> classes;
  std::vector<SampleEntry> samples;
  std::string source;   // the folder or manifest it was read from, for messages
  int64_t missing = 0;  // listed clips not on disk (counted by open_split(), dataset_layouts.h)

  // Index of a class name, or -1.
  int class_index(const std::string& name) const;
  // Samples per class, in class order.
  std::vector<int64_t> class_counts() const;
};

// Reads a class list. Throws DataError (file, line) on a missing file,
// duplicate names or an empty list.
std::vector<std::string> read_class_list(const std::string& path);

// Indexes root/<class>/<clip> entries (video files or frame folders). With
// `classes`, exactly those folders are used, in that order, and a missing one
// is an error; otherwise every sub-folder of root is a class. Throws DataError
// on a missing root, a missing class folder or no sample at all.
DatasetIndex index_class_folders(const std::string& root,
                                 const std::optional<std::vector<std::string>>& classes = {});

// What a manifest may list beyond the parsing rules.
struct ManifestRules {
  // A path leading outside the manifest's folder (absolute elsewhere, or up
  // through "..") is an error unless allowed: a manifest should not make the
  // toolkit read arbitrary files. Checked on the path's text (lexically), so
  // a symbolic link inside the root may still point elsewhere.
  bool allow_outside_root = false;
};

// Reads a CSV manifest. Throws DataError naming the manifest, the line number
// and what was wrong: text that is not UTF-8 (UTF-16, NUL bytes, invalid
// sequences), a header without `path` or `label`, too few or too many
// columns, empty path, a path outside the root (see ManifestRules), label not
// in `classes`, non-integer or negative frame numbers, start after end, the
// same path and frame range listed twice, no sample at all. Whether the files
// exist is left to the loader (a missing one is a bad sample).
DatasetIndex read_manifest(const std::string& path,
                           const std::optional<std::vector<std::string>>& classes = {},
                           const ManifestRules& rules = {});

// Indexes `path`: a .csv manifest, or a folder in folder-per-class layout,
// with `classes` (when given) fixing label order.
DatasetIndex open_dataset_index(const std::string& path,
                                const std::optional<std::vector<std::string>>& classes = {},
                                const ManifestRules& rules = {});

// `s` without leading and trailing spaces, tabs, CRs and LFs.
std::string trim(const std::string& s);

// Splits one CSV line into fields (RFC 4180 quotes: "a,b" and "" escapes).
// Throws std::invalid_argument on an unterminated quote.
std::vector<std::string> split_csv_line(const std::string& line);

}  // namespace adaptive
