#!/usr/bin/python3
"""Speed and memory of an exported model as a consuming service sees them.

Stock PyTorch, none of this project's code: for every width, batch size and
thread count, a fresh process loads the file with torch.jit.load, sets the
width and the thread count (torch.set_num_threads, nothing else), warms up,
then times forward() (median of RUNS). Working memory is the peak resident
memory while running beyond what the loaded model holds (the peak is reset
after loading through /proc/self/clear_refs).

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
        for _ in range(20):
            model(x)
        for _ in range(runs):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    peak_kib = status_kib("VmHWM")
    print(json.dumps({"ms": 1000 * statistics.median(times), "loaded_mib": loaded_kib / 1024,
                      "working_mib": (peak_kib - loaded_kib) / 1024}))


def measure(model_path, width, batch, threads, runs):
    out = subprocess.run([sys.executable, __file__, "--child", model_path, str(width), str(batch),
                          str(threads), str(runs)], check=True, capture_output=True, text=True)
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
        for batch in [int(b) for b in a.batches.split(",")]:
            rows = [(w, measure(a.model, w, batch, threads, a.runs)) for w in widths]
            widest = rows[-1][1]
            print(f"\nbatch {batch}, {threads} thread(s)")
            print("  width  MFLOPs      ms  speed-up  FLOP ratio  speed-up/FLOP ratio  "
                  "RSS after load (MiB)  working MiB (share of widest's)")
            for w, r in rows:
                speedup = widest["ms"] / r["ms"]
                flop_ratio = cost[widths[-1]] / cost[w]
                share = r["working_mib"] / widest["working_mib"] if widest["working_mib"] > 0 else 0
                print(f"  {w:5.2f} {cost[w]:7.1f} {r['ms']:7.3f} {speedup:8.2f}x {flop_ratio:10.2f}x"
                      f" {speedup / flop_ratio:20.2f} {r['loaded_mib']:21.1f} "
                      f"{r['working_mib']:8.1f} ({100 * share:.0f}%)")
                results.append({"width": w, "batch": batch, "threads": threads,
                                "mflops": cost[w], **r, "speedup": speedup,
                                "flop_ratio": flop_ratio})
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"model": a.model, "runs": a.runs, "results": results}, f, indent=2)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    else:
        main()
