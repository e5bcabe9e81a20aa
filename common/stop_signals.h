// SIGINT and SIGTERM as a request to stop cleanly. The first one sets a flag
// that the work checks (the trainer checkpoints, inference writes its
// summary and closes its video); a second one ends the process at once with
// the signal's default action. A tool that stopped this way exits with
// 128 + stop_signal(), as a shell expects of a signalled program.
#pragma once

#include <atomic>

namespace adaptive {

// Installs the handlers; returns the flag they set.
const std::atomic<bool>& install_stop_signals();
// The signal that asked to stop (0: none).
int stop_signal();

}  // namespace adaptive
