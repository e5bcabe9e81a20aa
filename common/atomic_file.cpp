#include "common/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace adaptive {
namespace {

[[noreturn]] void system_error(const std::string& what, const std::string& path) {
  throw std::runtime_error(path + ": " + what + ": " + std::strerror(errno));
}

// Removes `tmp` after a failure, keeping the failure's errno for the message.
[[noreturn]] void discard(const std::string& tmp, const std::string& what,
                          const std::string& path) {
  const int err = errno;
  ::unlink(tmp.c_str());
  errno = err;
  system_error(what, path);
}

}  // namespace

void sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) system_error("cannot open folder to sync", dir);
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    system_error("cannot sync folder", dir);
  }
  ::close(fd);
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) system_error("cannot create", tmp);
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      errno = err;
      discard(tmp, "cannot write", tmp);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) discard(tmp, "cannot flush", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) discard(tmp, "cannot rename into place", path);
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  sync_directory(parent.empty() ? "." : parent.string());
}

}  // namespace adaptive
