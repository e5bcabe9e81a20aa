#!/usr/bin/python3
"""The demo's closing report: what the adaptive network and its policies did
on data no choice of the run was made on.

Usage: demo_report.py RUN
Reads RUN/test.json (adaptive-train evaluate --json on the test split) and the
summaries of RUN/streams/POLICY/*.jsonl (adaptive-infer on the test streams),
prints a short report and draws RUN/demo.png (accuracy against compute)."""
import glob
import json
import os
import sys


POLICY_NAMES = {"fixed": "full width", "confidence": "throttle (confidence)", "gate": "gate"}


def stream_totals(folder):
    """Sums over every stream's summary: segments right and in all, idle
    windows and false alarms among them, GFLOPs and full-width GFLOPs, CPU
    seconds (the run, and starting it) and model seconds."""
    keys = ("right", "segments", "idle", "false_alarms", "gflops", "full", "cpu_s",
            "startup_cpu_s", "model_s")
    t = dict.fromkeys(keys, 0)
    for path in sorted(glob.glob(os.path.join(folder, "*.jsonl"))):
        with open(path) as f:
            summary = json.loads(f.read().splitlines()[-1])
        truth = summary["truth"]
        t["right"] += truth["segments_correct"]
        t["segments"] += truth["segments"]
        t["idle"] += truth["idle_windows"]
        t["false_alarms"] += truth["false_alarms"]
        t["gflops"] += summary["gflops"]
        t["full"] += summary["gflops_full_width"]
        for k in ("cpu_s", "startup_cpu_s", "model_s"):
            t[k] += summary[k]
    return t


def share(part, whole):
    return 100 * part / whole if whole else 0


def main(run):
    with open(os.path.join(run, "test.json")) as f:
        test = json.load(f)
    widths = test["widths"]
    print(f"Accuracy on the {test['clips']} test clips ({test['split']}), per width:")
    print("  width   MFLOPs   top-1")
    for w in widths:
        print(f"  {w['width']:5.2f}  {w['mflops']:7.1f}   {100 * w['top1']:5.1f}%")

    policies = [p for p in ("fixed", "confidence", "gate")
                if glob.glob(os.path.join(run, "streams", p, "*.jsonl"))]
    totals = {p: stream_totals(os.path.join(run, "streams", p)) for p in policies}
    points = {}
    n_streams = len(glob.glob(os.path.join(run, "streams", "fixed", "*.jsonl")))
    print(f"\nOn {n_streams} test streams (40 s each, never used for tuning), one process per "
          f"stream, {os.cpu_count()} cores:")
    print("  policy                 segments right   false alarms    FLOPs  model time  CPU time")
    full = totals.get("fixed")
    for p in policies:
        t = totals[p]
        accuracy = share(t["right"], t["segments"])
        points[p] = (share(t["gflops"], t["full"]), accuracy)
        # Time and CPU against the full-width runs of the same streams.
        model = f"{share(t['model_s'], full['model_s']):5.1f}%" if full else "    -"
        cpu = f"{share(t['cpu_s'], full['cpu_s']):5.1f}%" if full else "    -"
        print(f"  {POLICY_NAMES[p]:22s} {t['right']:3d}/{t['segments']} ({accuracy:5.1f}%)  "
              f"{t['false_alarms']:3d}/{t['idle']} ({share(t['false_alarms'], t['idle']):4.1f}%)  "
              f"{points[p][0]:5.1f}%  {model:>9s}  {cpu:>8s}  ({t['cpu_s']:.1f} s)")
    print("  (FLOPs, model time and CPU time as a share of full width's; CPU time is the process's,"
          " user + system, from the first window to the summary; starting each process took "
          f"{full['startup_cpu_s'] / max(n_streams, 1):.2f} s more)" if full else "")
    if full and "confidence" in totals:
        t = totals["confidence"]
        lost = points["fixed"][1] - points["confidence"][1]
        print(f"  the throttle saved {100 - points['confidence'][0]:.0f}% of the FLOPs, "
              f"{100 - share(t['model_s'], full['model_s']):.0f}% of the model time and "
              f"{100 - share(t['cpu_s'], full['cpu_s']):.0f}% of the CPU time for "
              f"{'a loss of %.1f points' % lost if lost > 0 else 'no loss'} of segment accuracy")

    chart = os.path.join(run, "demo.png")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\nno chart: python3-matplotlib is not installed (scripts/setup.sh --with-plot)")
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot([w["mflops"] for w in widths], [100 * w["top1"] for w in widths], "o-")
    for w in widths:
        left.annotate(f"{w['width']:g}", (w["mflops"], 100 * w["top1"]),
                      textcoords="offset points", xytext=(4, -10))
    left.set(xlabel="MFLOPs per clip", ylabel="top-1 (%)", title="Test clips: one network, every width")
    for p, (flops_share, acc) in points.items():
        right.plot(flops_share, acc, "o", label=POLICY_NAMES[p])
    right.set(xlabel="% of full-width compute", ylabel="segments right (%)",
              title="Test streams: policies", xlim=(0, 110),
              ylim=(min(acc for _, acc in points.values()) - 10, 100))
    right.legend()
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(chart, dpi=100)
    print(f"\nchart: {chart}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
