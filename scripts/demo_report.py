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
    """Segments right, segments, GFLOPs and full-width GFLOPs over every stream."""
    right = segments = gflops = full = 0
    for path in sorted(glob.glob(os.path.join(folder, "*.jsonl"))):
        with open(path) as f:
            summary = json.loads(f.read().splitlines()[-1])
        right += summary["truth"]["segments_correct"]
        segments += summary["truth"]["segments"]
        gflops += summary["gflops"]
        full += summary["gflops_full_width"]
    return right, segments, gflops, full


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
    points = {}
    n_streams = len(glob.glob(os.path.join(run, "streams", "fixed", "*.jsonl")))
    print(f"\nOn {n_streams} test streams (40 s each, never used for tuning), gestures named right:")
    for p in policies:
        right, segments, gflops, full = stream_totals(os.path.join(run, "streams", p))
        share = gflops / full if full else 0
        points[p] = (100 * share, 100 * right / segments if segments else 0)
        print(f"  {POLICY_NAMES[p]:22s} {right:3d}/{segments} ({points[p][1]:5.1f}%) "
              f"at {points[p][0]:5.1f}% of full-width compute")
    if "fixed" in points and "confidence" in points:
        saved = 100 - points["confidence"][0]
        lost = points["fixed"][1] - points["confidence"][1]
        print(f"  the throttle saved {saved:.0f}% of the compute for "
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
    for p, (share, acc) in points.items():
        right.plot(share, acc, "o", label=POLICY_NAMES[p])
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
