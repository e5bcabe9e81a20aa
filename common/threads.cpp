#include "common/threads.h"

#include <ATen/Parallel.h>

#include <dlfcn.h>
#include <time.h>

namespace adaptive {

void make_helper_thread_serial() {
  // omp_set_num_threads changes the calling thread's count only.
  set_intra_op_threads(1);
}

void set_intra_op_threads(int threads) {
  // This thread's first LibTorch query sets its OpenMP thread count to the
  // process-wide one; do it now, so that it cannot undo the line below later.
  (void)at::get_num_threads();
  // Looked up in the OpenMP runtime LibTorch loaded, so this code needs no
  // OpenMP flags (a second runtime would make matters worse).
  using SetThreads = void (*)(int);
  static const auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  if (set)
    set(threads);
  else
    at::set_num_threads(threads);
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace adaptive
