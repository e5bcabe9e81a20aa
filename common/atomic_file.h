// Files that are whole or absent: what checkpoints, exported models, results
// and run logs are written through, so a crash or a full disk at any moment
// leaves the previous version intact.
#pragma once

#include <string>

namespace adaptive {

// Writes `bytes` to `path` atomically: a temp file beside it (PATH.tmp),
// written, fsynced, renamed into place, then the folder fsynced so the rename
// itself survives a power cut. Throws std::runtime_error naming the path and
// the system error (e.g. "PATH.tmp: cannot write: No space left on device");
// no temp file is left behind.
void write_file_atomically(const std::string& path, const std::string& bytes);

// Fsyncs the folder `dir`, making renames and links in it durable. Throws
// std::runtime_error naming the folder.
void sync_directory(const std::string& dir);

}  // namespace adaptive
