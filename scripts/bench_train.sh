#!/usr/bin/env bash
# Training benchmark: the slimmable network of configs/synthetic-gestures.json
# against networks of its widest and narrowest width trained alone for the same
# epochs, in one run. Prints top-1 per width, training throughput and the share
# of step time spent waiting for data.
#   CONFIG=file (default configs/synthetic-gestures.json)  OUT=dir (default runs/bench)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
config=${CONFIG:-configs/synthetic-gestures.json}
out=${OUT:-runs/bench}
mkdir -p "$out"
train() {  # name, extra --set arguments
  local name=$1; shift
  echo "== $name" >&2
  build/adaptive-train --config "$config" --out "$out/$name" --resume auto "$@" >"$out/$name.txt" 2>"$out/$name.log"
  cat "$out/$name.txt"
}
widths=$(build/adaptive-train --config "$config" --print-config | python3 -c 'import json,sys; w=json.load(sys.stdin)["model"]["widths"]; print(w[0], w[-1])')
read -r narrow wide <<<"$widths"
start=$(date +%s)
train slimmable
train "alone-$wide" --set "model.widths=[$wide]" --set train.sampling=single --set gate.enabled=false
train "alone-$narrow" --set "model.widths=[$narrow]" --set train.sampling=single --set gate.enabled=false
echo "machine: $(nproc) cores; benchmark wall time $(( $(date +%s) - start )) s"
python3 - "$out" "$narrow" "$wide" <<'PY'
import json, sys
out, narrow, wide = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
load = lambda name: json.load(open(f"{out}/{name}/report.json"))
slim = load("slimmable")
alone = {narrow: load(f"alone-{sys.argv[2]}"), wide: load(f"alone-{sys.argv[3]}")}
print(f"{'width':>6} {'slimmable':>10} {'alone':>8} {'diff':>7} {'MFLOPs':>8}")
for w in slim["widths"]:
    a = alone.get(w["width"])
    a1 = a["widths"][0]["val_top1"] if a else None
    diff = f"{100 * (w['val_top1'] - a1):+6.1f}" if a else "      "
    alone_txt = f"{100 * a1:7.1f}%" if a else "        "
    print(f"{w['width']:>6.3g} {100 * w['val_top1']:9.1f}% {alone_txt} {diff} {w['mflops']:8.1f}")
print(f"slimmable training: {slim['train_clips_per_s']:.1f} clips/s, {100 * slim['data_share']:.1f}% of step time waiting for data, {slim['seconds']:.0f} s")
for w, r in alone.items():
    print(f"width {w:g} alone: {r['train_clips_per_s']:.1f} clips/s, {r['seconds']:.0f} s")
if slim.get("gate"):
    g = slim["gate"]
    print(f"gate: top-1 {100 * g['val_top1']:.1f}% at {g['mean_mflops']:.1f} MFLOPs "
          f"({100 * g['mean_mflops'] / slim['widths'][-1]['mflops']:.0f}% of full width)")
PY
