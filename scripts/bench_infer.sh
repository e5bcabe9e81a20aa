#!/usr/bin/env bash
# Inference trade-off benchmark, tuned on val and reported on test.
#
# For each trained run (one per seed): every fixed width, the confidence
# policy with its defaults, the confidence policy at the threshold chosen on
# the val streams, and, when the model has a gate, the gate as trained and at
# the bias chosen on the val streams. The threshold is the cheapest of
# THRESHOLDS whose val segment accuracy is within 1 point of the fixed widest
# width's on val (else the cheapest of the most accurate). The gate bias
# (adaptive-infer --gate-bias) refits the gate's operating point to its own
# compute target (the model's gate.target_compute) on the val streams: the
# smallest of GATE_BIASES whose val compute is at or below it (else the
# largest). Training fitted it on val clips, and stream windows are not
# clips; accuracy is not consulted, so a dozen val streams' noise cannot
# pick a bias that only looked free there.
# Everything reported is measured on the test streams (segment accuracy and
# false alarms against their timelines; FLOPs, model time and process CPU
# time against the fixed widest width of the same run) and the test clips
# (clip accuracy), which no choice was made on. Prints a table of mean and spread over the
# runs and draws accuracy against compute, with the plain networks of
# scripts/bench_train.sh when its summary is there, into OUT/tradeoff.png.
#   RUNS="runs/bench/seed0/slimmable runs/bench/seed1/slimmable"  (see bench_train.sh)
# Then real videos no model was trained for (OpenCV's sample videos, from
# Debian's opencv-doc, when installed): the share of fixed full width's
# FLOPs and CPU time the default confidence policy spends on each.
#   DATA=data/synth  OUT=runs/bench/infer  THRESHOLDS="0.5 0.6 0.7 0.8 0.9"  THREADS=2
#   GATE_BIASES="0 0.25 0.5 0.75 1 1.25 1.5 2"
#   REAL=/usr/share/doc/opencv-doc/examples/data (vtest.avi, Megamind.avi, ...)
#   PLAIN=file   bench_train.sh's summary.json with the plain networks
#                (default: the one beside the first run's seed folder)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh --with-plot >/dev/null
runs=${RUNS:-runs/bench/seed0/slimmable runs/bench/seed1/slimmable}
data=${DATA:-data/synth}
out=${OUT:-runs/bench/infer}
for run in $runs; do
  if [[ ! -f $run/model.pt ]]; then
    echo "bench_infer: no $run/model.pt; train it first (scripts/bench_train.sh)" >&2
    exit 1
  fi
done
if [[ ! -f $data/streams/val/stream_000.json || ! -f $data/streams/test/stream_000.json ]]; then
  echo "bench_infer: $data has no streams/val and streams/test; render it:" >&2
  echo "  build/adaptive-data synth --out $data --seed 1 --overwrite" >&2
  exit 1
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
/usr/bin/python3 - "$data" "$out" "${THRESHOLDS:-0.5 0.6 0.7 0.8 0.9}" "${THREADS:-2}" \
  "${GATE_BIASES:-0 0.25 0.5 0.75 1 1.25 1.5 2}" \
  "${REAL:-/usr/share/doc/opencv-doc/examples/data}" \
  "${PLAIN:-$(dirname "$(dirname "${runs%% *}")")/summary.json}" $runs <<'PY'
import glob, json, os, statistics, subprocess, sys, zipfile

data, out, thresholds, threads, biases, real, plain_summary, runs = (
    sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4], sys.argv[5].split(), sys.argv[6],
    sys.argv[7], sys.argv[8:])
os.makedirs(out, exist_ok=True)

def metadata(model):
    with zipfile.ZipFile(model) as z:
        return json.loads(z.read(next(n for n in z.namelist() if n.endswith("extra/adaptive.json"))))

def infer(model, args, target):
    cmd = ["build/adaptive-infer", "--model", model, "--quiet", "--threads", threads] + args
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"bench_infer: {' '.join(cmd)} failed:\n{res.stderr}")
    with open(target, "w") as f:
        f.write(res.stdout)
    return [json.loads(l) for l in res.stdout.splitlines() if l.strip()]

def streams(split):
    return sorted(glob.glob(f"{data}/streams/{split}/stream_*.avi"))

def on_streams(model, args, split, tag):
    seg = correct = idle = alarms = windows = 0
    mflops = cpu_s = model_s = 0.0
    for s in streams(split):
        summary = infer(model, args + ["--input", s, "--truth", s[:-4] + ".json"],
                        f"{tag}_{split}_{os.path.basename(s)[:-4]}.jsonl")[-1]
        t = summary["truth"]
        seg += t["segments"]; correct += t["segments_correct"]
        idle += t["idle_windows"]; alarms += t["false_alarms"]
        windows += summary["windows"]; mflops += summary["gflops"] * 1e3
        cpu_s += summary["cpu_s"]; model_s += summary["model_s"]
    return {"segment_accuracy": correct / seg, "false_alarm_rate": alarms / max(1, idle),
            "mflops_per_window": mflops / windows, "segments": seg, "cpu_s": cpu_s,
            "model_s": model_s}

def on_test(model, args, tag):
    r = on_streams(model, args, "test", tag)
    clips = infer(model, args + ["--input", f"{data}/test.csv"], f"{tag}_clips.jsonl")[-1]
    r.update(clip_accuracy=clips["clip_accuracy"], clip_mflops_per_window=clips["mean_mflops_per_window"],
             clips=clips["clips"])
    return r

results = {}  # config -> list over runs
chosen, chosen_bias = [], []
for run in runs:
    model = f"{run}/model.pt"
    meta = metadata(model)
    widths, full = meta["widths"], meta["cost"][-1]["mflops"]
    tag = f"{out}/{run.strip('/').replace('/', '_')}"
    configs = [(f"fixed {w:g}", ["--policy", "fixed", "--width", str(w)]) for w in widths]
    configs.append(("confidence default", ["--policy", "confidence"]))
    # Tuning on val only: the cheapest setting within 1 point of the fixed
    # widest width's val segment accuracy, else the cheapest of the most accurate.
    full_val = on_streams(model, ["--policy", "fixed"], "val", f"{tag}_fixed_full")["segment_accuracy"]
    def tune(settings, args_of, name):
        val = {x: on_streams(model, args_of(x), "val", f"{tag}_{name}{x}") for x in settings}
        good = [x for x in settings if val[x]["segment_accuracy"] >= full_val - 0.01]
        if not good:
            best = max(val[x]["segment_accuracy"] for x in settings)
            good = [x for x in settings if val[x]["segment_accuracy"] == best]
        return min(good, key=lambda x: val[x]["mflops_per_window"])
    pick = tune(thresholds, lambda t: ["--policy", "confidence", "--threshold", t], "conf")
    chosen.append(pick)
    configs.append(("confidence tuned", ["--policy", "confidence", "--threshold", pick]))
    if meta["gate"] is not None:
        target = meta["config"]["gate"]["target_compute"]
        val = {b: on_streams(model, ["--policy", "gate", "--gate-bias", b], "val", f"{tag}_gate{b}")
               for b in biases}
        within = [b for b in biases if val[b]["mflops_per_window"] <= target * full]
        bias = min(within, key=float) if within else max(biases, key=float)
        chosen_bias.append(bias)
        configs.append(("gate as trained", ["--policy", "gate"]))
        configs.append(("gate tuned", ["--policy", "gate", "--gate-bias", bias]))
    for name, args in configs:
        r = on_test(model, args, f"{tag}_{name.replace(' ', '_')}")
        r["compute"] = r["mflops_per_window"] / full
        r["mflops_full"] = full
        results.setdefault(name, []).append(r)
        print(f"  {run}: {name} done", file=sys.stderr)

# Time and CPU time against the fixed widest width of the same run, on the
# same test streams (each run is one process per stream).
for name in results:
    for r, full_r in zip(results[name], results["fixed 1"]):
        r["cpu"] = r["cpu_s"] / full_r["cpu_s"]
        r["model_time"] = r["model_s"] / full_r["model_s"]

def mean(name, key):
    return statistics.mean(r[key] for r in results[name])

def spread(name, key):  # half the range over the runs
    v = [r[key] for r in results[name]]
    return (max(v) - min(v)) / 2

json.dump({"runs": runs, "thresholds_chosen_on_val": chosen, "gate_biases_chosen_on_val": chosen_bias,
           "results": results},
          open(f"{out}/results.json", "w"), indent=2)
first = results["fixed 1"][0]
print(f"{len(runs)} runs; tuned on {len(streams('val'))} val streams, reported on {len(streams('test'))} "
      f"test streams ({first['segments']} segments) and {first['clips']} test clips; {threads} threads")
print(f"confidence threshold chosen on val, per run: {', '.join(chosen)}")
if chosen_bias:
    print(f"gate bias fitted on val to the compute target, per run: {', '.join(chosen_bias)}")
print("FLOPs, model time and CPU time (the process's, user + system, first window to summary) as % of "
      "the fixed widest width's on the test streams")
print(f"{'config':<20} {'segment acc':>13} {'clip acc':>13} {'false alarms':>13} {'FLOPs':>9} "
      f"{'model time':>10} {'CPU time':>9}")
for name in results:
    print(f"{name:<20} {100*mean(name, 'segment_accuracy'):6.1f} ± {100*spread(name, 'segment_accuracy'):4.1f} "
          f"{100*mean(name, 'clip_accuracy'):6.1f} ± {100*spread(name, 'clip_accuracy'):4.1f} "
          f"{100*mean(name, 'false_alarm_rate'):6.1f} ± {100*spread(name, 'false_alarm_rate'):4.1f} "
          f"{100*mean(name, 'compute'):4.0f} ± {100*spread(name, 'compute'):2.0f} "
          f"{100*mean(name, 'model_time'):5.0f} ± {100*spread(name, 'model_time'):2.0f} "
          f"{100*mean(name, 'cpu'):4.0f} ± {100*spread(name, 'cpu'):2.0f}")
full_acc = mean("fixed 1", "segment_accuracy")
full_alarms = mean("fixed 1", "false_alarm_rate")
for name in [n for n in results if not n.startswith("fixed")]:
    print(f"{name}: segment accuracy {100*(mean(name, 'segment_accuracy') - full_acc):+.1f} points, false "
          f"alarms {100*(mean(name, 'false_alarm_rate') - full_alarms):+.1f} points vs the fixed widest "
          f"width, at {100*mean(name, 'compute'):.0f}% of its FLOPs, {100*mean(name, 'model_time'):.0f}% of "
          f"its model time and {100*mean(name, 'cpu'):.0f}% of its CPU time")

real_videos = sorted(glob.glob(f"{real}/*.avi"))
if not real_videos:
    print(f"no real videos in {real} (Debian's opencv-doc has OpenCV's samples)")
def run_summary(model, args):
    res = subprocess.run(["build/adaptive-infer", "--model", model, "--quiet", "--threads", threads] + args,
                         capture_output=True, text=True)
    if res.returncode != 0:
        return None, f"exit {res.returncode}: {res.stderr.strip()}"
    return json.loads(res.stdout.splitlines()[-1]), ""

for v in real_videos:
    shares = []
    for run in runs:
        full_run, error = run_summary(f"{run}/model.pt", ["--input", v, "--policy", "fixed"])
        summary, error2 = run_summary(f"{run}/model.pt", ["--input", v]) if full_run else (None, "")
        if not summary:
            print(f"real video {v}: {error or error2}")
            break
        shares.append(f"{100 * (1 - summary['compute_saving']):.0f}% of the FLOPs, "
                      f"{100 * summary['cpu_s'] / full_run['cpu_s']:.0f}% of the CPU time "
                      f"({summary['cpu_s']:.2f} s against {full_run['cpu_s']:.2f} s)")
    else:
        print(f"real video {os.path.basename(v)} ({summary['windows']} windows): default confidence policy at "
              f"{' / '.join(shares)} of fixed full width's (per run)")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("no chart: python3-matplotlib is not installed (scripts/setup.sh --with-plot)")
    sys.exit(0)
fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
fixed = [n for n in results if n.startswith("fixed")]
policies = [n for n in results if not n.startswith("fixed")]
colors = {"confidence default": "tab:blue", "confidence tuned": "tab:cyan", "gate as trained": "tab:red",
          "gate tuned": "tab:orange"}
for ax, key, xkey, title in [(axes[0], "segment_accuracy", "mflops_per_window", "test streams: segments"),
                             (axes[1], "clip_accuracy", "clip_mflops_per_window", "test clips")]:
    ax.errorbar([mean(n, xkey) for n in fixed], [100 * mean(n, key) for n in fixed],
                yerr=[100 * spread(n, key) for n in fixed], fmt="o-", color="grey", label="adaptive, fixed widths")
    for n in policies:
        ax.errorbar([mean(n, xkey)], [100 * mean(n, key)], yerr=[100 * spread(n, key)], fmt="o",
                    color=colors[n], label=n)
    if key == "clip_accuracy" and os.path.exists(plain_summary):
        plain = json.load(open(plain_summary))["widths"]
        ax.errorbar([w["mflops"] for w in plain], [w["plain_mean"] for w in plain],
                    yerr=[w["plain_spread"] for w in plain], fmt="s--", color="black",
                    label="plain networks, one per width (bench_train.sh)")
    ax.set_xlabel("MFLOPs per window")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
ax = axes[2]
for n in results:
    ax.errorbar([100 * mean(n, "cpu")], [100 * mean(n, "segment_accuracy")],
                xerr=[100 * spread(n, "cpu")], yerr=[100 * spread(n, "segment_accuracy")], fmt="o",
                color=colors.get(n, "grey"), label=n if n in colors else None)
ax.set_xlabel("% of the fixed widest width's CPU time (process, first window to summary)")
ax.set_ylabel("segment accuracy (%)")
ax.set_title("test streams: what the device pays", fontsize=9)
ax.grid(alpha=0.3)
ax.legend(fontsize=7)
fig.suptitle(f"Accuracy against compute, mean and spread over {len(runs)} runs (tuned on val)", fontsize=10)
fig.tight_layout()
fig.savefig(f"{out}/tradeoff.png", dpi=120)
print(f"chart: {out}/tradeoff.png")
PY
