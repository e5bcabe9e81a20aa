#include "train/progress.h"

#include <cstdio>

#include <unistd.h>

#include "common/clock.h"

namespace adaptive {
namespace {
std::string clock_text(double seconds) {
  const int s = static_cast<int>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%02d:%02d", s / 60, s % 60);
  }
  return buf;
}
}  // namespace

ProgressReporter::ProgressReporter(int64_t epochs, int64_t steps_per_epoch, int every, bool enabled)
    : epochs_(epochs),
      steps_per_epoch_(steps_per_epoch),
      every_(every),
      enabled_(enabled),
      tty_(::isatty(STDERR_FILENO) != 0),
      start_(Clock::now()) {}

void ProgressReporter::step(int64_t epoch, int64_t step_in_epoch, double loss, double clips_per_s,
                            double lr) {
  if (!enabled_) return;
  ++steps_done_;
  const double elapsed = seconds_since(start_);
  const int64_t remaining =
      (epochs_ - epoch - 1) * steps_per_epoch_ + (steps_per_epoch_ - step_in_epoch - 1);
  const double eta = steps_done_ > 0 ? elapsed / steps_done_ * remaining : 0;
  if (tty_) {
    const int width = 24;
    const int filled =
        static_cast<int>(width * (step_in_epoch + 1) / std::max<int64_t>(1, steps_per_epoch_));
    std::fprintf(
        stderr,
        "\r\033[Kepoch %lld/%lld [%s%s] %lld/%lld  loss %.4f  %.1f clips/s  lr %.4g  ETA %s",
        static_cast<long long>(epoch + 1), static_cast<long long>(epochs_),
        std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
        static_cast<long long>(step_in_epoch + 1), static_cast<long long>(steps_per_epoch_), loss,
        clips_per_s, lr, clock_text(eta).c_str());
    bar_open_ = true;
  } else if ((step_in_epoch + 1) % every_ == 0 || step_in_epoch + 1 == steps_per_epoch_) {
    std::fprintf(
        stderr, "epoch %lld/%lld step %lld/%lld  loss %.4f  %.1f clips/s  lr %.4g  ETA %s\n",
        static_cast<long long>(epoch + 1), static_cast<long long>(epochs_),
        static_cast<long long>(step_in_epoch + 1), static_cast<long long>(steps_per_epoch_), loss,
        clips_per_s, lr, clock_text(eta).c_str());
  }
  std::fflush(stderr);
}

void ProgressReporter::message(const std::string& text) {
  if (!enabled_) return;
  if (bar_open_) std::fputs("\n", stderr);
  bar_open_ = false;
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

void ProgressReporter::end_epoch() {
  if (bar_open_) std::fputs("\n", stderr);
  bar_open_ = false;
}

}  // namespace adaptive
