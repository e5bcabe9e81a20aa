#!/usr/bin/env bash
# Export benchmark: exports a run's final model with every width, and each
# width alone as a plain single-width file, then times them per width at
# batch 1 (scripts: adaptive-bench; figures also in RUN/bench_export/*.json).
#   RUN=dir (default runs/demo, made by scripts/demo.sh)  THREADS="1 2"  RUNS=200
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
run=${RUN:-runs/demo}
ckpt=$run/checkpoints/final.pt
out=$run/bench_export
if [[ ! -f $ckpt ]]; then
  echo "bench_export: no $ckpt; train a run first (scripts/demo.sh)" >&2
  exit 1
fi
mkdir -p "$out"
build/adaptive-train export --checkpoint "$ckpt" --out "$out/model.pt"
widths=$(python3 -c 'import json,sys; print(*json.load(open(sys.argv[1]))["model"]["widths"])' "$run/config.json")
plain=()
for w in $widths; do
  build/adaptive-train export --checkpoint "$ckpt" --out "$out/plain_$w.pt" --widths "$w" >/dev/null
  plain+=(--plain "$w=$out/plain_$w.pt")
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for t in ${THREADS:-1 2}; do
  build/adaptive-bench --model "$out/model.pt" "${plain[@]}" --threads "$t" --runs "${RUNS:-200}" \
    --json "$out/bench_${t}t.json"
done
