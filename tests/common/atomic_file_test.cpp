#include "common/atomic_file.h"

#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "test_support.h"

namespace fs = std::filesystem;
using namespace adaptive;

TEST_CASE("an atomic write replaces a file whole and leaves no temporary file",
          "[common][atomic_file]") {
  test::TempDir dir;
  const std::string path = dir.str("out.json");
  write_file_atomically(path, "first\n");
  write_file_atomically(path, "second, longer\n");
  CHECK(test::read_file(path) == "second, longer\n");
  CHECK(fs::status(path).permissions() == (fs::perms::owner_read | fs::perms::owner_write |
                                           fs::perms::group_read | fs::perms::others_read));
  CHECK(test::temp_files(dir.str()).empty());
  // A folder that does not exist: the error names the path, nothing is left.
  CHECK_THROWS_WITH(write_file_atomically(dir.str("missing/out.json"), "x"),
                    Catch::StartsWith(dir.str("missing/out.json") + ": cannot create") &&
                        Catch::Contains("No such file or directory"));
  // Onto a folder: refused, the folder kept.
  fs::create_directories(dir.path() / "folder");
  CHECK_THROWS_WITH(write_file_atomically(dir.str("folder"), "x"),
                    Catch::Contains("Is a directory"));
  CHECK(fs::is_directory(dir.path() / "folder"));
}

TEST_CASE("two writers of one path never share a temporary file", "[common][atomic_file]") {
  test::TempDir dir;
  const std::string path = dir.str("shared.txt");
  const std::string a(1 << 20, 'a'), b(1 << 20, 'b');
  for (int round = 0; round < 20; ++round) {
    auto first = std::async(std::launch::async, [&] { write_file_atomically(path, a); });
    auto second = std::async(std::launch::async, [&] { write_file_atomically(path, b); });
    REQUIRE_NOTHROW(first.get());
    REQUIRE_NOTHROW(second.get());
    const std::string got = test::read_file(path);
    CAPTURE(round);
    CHECK((got == a || got == b));  // one writer's bytes, whole
  }
  CHECK(test::temp_files(dir.str()).empty());
}

TEST_CASE("a FIFO or a link to one is written in place, not replaced", "[common][atomic_file]") {
  test::TempDir dir;
  const std::string fifo = dir.str("pipe");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::string link = dir.str("pipe_link");
  fs::create_symlink(fifo, link);
  for (const std::string& target : {fifo, link}) {
    CAPTURE(target);
    // A reader on the other end, as a program following the output would be.
    auto reader = std::async(std::launch::async, [&] { return test::read_file(fifo); });
    write_file_atomically(target, "through the pipe\n");
    CHECK(reader.get() == "through the pipe\n");
    struct stat st;
    REQUIRE(::stat(fifo.c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));  // still a FIFO
  }
  CHECK(fs::is_symlink(link));
  CHECK(test::temp_files(dir.str()).empty());
}

TEST_CASE("a link to a regular file replaces its target and keeps the link",
          "[common][atomic_file]") {
  test::TempDir dir;
  fs::create_directories(dir.path() / "real");
  const std::string target = dir.str("real/model.pt"), link = dir.str("model.pt");
  test::write_file(target, "old\n");
  fs::create_symlink(target, link);
  write_file_atomically(link, "new\n");
  CHECK(fs::is_symlink(link));
  CHECK(test::read_file(target) == "new\n");
  CHECK(test::temp_files(dir.str("real")).empty());
  CHECK(test::temp_files(dir.str()).empty());
}

TEST_CASE("a descriptor's path, as /dev/stdout is, is written in place", "[common][atomic_file]") {
  // /proc/self/fd/N of a pipe: a link whose target ("pipe:[123]") is no
  // path, what /dev/stdout leads to when the output is piped.
  int ends[2];
  REQUIRE(::pipe(ends) == 0);
  const std::string path = "/proc/self/fd/" + std::to_string(ends[1]);
  auto reader = std::async(std::launch::async, [&] {
    std::string got;
    char buf[256];
    for (ssize_t n; (n = ::read(ends[0], buf, sizeof buf)) > 0;) got.append(buf, n);
    return got;
  });
  write_file_atomically(path, "to whoever reads the pipe\n");
  ::close(ends[1]);
  CHECK(reader.get() == "to whoever reads the pipe\n");
  ::close(ends[0]);
}
