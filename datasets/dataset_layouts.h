// The standard video datasets read in the layout they are downloaded in, so
// that nobody converts them by hand. A layout names a dataset's annotation
// files and where its clips lie; each split is read into a DatasetIndex.
//
//   csv       train.csv, val.csv, test.csv manifests (dataset_index.h),
//             classes.txt when present
//   folders   train/, val/, test/ in folder-per-class layout
//   jester    jester-v1-labels.csv (one class per line),
//             jester-v1-{train,validation,test}.csv as `id;label`,
//             frames <videos>/<id>/00001.jpg, ... at 12 fps
//   ssv2      labels.json ({"class": "index"}), train.json / validation.json
//             / test.json as [{"id", "label", "template", "placeholders"}];
//             the class is the template without its brackets ("Putting
//             [something] on a surface" -> "Putting something on a
//             surface"); videos <videos>/<id>.webm
//   ucf101    classInd.txt (`1 ApplyEyeMakeup`), trainlist0N.txt
//             (`Class/v_Class_gXX_cYY.avi N`), testlist0N.txt
//             (`Class/v_Class_gXX_cYY.avi`) for fold N = 1..3; videos
//             <videos>/<Class>/v_<Class>_gXX_cYY.avi. UCF101 has no
//             validation list: val is the lowest-numbered sixth of the train
//             list's groups (gXX; 3 of 18 in the official folds), which then
//             leave train, so the test list stays unseen (a list named for
//             val that is not a train list is read whole)
//   kinetics  <split>.csv with header `label,youtube_id,time_start,time_end,
//             split[,...]`; clips <youtube_id>_<start:06>_<end:06>.mp4 in
//             <videos>/<split>/<label>/, <videos>/<split>/, <videos>/<label>/
//             or <videos>/ (the first that holds the file; <videos>: videos/
//             or the root; a label's spaces may be underscores there)
//
// Annotation files are looked for in the root and in the sub-folders the
// downloads unpack to (labels/, annotations/, ucfTrainTestlist/); videos in
// the root and in the download's own folder (20bn-jester-v1/,
// 20bn-something-something-v2/, UCF-101/, videos/). Errors name the file, the
// line or JSON path, and what was expected. A listed clip that is missing on
// disk stays in the index: the loader treats it as a bad sample (skipped
// with a warning, or the run stops: data.on_bad_sample), and
// DatasetIndex::missing counts such clips so a caller can say how many.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/enum_names.h"
#include "datasets/dataset_index.h"

namespace adaptive {

enum class DatasetLayout { kAuto, kCsv, kFolders, kJester, kSsv2, kUcf101, kKinetics };
const NameTable<DatasetLayout>& dataset_layout_names();

enum class DatasetSplit { kTrain, kVal, kTest };
const NameTable<DatasetSplit>& dataset_split_names();  // train, val, test

struct DatasetSource {
  DatasetLayout layout = DatasetLayout::kAuto;
  std::string root;  // the dataset's folder
  // A split's annotation file or folder, relative to root (or absolute);
  // empty: the layout's published name. Index by DatasetSplit.
  std::string files[3];
  std::string classes;  // class list (dataset_index.h); empty: the layout's own
  int fold = 1;         // UCF101's split number (1-3)
  ManifestRules rules;
};

// The layout `source` holds: its layout when named, else detected from the
// split files named (.json: ssv2; .txt: ucf101; a .csv by its first line:
// naming youtube_id or time_start, kinetics; `id;label`, jester; else csv;
// a folder: folders) or, with none named, from the published file names in
// root. Throws DataError saying what was looked for when nothing matches.
DatasetLayout resolve_layout(const DatasetSource& source);

// The annotation file (or folder) a split is read from: the named one, else
// the layout's published name wherever the download put it. Throws DataError
// when the layout has no such split (Jester's and SSv2's test lists carry no
// labels) or the file is not found (naming where it looked).
std::string split_file(const DatasetSource& source, DatasetLayout layout, DatasetSplit split);

// The class names in label order: the class list named, else the layout's
// own (Jester's labels file, SSv2's labels.json by index, UCF101's
// classInd.txt by number, csv's classes.txt when present). Nothing (the
// training split's sorted labels) for kinetics, folders and a csv dataset
// without a class list.
std::optional<std::vector<std::string>> layout_classes(const DatasetSource& source,
                                                       DatasetLayout layout);

// One split of the dataset, labels in `classes` order (else those of
// layout_classes(), else sorted). Throws DataError (file, line or JSON path,
// expected against got) on a malformed annotation file or an unknown label.
DatasetIndex open_split(const DatasetSource& source, DatasetSplit split,
                        const std::optional<std::vector<std::string>>& classes = {});

}  // namespace adaptive
