#include "datasets/dataset_layouts.h"

#include <catch2/catch.hpp>

#include "datasets/errors.h"
#include "test_support.h"

using namespace adaptive;
namespace fs = std::filesystem;

namespace {

DatasetSource source_at(const fs::path& root) {
  DatasetSource s;
  s.root = root.string();
  return s;
}

std::vector<std::string> labels_of(const DatasetIndex& index) {
  std::vector<std::string> out;
  for (const auto& s : index.samples) out.push_back(index.classes.at(s.label));
  return out;
}

}  // namespace

TEST_CASE("Jester as downloaded: labels file order, id-label lists, frame folders",
          "[datasets][layouts]") {
  test::TempDir dir;
  const auto classes = test::write_standard_dataset("jester", dir.path());
  const DatasetSource s = source_at(dir.path());
  CHECK(resolve_layout(s) == DatasetLayout::kJester);
  const DatasetIndex train = open_split(s, DatasetSplit::kTrain);
  CHECK(train.classes == classes);  // the labels file's order, not sorted
  REQUIRE(train.samples.size() == 6);
  CHECK(train.samples[0].path == (dir.path() / "20bn-jester-v1" / "34870").string());
  CHECK(labels_of(train)[0] == "Swiping Left");
  CHECK(train.missing == 0);
  const DatasetIndex val = open_split(s, DatasetSplit::kVal);
  CHECK(val.samples.size() == 3);
  CHECK(val.source == (dir.path() / "jester-v1-validation.csv").string());
  // The published test list has ids only.
  CHECK_THAT(
      test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTest); }),
      Catch::Contains("published test list carries no labels") && Catch::Contains("data.test"));

  // Errors name the file and the line.
  test::write_file(dir.path() / "jester-v1-train.csv", "34870;Swiping Left\n34871,Swiping Left\n");
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTrain); }),
             Catch::Contains("jester-v1-train.csv:2: expected 'id;label'") &&
                 Catch::Contains("'34871,Swiping Left'"));
  test::write_file(dir.path() / "jester-v1-train.csv", "34870;Swiping Left\n\n34871;Swiping Up\n");
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTrain); }),
             Catch::Contains("jester-v1-train.csv:3: unknown class 'Swiping Up'") &&
                 Catch::Contains("'Doing other things'"));
  // A byte order mark is not part of the first id; an id is a folder name, not a path.
  test::write_file(dir.path() / "jester-v1-train.csv",
                   "\xEF\xBB\xBF"
                   "34870;Swiping Left\n");
  CHECK(open_split(s, DatasetSplit::kTrain).missing == 0);
  test::write_file(dir.path() / "jester-v1-train.csv", "../../etc;Swiping Left\n");
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTrain); }),
             Catch::Contains("jester-v1-train.csv:1: the id '../../etc' is not a folder name"));
  // A listed clip that is not there is counted; the loader deals with it.
  test::write_file(dir.path() / "jester-v1-train.csv", "34870;Swiping Left\n11111;Swiping Left\n");
  const DatasetIndex partial = open_split(s, DatasetSplit::kTrain);
  CHECK(partial.samples.size() == 2);
  CHECK(partial.missing == 1);
}

TEST_CASE("Something-Something V2 as downloaded: labels.json, templates, webm by id",
          "[datasets][layouts]") {
  test::TempDir dir;
  const auto classes = test::write_standard_dataset("ssv2", dir.path());
  const DatasetSource s = source_at(dir.path());
  CHECK(resolve_layout(s) == DatasetLayout::kSsv2);
  const DatasetIndex train = open_split(s, DatasetSplit::kTrain);
  CHECK(train.classes == classes);
  CHECK(classes[2] == "Holding something next to something");  // the template, brackets gone
  REQUIRE(train.samples.size() == 6);
  CHECK(labels_of(train)[5] == "Holding something next to something");
  CHECK(train.samples[0].path ==
        (dir.path() / "20bn-something-something-v2" / "78687.webm").string());
  CHECK(train.missing == 0);
  CHECK(open_split(s, DatasetSplit::kVal).samples.size() == 3);
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTest); }),
             Catch::Contains("carries no labels"));

  // A template labels.json does not list is named by its JSON path.
  test::write_file(dir.path() / "labels" / "train.json",
                   R"([{"id": "78687", "label": "putting a cup on a surface",
                        "template": "Putting [something] on a surface", "placeholders": ["a cup"]},
                       {"id": "78688", "label": "spinning a cup",
                        "template": "Spinning [something]", "placeholders": ["a cup"]}])");
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTrain); }),
             Catch::Contains("train.json: [1].template: unknown class 'Spinning something'"));
  test::write_file(dir.path() / "labels" / "train.json", R"([{"id": 78687}])");
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTrain); }),
             Catch::Contains("train.json: [0]: expected an object with \"id\" and \"template\""));
  test::write_file(dir.path() / "labels" / "train.json", R"([{"id": "1", "template": )");
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTrain); }),
             Catch::Contains("train.json: not valid JSON"));
  test::write_file(dir.path() / "labels" / "labels.json", R"({"a": "0", "b": "2"})");
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kVal); }),
             Catch::Contains("labels.json: [\"b\"]: index 2, expected 1"));
}

TEST_CASE("UCF101 as downloaded: classInd, split lists, val from the train list's groups",
          "[datasets][layouts]") {
  test::TempDir dir;
  const auto classes = test::write_standard_dataset("ucf101", dir.path());
  DatasetSource s = source_at(dir.path());
  CHECK(resolve_layout(s) == DatasetLayout::kUcf101);
  const DatasetIndex train = open_split(s, DatasetSplit::kTrain);
  const DatasetIndex val = open_split(s, DatasetSplit::kVal);
  const DatasetIndex test = open_split(s, DatasetSplit::kTest);
  CHECK(train.classes == classes);
  // The train list's groups: g08 (the lowest sixth, at least one: val), g11 and g12 (train).
  CHECK(train.samples.size() == 6);
  CHECK(val.samples.size() == 3);
  CHECK(test.samples.size() == 3);
  for (const auto& sample : val.samples) CHECK_THAT(sample.path, Catch::Contains("_g08_"));
  for (const auto& sample : train.samples) CHECK_THAT(sample.path, !Catch::Contains("_g08_"));
  // The download's quirk: HandstandPushups/v_HandStandPushups_...
  CHECK(test.samples[1].path ==
        (dir.path() / "UCF-101" / "HandstandPushups" / "v_HandStandPushups_g01_c02.avi").string());
  CHECK(labels_of(test)[1] == "HandstandPushups");
  CHECK(test.missing == 0);

  // A list named for val that is not a train list is read whole.
  s.files[1] = "ucfTrainTestlist/testlist01.txt";
  CHECK(open_split(s, DatasetSplit::kVal).samples.size() == 3);
  s.files[1] = "";

  s.fold = 2;  // not in the fixture
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTrain); }),
             Catch::Contains("'trainlist02.txt'") && Catch::Contains("ucfTrainTestlist"));
  s.fold = 1;
  test::write_file(dir.path() / "ucfTrainTestlist" / "trainlist01.txt",
                   "YoYo/v_YoYo_g11_c01.avi 3\r\nYoYo/v_YoYo_g12_c01.avi 1\r\n");
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTrain); }),
             Catch::Contains("trainlist01.txt:2: class number 1 is 'ApplyEyeMakeup'") &&
                 Catch::Contains("folder is 'YoYo'"));
  test::write_file(dir.path() / "ucfTrainTestlist" / "trainlist01.txt", "YoYo.avi 3\n");
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTrain); }),
             Catch::Contains("trainlist01.txt:1: expected 'Class/v_Class_gXX_cYY.avi"));
  test::write_file(dir.path() / "ucfTrainTestlist" / "classInd.txt", "1 ApplyEyeMakeup\n3 YoYo\n");
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTest); }),
             Catch::Contains("classInd.txt:2: class number 2 expected, got '3'"));
}

TEST_CASE("Kinetics as downloaded: CSV with youtube ids and times, per-class or flat folders",
          "[datasets][layouts]") {
  test::TempDir dir;
  const auto classes = test::write_standard_dataset("kinetics", dir.path());
  const DatasetSource s = source_at(dir.path());
  CHECK(resolve_layout(s) == DatasetLayout::kKinetics);
  const DatasetIndex train = open_split(s, DatasetSplit::kTrain);
  CHECK(train.classes == classes);  // sorted labels: Kinetics ships no class list
  REQUIRE(train.samples.size() == 6);
  CHECK(train.samples[2].path ==
        (dir.path() / "train" / "playing guitar" / "yt1_0-Xq_000001_000011.mp4").string());
  CHECK(train.missing == 0);
  const DatasetIndex val = open_split(s, DatasetSplit::kVal, train.classes);  // flat val/
  CHECK(val.samples.size() == 3);
  CHECK(val.missing == 0);
  const DatasetIndex test =
      open_split(s, DatasetSplit::kTest, train.classes);  // test/playing_guitar/
  CHECK(test.missing == 0);
  CHECK(labels_of(test) == classes);
  // Clips in videos/ are found there.
  fs::create_directories(dir.path() / "videos");
  fs::rename(dir.path() / "train", dir.path() / "videos" / "train");
  CHECK(open_split(s, DatasetSplit::kTrain).missing == 0);

  test::write_file(dir.path() / "annotations" / "train.csv",
                   "label,youtube_id,time_start,time_end,split\nzumba,abc,1.5,11,train\n");
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTrain); }),
             Catch::Contains("train.csv:2: time_start: expected whole seconds, got '1.5'"));
  test::write_file(dir.path() / "annotations" / "train.csv", "label,id,time_start,time_end\n");
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTrain); }),
             Catch::Contains("train.csv:1: header has no 'youtube_id' column"));
  // Clips that were never downloaded (deleted videos are common) are counted.
  test::write_file(dir.path() / "annotations" / "train.csv",
                   "label,youtube_id,time_start,time_end,split\nzumba,gone,0,10,train\n"
                   "zumba,yt2_0-Xq,2,12,train\n");
  const DatasetIndex partial = open_split(s, DatasetSplit::kTrain);
  CHECK(partial.samples.size() == 2);
  CHECK(partial.missing == 1);
}

TEST_CASE("A dataset's layout is detected from its files, or named", "[datasets][layouts]") {
  test::TempDir dir;
  DatasetSource s = source_at(dir.path());
  // Nothing known there: the message lists what was looked for.
  test::write_file(dir.path() / "readme.txt", "hello\n");
  CHECK_THAT(test::error_of<DataError>([&] { resolve_layout(s); }),
             Catch::Contains("cannot tell the dataset's layout") &&
                 Catch::Contains("jester-v1-labels.csv") && Catch::Contains("data.layout"));
  // A manifest dataset (today's layout), with its classes.txt.
  test::write_file(dir.path() / "train.csv", "path,label\na.avi,b\nc.avi,a\n");
  test::write_file(dir.path() / "val.csv", "path,label\nd.avi,a\n");
  test::write_file(dir.path() / "classes.txt", "b\na\n");
  CHECK(resolve_layout(s) == DatasetLayout::kCsv);
  CHECK(open_split(s, DatasetSplit::kTrain).classes == std::vector<std::string>{"b", "a"});
  CHECK(open_split(s, DatasetSplit::kTrain).missing == 2);
  CHECK_THAT(test::error_of<DataError>([&] { open_split(s, DatasetSplit::kTest); }),
             Catch::Contains("test.csv: the test split is not there"));
  // A named split file decides the layout by its kind.
  s.files[0] = "lists/my-train.txt";
  CHECK(resolve_layout(s) == DatasetLayout::kUcf101);
  s.files[0] = "train.json";
  CHECK(resolve_layout(s) == DatasetLayout::kSsv2);
  test::write_file(dir.path() / "j.csv", "1;a\n");
  s.files[0] = "j.csv";
  CHECK(resolve_layout(s) == DatasetLayout::kJester);
  s.layout = DatasetLayout::kCsv;  // a named layout wins
  CHECK(resolve_layout(s) == DatasetLayout::kCsv);
  // Names and errors of the layout key.
  CHECK(dataset_layout_names().parse("kinetics") == DatasetLayout::kKinetics);
  CHECK_THROWS_WITH(dataset_layout_names().parse("hmdb"),
                    Catch::Contains("unknown dataset layout 'hmdb'"));
}
