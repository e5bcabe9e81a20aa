#include "common/stop_signals.h"

#include <csignal>

namespace adaptive {
namespace {

std::atomic<bool> stop_requested{false};
volatile std::sig_atomic_t signal_received = 0;

extern "C" void on_stop_signal(int signal) {
  if (stop_requested.load()) {
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  signal_received = signal;
  stop_requested.store(true);
}

}  // namespace

const std::atomic<bool>& install_stop_signals() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  return stop_requested;
}

int stop_signal() {
  return static_cast<int>(signal_received);
}

}  // namespace adaptive
