// Threads beside LibTorch's compute threads, and how busy a thread is.
//
// LibTorch's CPU ops run in parallel on an OpenMP team. A thread that runs a
// parallel op gets a team of its own, and once the OpenMP runtime manages more
// threads than the machine has cores it stops spinning between parallel
// regions: the compute threads then sleep and wake for every op, and training
// ran at 55-60% of the model step's own speed on 2 cores (docs/benchmarks.md,
// "Training speed"). A helper thread therefore runs its LibTorch ops serially.
#pragma once

namespace adaptive {

// Makes LibTorch ops called later on the calling thread run on it alone,
// leaving the other threads' setting as it is. Call first thing in a helper
// thread; never on the thread that runs the model.
void make_helper_thread_serial();

// Sets how many threads LibTorch ops called later on the calling thread run
// on, as at::set_num_threads does after the process's first setting
// (set_compute_threads in common/process.h), without what at::set_num_threads
// also does: re-create the thread pool LibTorch keeps for its mobile kernels
// (caffe2's pthreadpool, for XNNPACK and QNNPACK, which this project's float
// CPU models do not use). The new pool's threads spin for their first
// milliseconds: on this project's 2-core machine the first 2-thread conv
// after a change took 15 ms and 30 ms of CPU instead of 0.24 ms. A run whose
// widths differ in threads changes the count at each width change, and the
// warm-up that chooses the counts at every pass it times. Falls back to
// at::set_num_threads where LibTorch's OpenMP runtime is not found.
void set_intra_op_threads(int threads);

// CPU time the calling thread has used, in seconds. Over a model step, its
// share of the step's wall time says how busy the compute threads were: the
// calling thread is one of them, and it sleeps when the team does.
double thread_cpu_seconds();

}  // namespace adaptive
