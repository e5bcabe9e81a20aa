#!/usr/bin/python3
"""Speed and memory of an exported model as a consuming service sees them.

Stock PyTorch, none of this project's code: for every width, batch size and
thread count, a fresh process loads the file with torch.jit.load, sets the
width and the thread count (torch.set_num_threads, nothing else), warms up,
then times forward() (median of RUNS); the first three calls are shown apart
(TorchScript's executor profiles and optimises the graph in them). Speed is
also given as a share of the machine's matmul peak at the same threads.
Working memory is the peak resident
memory while running beyond what the loaded model holds (the peak is reset
after loading through /proc/self/clear_refs). Tensor memory is the peak of
what PyTorch's CPU allocator holds during one more call (activations and the
workspace ATen allocates as tensors, from the profiler's allocation events):
working memory beyond it is the runtime's own (oneDNN's primitives and
scratchpads, the executor's graphs, the C library's heap).

Usage: bench_consumer.py MODEL [--batches 1,8] [--threads 1,2] [--runs 200] [--json FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(model_path, width, batch, threads, runs):
    import torch

    torch.set_num_threads(threads)
    extra = {"adaptive.json": ""}
    model = torch.jit.load(model_path, _extra_files=extra)
    meta = json.loads(extra["adaptive.json"])
    model.set_width(width)
    shape = meta["input"]
    x = torch.randn(batch, shape["channels"], shape["frames"], shape["height"], shape["width"])
    loaded_kib = status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current resident size
    times = []
    with torch.no_grad():
        first = []  # the executor profiles, then optimises the graph, in its first calls
        for _ in range(3):
            t = time.perf_counter()
            model(x)
            first.append(1000 * (time.perf_counter() - t))
        for _ in range(17):
            model(x)
        for _ in range(runs):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    peak_kib = status_kib("VmHWM")
    print(json.dumps({"ms": 1000 * statistics.median(times), "first_calls_ms": first,
                      "loaded_mib": loaded_kib / 1024,
                      "working_mib": (peak_kib - loaded_kib) / 1024,
                      "tensor_mib": tensor_peak_mib(model, x)}))


def tensor_peak_mib(model, x):
    """Peak bytes held by PyTorch's CPU allocator during one call, in MiB."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as p:
        model(x)
    events = [e for e in p.profiler.kineto_results.events() if e.name() == "[memory]"]
    held = peak = 0
    for e in sorted(events, key=lambda e: e.start_us()):
        held += e.nbytes()
        peak = max(peak, held)
    return peak / 2**20


def peak_child(threads):
    """The machine's matmul peak at `threads` (GFLOP/s): best of 2048x2048 products."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    best = float("inf")
    for _ in range(8):
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    print(json.dumps({"gflops": 2 * 2048**3 / best / 1e9}))


def in_child(*args, env=None):
    out = subprocess.run([sys.executable, __file__, *map(str, args)], check=True,
                         capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--json")
    a = ap.parse_args()
    with open(a.model, "rb"):
        pass  # a clear error for a missing file before any child starts
    import zipfile

    meta = None
    with zipfile.ZipFile(a.model) as z:
        for name in z.namelist():
            if name.endswith("extra/adaptive.json"):
                meta = json.loads(z.read(name))
    if meta is None:
        sys.exit(f"{a.model}: no adaptive.json in the file (not an exported adaptive model)")
    cost = {c["width"]: c["mflops"] for c in meta["cost"]}
    widths = meta["widths"]
    size_mib = os.path.getsize(a.model) / 2**20
    print(f"{a.model}: {size_mib:.2f} MiB on disk; stock torch, a fresh process per row; "
          f"median of {a.runs} runs")
    results = []
    for threads in [int(t) for t in a.threads.split(",")]:
        # The peak with every pool held to `threads` (OpenBLAS has its own).
        pools = {k: str(threads) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
        peak = in_child("--peak", threads, env={**os.environ, **pools})["gflops"]
        for batch in [int(b) for b in a.batches.split(",")]:
            rows = [(w, in_child("--child", a.model, w, batch, threads, a.runs)) for w in widths]
            widest = rows[-1][1]
            print(f"\nbatch {batch}, {threads} thread(s); matmul peak {peak:.1f} GFLOP/s")
            print("  width  MFLOPs      ms  speed-up  FLOP ratio  speed-up/FLOP ratio  % of peak  "
                  "first 3 calls (ms)  RSS after load (MiB)  working MiB (share of widest's)  "
                  "tensor MiB (share)")
            for w, r in rows:
                speedup = widest["ms"] / r["ms"]
                flop_ratio = cost[widths[-1]] / cost[w]
                efficiency = cost[w] * batch / r["ms"] / peak  # MFLOP/ms = GFLOP/s
                share = r["working_mib"] / widest["working_mib"] if widest["working_mib"] > 0 else 0
                tensor_share = r["tensor_mib"] / widest["tensor_mib"] if widest["tensor_mib"] else 0
                first = "/".join(f"{t:.1f}" for t in r["first_calls_ms"])
                print(f"  {w:5.2f} {cost[w]:7.1f} {r['ms']:7.3f} {speedup:8.2f}x {flop_ratio:10.2f}x"
                      f" {speedup / flop_ratio:20.2f} {100 * efficiency:9.0f}% {first:>19s}"
                      f" {r['loaded_mib']:21.1f} {r['working_mib']:8.1f} ({100 * share:.0f}%)"
                      f" {r['tensor_mib']:18.1f} ({100 * tensor_share:.0f}%)")
                results.append({"width": w, "batch": batch, "threads": threads,
                                "mflops": cost[w], **r, "speedup": speedup,
                                "flop_ratio": flop_ratio, "peak_gflops": peak,
                                "share_of_peak": efficiency})
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"model": a.model, "runs": a.runs, "results": results}, f, indent=2)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--peak":
        peak_child(int(sys.argv[2]))
    else:
        main()
