#!/usr/bin/env bash
# Distributed benchmark on this machine: training throughput of one process
# with all cores against one process per core (c10d, Gloo, launched with the
# torchrun variables set by hand), one epoch of CONFIG each.
#   CONFIG=file (default configs/demo.json)  OUT=dir (default runs/bench_distributed)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
config=${CONFIG:-configs/demo.json}
out=${OUT:-runs/bench_distributed}
cores=$(nproc)
rm -rf "$out"
mkdir -p "$out"
common=(--config "$config" --set train.epochs=1 --set gate.enabled=false)
echo "machine: $cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
build/adaptive-train "${common[@]}" --threads "$cores" --out "$out/alone" >/dev/null 2>"$out/alone.log"
# The same global batch: each of the ranks takes batch_size / ranks clips,
# at the learning rate / ranks (adaptive-train scales it back by the ranks).
batch=$(build/adaptive-train --config "$config" --print-config | python3 -c 'import json,sys; print(json.load(sys.stdin)["train"]["batch_size"])')
lr=$(build/adaptive-train --config "$config" --print-config | python3 -c 'import json,sys; print(json.load(sys.stdin)["train"]["lr"])')
pids=()
for ((r = 0; r < cores; r++)); do
  RANK=$r WORLD_SIZE=$cores LOCAL_RANK=$r MASTER_ADDR=127.0.0.1 MASTER_PORT=29533 \
    build/adaptive-train "${common[@]}" --threads 1 --out "$out/ranks" \
    --set "train.batch_size=$((batch / cores))" --set "train.lr=$(python3 -c "print($lr / $cores)")" \
    >"$out/rank$r.txt" 2>"$out/rank$r.log" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
python3 - "$out" "$cores" <<'PY'
import json, sys
out, cores = sys.argv[1], int(sys.argv[2])
for name, what in [("alone", f"1 process x {cores} threads"), ("ranks", f"{cores} processes x 1 thread")]:
    r = json.load(open(f"{out}/{name}/report.json"))
    print(f"{what:>24}: {r['train_clips_per_s']:6.1f} clips/s, {100*r['data_share']:.1f}% waiting for data, "
          f"val top-1 at full width {100*r['widths'][-1]['val_top1']:.1f}%")
PY
