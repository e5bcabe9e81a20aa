// CPU time, as a device pays it: the toolkit's energy proxy where the
// machine exposes no energy counter (docs/inference-output.md).
#pragma once

#include <pthread.h>

namespace adaptive {

// User plus system CPU seconds of the whole process so far (getrusage).
double process_cpu_s();
// CPU seconds of the calling thread so far.
double thread_cpu_s();
// CPU seconds of thread `thread` so far (its CPU clock); -1 if it cannot be read.
double thread_cpu_s(pthread_t thread);

// The CPU package's energy counter in joules (Linux powercap RAPL,
// /sys/class/powercap/intel-rapl:0), or -1 where the machine exposes none or
// it cannot be read. It wraps around: difference two readings with
// energy_between.
double package_energy_j();
// Joules from reading `before` to `after` (either < 0: -1).
double energy_between(double before, double after);

}  // namespace adaptive
