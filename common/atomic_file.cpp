#include "common/atomic_file.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace adaptive {
namespace {

[[noreturn]] void system_error(const std::string& what, const std::string& path, int err) {
  throw std::runtime_error(path + ": " + what + ": " + std::strerror(err));
}

// A file descriptor, closed when it goes out of scope.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }
  // Closes it now; the error close() reported, or 0.
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Writes all of `bytes` to `fd`; 0, or the errno of the write that failed.
int write_all(int fd, const std::string& bytes) {
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    written += static_cast<size_t>(n);
  }
  return 0;
}

// `path` when it is not a symbolic link; its final target when it is.
std::string resolved(const std::string& path) {
  std::error_code ec;
  if (!fs::is_symlink(fs::symlink_status(path, ec))) return path;
  const fs::path target = fs::weakly_canonical(path, ec);
  return ec ? path : target.string();
}

// A path that exists and is no regular file: written in place.
void write_in_place(const std::string& path, const std::string& bytes) {
  Descriptor fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (fd.get() < 0) system_error("cannot open for writing", path, errno);
  if (const int err = write_all(fd.get(), bytes)) system_error("cannot write", path, err);
  if (const int err = fd.close()) system_error("cannot write", path, err);
}

}  // namespace

void sync_directory(const std::string& dir) {
  Descriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) system_error("cannot open folder to sync", dir, errno);
  if (::fsync(fd.get()) != 0) system_error("cannot sync folder", dir, errno);
}

void write_file_atomically(const std::string& requested, const std::string& bytes) {
  // stat() follows links, /dev/stdout's and /proc/self/fd's too, whose
  // targets ("pipe:[123]") are no paths.
  struct stat st;
  if (::stat(requested.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) system_error("cannot write", requested, EISDIR);
    write_in_place(requested, bytes);
    return;
  }
  const std::string path = resolved(requested);
  const std::string suffix = ".tmp";
  std::string name = path + ".XXXXXX" + suffix;
  std::vector<char> buffer(name.begin(), name.end());
  buffer.push_back('\0');
  Descriptor fd(::mkstemps(buffer.data(), static_cast<int>(suffix.size())));
  if (fd.get() < 0) system_error("cannot create a file beside it", path, errno);
  const std::string tmp(buffer.data());
  // Removes the temporary file, then reports the failure.
  const auto fail = [&](const std::string& what, int err) {
    ::unlink(tmp.c_str());
    system_error(what, path, err);
  };
  if (::fchmod(fd.get(), 0644) != 0) fail("cannot set permissions", errno);
  if (const int err = write_all(fd.get(), bytes)) fail("cannot write", err);
  if (::fsync(fd.get()) != 0) fail("cannot flush", errno);
  if (const int err = fd.close()) fail("cannot flush", err);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename into place", errno);
  const fs::path parent = fs::path(path).parent_path();
  sync_directory(parent.empty() ? "." : parent.string());
}

}  // namespace adaptive
