// Files that are whole or absent: what checkpoints, exported models, results
// and run logs are written through, so a crash or a full disk at any moment
// leaves the previous version intact.
#pragma once

#include <string>

namespace adaptive {

// Writes `bytes` to `path` atomically: into a temporary file of a unique
// name in the same folder ("PATH.XXXXXX.tmp", so two writers never share
// one), written, fsynced, renamed into place, then the folder fsynced so the
// rename itself survives a power cut. Throws std::runtime_error naming
// `path` and the system error (e.g. "PATH: cannot write: No space left on
// device"); no temporary file is left behind.
//
// A symbolic link is followed: its target is the file replaced. A path that
// exists and is not a regular file (a FIFO, /dev/null, /dev/stdout, a
// terminal) is written in place, as a shell redirection would: there is no
// file to replace, and atomicity is for regular files.
void write_file_atomically(const std::string& path, const std::string& bytes);

// Fsyncs the folder `dir`, making renames and links in it durable. Throws
// std::runtime_error naming the folder.
void sync_directory(const std::string& dir);

}  // namespace adaptive
