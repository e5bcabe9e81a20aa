#!/usr/bin/python3
"""Draws the confusion matrices of an evaluation, one panel per width.

Usage: plot_confusion.py EVAL.json [OUT.png]
EVAL.json: `adaptive-train evaluate --json` (classes, widths[].confusion) or
a run's report.json (data.classes, widths[].val_confusion). OUT.png defaults
to EVAL.json with .png. Rows are the true classes, columns the predictions,
each row scaled to its clips. Needs matplotlib (scripts/setup.sh
--with-plot); without it, says so and exits 1."""
import json
import os
import sys


def matrices(report):
    """(class names, [(width, rows)]) from either file."""
    classes = report.get("classes") or report.get("data", {}).get("classes")
    if not classes:
        sys.exit(f"{sys.argv[1]}: no class names (expected 'classes' or 'data.classes')")
    out = []
    for w in report["widths"]:
        rows = w.get("confusion", w.get("val_confusion"))
        if rows is None:
            sys.exit(f"{sys.argv[1]}: width {w['width']} has no confusion matrix")
        out.append((w["width"], rows))
    return classes, out


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    path = sys.argv[1]
    target = sys.argv[2] if len(sys.argv) == 3 else os.path.splitext(path)[0] + ".png"
    with open(path) as f:
        classes, panels = matrices(json.load(f))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot_confusion.py: matplotlib is not installed (scripts/setup.sh --with-plot)",
              file=sys.stderr)
        sys.exit(1)
    n = len(classes)
    size = max(3.0, min(12.0, 0.3 * n))
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size), squeeze=False)
    for ax, (width, rows) in zip(axes[0], panels):
        scaled = [[v / max(1, sum(row)) for v in row] for row in rows]
        ax.imshow(scaled, cmap="Blues", vmin=0, vmax=1)
        right = sum(rows[i][i] for i in range(n))
        total = sum(map(sum, rows))
        ax.set_title(f"width {width:g}: {right}/{total} right")
        if n <= 40:
            ax.set_xticks(range(n), classes, rotation=90, fontsize=7)
            ax.set_yticks(range(n), classes, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    print(target)


if __name__ == "__main__":
    main()
