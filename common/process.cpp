#include "common/process.h"

#include <algorithm>
#include <thread>

#include <ATen/Parallel.h>

#include <dlfcn.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace adaptive {

int set_compute_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  at::set_num_interop_threads(1);
  return threads;
}

bool set_blas_threads(int threads) {
  using SetThreads = void (*)(int);
  auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (!set) return false;
  set(threads);
  return true;
}

bool keep_freed_memory() {
#ifdef __GLIBC__
  constexpr int kNever = 1 << 30;  // bytes: beyond any heap top this keeps
  return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, kNever) == 1;
#else
  return false;
#endif
}

}  // namespace adaptive
