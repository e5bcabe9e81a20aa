#!/usr/bin/env bash
# Inference trade-off benchmark: every fixed width, the confidence policy at
# several thresholds and the gate policy, over the synthetic test streams
# (segment accuracy and false alarms against their timelines) and the test
# clips (clip accuracy). Prints a table and draws accuracy against compute
# into RUN/bench_infer/tradeoff.png; raw results in RUN/bench_infer/.
#   RUN=dir    a finished run with model.pt (default runs/bench/seed0/slimmable, see bench_train.sh)
#   DATA=dir   the synthetic dataset (default data/synth)
#   THRESHOLDS="0.5 0.6 0.7"  THREADS=2
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh --with-plot >/dev/null
run=${RUN:-runs/bench/seed0/slimmable}
data=${DATA:-data/synth}
if [[ ! -f $run/model.pt ]]; then
  echo "bench_infer: no $run/model.pt; train it first:" >&2
  echo "  build/adaptive-train --config configs/synthetic-gestures.json --out $run" >&2
  exit 1
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
/usr/bin/python3 - "$run" "$data" "${THRESHOLDS:-0.5 0.6 0.7}" "${THREADS:-2}" <<'PY'
import glob, json, os, subprocess, sys, time, zipfile

run, data, thresholds, threads = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4]
model = f"{run}/model.pt"
out = f"{run}/bench_infer"
os.makedirs(out, exist_ok=True)
with zipfile.ZipFile(model) as z:
    meta = json.loads(z.read(next(n for n in z.namelist() if n.endswith("extra/adaptive.json"))))
widths = meta["widths"]
full_mflops = meta["cost"][-1]["mflops"]

configs = [(f"fixed {w:g}", ["--policy", "fixed", "--width", str(w)]) for w in widths]
configs += [(f"confidence {t}", ["--policy", "confidence", "--threshold", t]) for t in thresholds]
configs.append(("conf 0.6 rerun", ["--policy", "confidence", "--threshold", "0.6", "--escalate", "rerun"]))
if meta["gate"] is not None:
    configs.append(("gate", ["--policy", "gate"]))

def infer(args, target):
    cmd = ["build/adaptive-infer", "--model", model, "--quiet", "--threads", threads] + args
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"bench_infer: {' '.join(cmd)} failed:\n{res.stderr}")
    lines = [json.loads(l) for l in res.stdout.splitlines() if l.strip()]
    with open(target, "w") as f:
        f.write(res.stdout)
    return lines

streams = sorted(glob.glob(f"{data}/streams/test/stream_*.avi"))
rows = []
for name, args in configs:
    tag = name.replace(" ", "_")
    seg = correct = idle = alarms = windows = 0
    mflops = width = wall = model_s = frames = delay = 0.0
    for s in streams:
        lines = infer(args + ["--input", s, "--truth", s[:-4] + ".json"],
                      f"{out}/{tag}_{os.path.basename(s)[:-4]}.jsonl")
        summary = lines[-1]
        t = summary["truth"]
        seg += t["segments"]; correct += t["segments_correct"]
        idle += t["idle_windows"]; alarms += t["false_alarms"]
        delay += t["mean_delay_s"] * (t["segments"] - t["missed"])
        windows += summary["windows"]; mflops += summary["gflops"] * 1e3
        width += summary["mean_width"] * summary["windows"]; wall += summary["wall_s"]
        frames += summary["frames"]
        model_s += sum(l["latency_ms"] for l in lines[:-1]) / 1e3
    clips = infer(args + ["--input", f"{data}/test.csv"], f"{out}/{tag}_clips.jsonl")[-1]
    rows.append({"config": name, "segment_accuracy": correct / seg, "false_alarm_rate": alarms / max(1, idle),
                 "mean_delay_s": delay / max(1, correct), "clip_accuracy": clips["clip_accuracy"],
                 "mflops_per_window": mflops / windows, "clip_mflops_per_window": clips["mean_mflops_per_window"],
                 "mean_width": width / windows, "stream_wall_s": wall, "clips_wall_s": clips["wall_s"],
                 "fps": frames / wall, "model_only_fps": frames / model_s})
    print(f"  {name}: done", file=sys.stderr)

json.dump(rows, open(f"{out}/results.json", "w"), indent=2)
print(f"{len(streams)} streams ({sum(1 for _ in streams)} timelines), {clips['clips']} test clips; "
      f"full width {full_mflops:.1f} MFLOPs per window; {threads} threads")
print(f"{'config':<16} {'seg acc':>8} {'false al':>9} {'delay s':>8} {'clip acc':>9} {'MFLOPs/win':>11} "
      f"{'% of full':>9} {'width':>6} {'wall s':>7} {'fps':>7} {'model fps':>9}")
for r in rows:
    print(f"{r['config']:<16} {100*r['segment_accuracy']:7.1f}% {100*r['false_alarm_rate']:8.1f}% "
          f"{r['mean_delay_s']:8.2f} {100*r['clip_accuracy']:8.1f}% {r['mflops_per_window']:11.1f} "
          f"{100*r['mflops_per_window']/full_mflops:8.0f}% {r['mean_width']:6.2f} "
          f"{r['stream_wall_s']+r['clips_wall_s']:7.1f} {r['fps']:7.0f} {r['model_only_fps']:9.0f}")
full = rows[len(widths) - 1]
print(f"full width end to end: {full['fps']:.0f} frames/s = {100*full['fps']/full['model_only_fps']:.0f}% "
      f"of the {full['model_only_fps']:.0f} frames/s the model alone sustains on decoded windows")
for r in rows[len(widths):]:
    print(f"{r['config']}: segment accuracy {100*(r['segment_accuracy']-full['segment_accuracy']):+.1f} points vs full "
          f"width at {100*r['mflops_per_window']/full_mflops:.0f}% of its compute")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("no chart: python3-matplotlib is not installed (scripts/setup.sh --with-plot)")
    sys.exit(0)
fig, ax = plt.subplots(figsize=(7, 4.5))
fixed, policies = rows[:len(widths)], rows[len(widths):]
for key, label, style in [("segment_accuracy", "stream segments", "o-"), ("clip_accuracy", "test clips", "s--")]:
    ax.plot([r["mflops_per_window"] if key == "segment_accuracy" else r["clip_mflops_per_window"] for r in fixed],
            [100 * r[key] for r in fixed], style, color="grey", label=f"fixed widths ({label})")
    for r in policies:
        x = r["mflops_per_window"] if key == "segment_accuracy" else r["clip_mflops_per_window"]
        ax.plot([x], [100 * r[key]], "o" if key == "segment_accuracy" else "s",
                color="tab:red" if r["config"] == "gate" else "tab:blue")
        ax.annotate(r["config"], (x, 100 * r[key]), fontsize=7, xytext=(4, 2), textcoords="offset points")
for r in fixed:
    ax.annotate(r["config"].split()[1] + "x", (r["mflops_per_window"], 100 * r["segment_accuracy"]),
                fontsize=7, xytext=(-8, -12), textcoords="offset points")
ax.set_xlabel("MFLOPs per window")
ax.set_ylabel("accuracy (%)")
ax.set_title("Accuracy against compute: fixed widths, confidence (blue) and gate (red) policies")
ax.title.set_fontsize(9)
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(f"{out}/tradeoff.png", dpi=120)
print(f"chart: {out}/tradeoff.png")
PY
