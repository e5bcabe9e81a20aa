// Process setup a tool does once at start: compute threads, the BLAS
// library's threads, and how freed memory is kept. Process-wide settings, so
// they belong to the tools' mains, not to the libraries they call.
#pragma once

namespace adaptive {

// LibTorch's compute (intra-op) threads: `threads`, or one per core when it
// is 0; one inter-op thread. Call before any parallel work: LibTorch refuses
// to change them after. Returns the number of compute threads set.
int set_compute_threads(int threads);

// Threads of the BLAS library behind LibTorch's matrix products, when it is
// OpenBLAS (its own thread pool, apart from LibTorch's OpenMP threads; the
// two spinning at once on few cores slow batch-1 inference down). Returns
// false, changing nothing, for another BLAS.
bool set_blas_threads(int threads);

// Keeps the memory the process frees for its next allocations instead of
// handing it back to the system (glibc: no mmap for large blocks, no trimming
// of the heap). By default a freed block over 32 MiB, or the heap's free top,
// goes back, and the next forward pass page-faults it in again: on the
// Jester-scale model at batch 8 that was a third to a half of a width's time
// (docs/benchmarks.md, "As a consumer loads it"). The resident size then
// stays at its peak. Returns false, changing nothing, where malloc is not
// glibc's (another C library, or a sanitizer's).
bool keep_freed_memory();

}  // namespace adaptive
