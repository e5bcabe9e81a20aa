// Shared pieces of the libFuzzer targets: a scratch file for parsers that
// only read paths, and the way a finding stops the fuzzer.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>

namespace adaptive_fuzz {

// Prints `what` and aborts: libFuzzer saves the input as crash-<sha1>.
[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\n==FINDING== %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// An exception the parser does not document for bad input.
[[noreturn]] inline void unexpected_exception(const char* where, const std::exception& e) {
  finding(std::string(where) + " threw an undocumented " + typeid(e).name() + ": " + e.what());
}

// One file per fuzzing process, rewritten for every input and removed at exit.
// In /dev/shm when it exists (no disk writes at thousands of inputs a second).
class ScratchFile {
 public:
  ScratchFile(const std::string& stem, const std::string& extension) {
    const char* tmp = std::getenv("TMPDIR");
    const std::string dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : tmp ? tmp : "/tmp";
    path_ = dir + "/adaptive_fuzz_" + stem + "_" + std::to_string(getpid()) + extension;
  }
  ~ScratchFile() { std::remove(path_.c_str()); }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  const std::string& path() const { return path_; }

  void write(const std::string& bytes) const {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f)) {
      std::perror(path_.c_str());
      std::abort();
    }
  }

 private:
  std::string path_;
};

}  // namespace adaptive_fuzz
