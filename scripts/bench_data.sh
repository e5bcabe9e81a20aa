#!/usr/bin/env bash
# Data-pipeline benchmark: clips/s for decode + sample + transform + batch at
# 1 and 2 workers, with the cache off and warm, on the benchmark-sized
# synthetic dataset (rendered first if missing).
#   DATA=dir  dataset (default: data/synth)   CLIPS=n  clips per measurement (default 600)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
data=${DATA:-data/synth}
[[ -f "$data/synth.json" ]] || build/adaptive-data synth --out "$data" --seed 1
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
build/adaptive-data bench --data "$data/train.csv" --classes "$data/classes.txt" --clips "${CLIPS:-600}"
