#!/usr/bin/env bash
# Streaming against windowed on one causal model: every test stream, not
# paced, at fixed full width and with the confidence throttle, in each mode
# (adaptive-infer --streaming on|off), default options otherwise. Prints the
# totals over the streams: model time, process CPU time (the summary's
# cpu_s, getrusage) and where it went (cpu_split_s), model frames computed,
# segment accuracy and false alarms against the streams' timelines, how many
# of those false alarms start within a window's length after a gesture ends
# (a label outliving its gesture, rather than one from nothing) and how long
# a label outlives its gesture on average (over the gestures an idle window
# follows): the summary's truth fields, docs/inference-output.md.
#   MODEL=runs/demo-causal/model.pt  DATA=data/synth  ARGS="" (more adaptive-infer options)
#   SPLIT=test (val: the streams options are chosen on)
#   POLICIES="fixed confidence" (gate too, for a gated model)
#   MODES="off on" (off only: a model that does not stream)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${MODEL:-runs/demo-causal/model.pt}
data=${DATA:-data/synth}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
policies=${POLICIES:-fixed confidence}
for policy in $policies; do
  for mode in ${MODES:-off on}; do
    for video in "$data"/streams/${SPLIT:-test}/stream_*.avi; do
      name=$(basename "${video%.avi}")
      build/adaptive-infer --quiet --model "$model" --input "$video" --truth "${video%.avi}.json" \
        --policy "$policy" --streaming "$mode" ${ARGS:-} 2>/dev/null | tail -n 1 >>"$out/$policy-$mode.jsonl"
    done
  done
done
python3 - "$out" "$policies" "${MODES:-off on}" <<'PY'
import json, sys
rows = {}
print("| policy | mode | GFLOPs | model_s | cpu_s | decode / preprocess / model / output / other | frames computed | segments right | false alarms | of them after a gesture | release s |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for policy in sys.argv[2].split():
    for mode in sys.argv[3].split():
        runs = [json.loads(l) for l in open(f"{sys.argv[1]}/{policy}-{mode}.jsonl")]
        t = {k: sum(r[k] for r in runs) for k in ["gflops", "model_s", "frames_computed"]}
        t["cpu_s"] = sum(r["cost"]["cpu_s"] if "cost" in r else r["cpu_s"] for r in runs)
        split = " / ".join(f"{sum(r['cpu_split_s'][k] for r in runs):.2f}"
                           for k in ["decode", "preprocess", "model", "output", "other"])
        right = sum(r["truth"]["segments_correct"] for r in runs)
        segs = sum(r["truth"]["segments"] for r in runs)
        fa = sum(r["truth"]["false_alarms"] for r in runs)
        idle = sum(r["truth"]["idle_windows"] for r in runs)
        after = sum(r["truth"]["false_alarms_after_gesture"] for r in runs)
        releases = sum(r["truth"]["releases"] for r in runs)
        release = sum(r["truth"]["mean_release_s"] * r["truth"]["releases"] for r in runs) / max(releases, 1)
        rows[(policy, mode)] = t
        mode_name = runs[0]["mode"] + (", exact" if runs[0].get("stream_exact") else "")
        print(f"| {policy} | {mode_name} | {t['gflops']:.1f} | {t['model_s']:.2f} | {t['cpu_s']:.2f} | {split} | "
              f"{t['frames_computed']} | {right}/{segs} ({100 * right / segs:.1f}%) | "
              f"{fa}/{idle} ({100 * fa / idle:.1f}%) | {after} | {release:.2f} |")
base = rows.get(("fixed", "off"))
for key in rows if base else []:
    r = rows[key]
    print(f"{key[0]} {key[1]}: model_s {base['model_s'] / r['model_s']:.2f}x lower, "
          f"cpu_s {base['cpu_s'] / r['cpu_s']:.2f}x lower than windowed fixed full width; "
          f"model_s {100 * r['model_s'] / base['model_s']:.0f}% of it")
PY
