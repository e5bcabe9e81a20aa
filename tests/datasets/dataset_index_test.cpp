#include "datasets/dataset_index.h"

#include <catch2/catch.hpp>

#include "datasets/errors.h"
#include "test_support.h"

using namespace adaptive;
using adaptive::test::TempDir;
using adaptive::test::write_file;
namespace fs = std::filesystem;

namespace {
using Classes = std::vector<std::string>;
}  // namespace

TEST_CASE("folder-per-class layout: classes sorted, clips sorted", "[datasets][index]") {
  TempDir dir;
  write_file(dir.path() / "b_class" / "2.avi", "x");
  write_file(dir.path() / "b_class" / "1.MP4", "x");
  write_file(dir.path() / "b_class" / "notes.txt", "not a sample");
  write_file(dir.path() / "a_class" / "framedir" / "00001.jpg", "x");
  const DatasetIndex index = index_class_folders(dir.str());
  CHECK(index.classes == Classes{"a_class", "b_class"});
  REQUIRE(index.samples.size() == 3);
  CHECK(index.samples[0].path == dir.str("a_class/framedir"));
  CHECK(index.samples[0].label == 0);
  CHECK(index.samples[1].path == dir.str("b_class/1.MP4"));
  CHECK(index.samples[2].path == dir.str("b_class/2.avi"));
  CHECK(index.samples[2].label == 1);
  CHECK(index.class_counts() == std::vector<int64_t>{1, 2});
}

TEST_CASE("a class list fixes label order and must match the folders", "[datasets][index]") {
  TempDir dir;
  write_file(dir.path() / "left" / "1.avi", "x");
  write_file(dir.path() / "right" / "1.avi", "x");
  write_file(dir.str("classes.txt"), "# gestures\nright\n\nleft\n");
  const auto classes = read_class_list(dir.str("classes.txt"));
  CHECK(classes == Classes{"right", "left"});
  const DatasetIndex index = index_class_folders(dir.str(), classes);
  CHECK(index.samples[0].label == 0);
  CHECK(index.samples[0].path == dir.str("right/1.avi"));

  CHECK(test::error_of<DataError>([&] {
          index_class_folders(dir.str(), Classes{"left", "up"});
        }) == dir.str("up") + ": class folder for 'up' is missing");
  write_file(dir.str("dup.txt"), "left\nright\nleft\n");
  CHECK(test::error_of<DataError>([&] { read_class_list(dir.str("dup.txt")); }) ==
        dir.str("dup.txt") + ":3: class 'left' listed twice");
}

TEST_CASE("folder layout errors: missing root, no class, no sample", "[datasets][index][bad]") {
  TempDir dir;
  CHECK(test::error_of<DataError>([&] { index_class_folders(dir.str("nope")); }) ==
        dir.str("nope") + ": dataset folder does not exist");
  CHECK(test::error_of<DataError>([&] { index_class_folders(dir.str()); }) ==
        dir.str() + ": no class folder (expected root/<class>/<clip>)");
  fs::create_directories(dir.path() / "a");
  CHECK(test::error_of<DataError>([&] { index_class_folders(dir.str()); }) ==
        dir.str() + ": dataset is empty (no video or frame folder)");
}

TEST_CASE("manifest: paths relative to the manifest, optional frame range", "[datasets][index]") {
  TempDir dir;
  write_file(dir.str("lists/train.csv"),
             "clips/a.avi,swipe\n"
             "clips/b.avi,rotate,3,20\n"
             "\"clips/with,comma.avi\",swipe,,\n"
             "# a comment\n");
  const DatasetIndex index = read_manifest(dir.str("lists/train.csv"));
  CHECK(index.classes == Classes{"rotate", "swipe"});
  REQUIRE(index.samples.size() == 3);
  CHECK(index.samples[0].path == dir.str("lists/clips/a.avi"));
  CHECK(index.samples[0].label == 1);
  CHECK(index.samples[0].end_frame == -1);
  CHECK(index.samples[1].start_frame == 3);
  CHECK(index.samples[1].end_frame == 20);
  CHECK(index.samples[2].path == dir.str("lists/clips/with,comma.avi"));
}

TEST_CASE("manifest with a header: columns by name, extra columns kept", "[datasets][index]") {
  TempDir dir;
  write_file(dir.str("m.csv"), "label,difficulty,path\nb,0.25,x.avi\na,0.75,y.avi\n");
  const DatasetIndex index = read_manifest(dir.str("m.csv"), Classes{"b", "a"});
  REQUIRE(index.samples.size() == 2);
  CHECK(index.samples[0].label == 0);
  CHECK(index.samples[1].label == 1);
  CHECK(index.samples[1].path == dir.str("y.avi"));
  CHECK(index.samples[1].extra.at("difficulty") == "0.75");
}

TEST_CASE("malformed manifests name the file, the line and the fault", "[datasets][index][bad]") {
  TempDir dir;
  const std::string m = dir.str("m.csv");
  auto error_for = [&](const std::string& text, const std::optional<Classes>& classes = {}) {
    write_file(m, text);
    return test::error_of<DataError>([&] { read_manifest(m, classes); });
  };
  CHECK(error_for("a.avi,x\nb.avi\n") ==
        m + ":2: expected at least 2 columns (path, label, start_frame, end_frame), got 1");
  CHECK(error_for("a.avi,x\nb.avi,y,1,2,3\n") ==
        m + ":2: expected at most 4 columns (path, label, start_frame, end_frame), got 5");
  CHECK(error_for("a.avi,x\n,x\n") == m + ":2: empty path");
  CHECK(error_for("a.avi,x\nb.avi,zebra\n", Classes{"x", "y"}) ==
        m + ":2: unknown label 'zebra' (known: x, y)");
  CHECK(error_for("a.avi,x,ten,20\n") ==
        m + ":1: start_frame must be a non-negative integer, got 'ten'");
  CHECK(error_for("a.avi,x,-1,20\n") ==
        m + ":1: start_frame must be a non-negative integer, got '-1'");
  CHECK(error_for("a.avi,x,30,20\n") == m + ":1: start_frame 30 is after end_frame 20");
  CHECK(error_for("\"a.avi,x\n") == m + ":1: unterminated quote");
  CHECK(error_for("path,label,path\n") == m + ":1: column 'path' appears twice in header");
  CHECK(error_for("# only comments\n\n") == m + ": manifest lists no sample");
  CHECK(test::error_of<DataError>([&] { read_manifest(dir.str("missing.csv")); }) ==
        dir.str("missing.csv") + ": cannot open manifest");
}

TEST_CASE("open_dataset_index picks the layout from the path", "[datasets][index]") {
  TempDir dir;
  write_file(dir.path() / "root" / "c" / "1.avi", "x");
  write_file(dir.str("list.CSV"), "root/c/1.avi,c\n");
  CHECK(open_dataset_index(dir.str("root")).samples.size() == 1);
  CHECK(open_dataset_index(dir.str("list.CSV")).samples.size() == 1);
}
