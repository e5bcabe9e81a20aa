#include "common/process.h"

#include <cstdlib>
#include <cstring>

#include <sys/resource.h>

#include <catch2/catch.hpp>

// AddressSanitizer replaces malloc, and mallopt with it (GCC says so with
// __SANITIZE_ADDRESS__, Clang with __has_feature).
#if defined(__SANITIZE_ADDRESS__)
#define ADAPTIVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ADAPTIVE_ASAN 1
#endif
#endif

namespace {

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Page faults of allocating, writing and freeing `bytes`.
long faults_of_a_block(size_t bytes) {
  const long before = minor_faults();
  void* block = std::malloc(bytes);
  REQUIRE(block != nullptr);
  std::memset(block, 1, bytes);
  asm volatile("" : : "r"(block) : "memory");  // the compiler must not elide the block
  std::free(block);
  return minor_faults() - before;
}

}  // namespace

TEST_CASE("keep_freed_memory: a freed 64 MiB block is reused without page faults",
          "[common][memory]") {
#ifdef ADAPTIVE_ASAN
  CHECK_FALSE(adaptive::keep_freed_memory());
#else
  REQUIRE(adaptive::keep_freed_memory());
  constexpr size_t kBytes = size_t{64} << 20;  // over glibc's largest mmap threshold (32 MiB)
  const long first = faults_of_a_block(kBytes);
  const long second = faults_of_a_block(kBytes);
  CAPTURE(first, second);
  CHECK(first > 0);  // fresh memory faults in
  // Kept and reused; without the setting glibc unmaps it and the second block
  // faults in as much as the first.
  CHECK(second <= first / 10);
#endif
}
