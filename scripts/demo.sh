#!/usr/bin/env bash
# The main job, end to end on built-in synthetic data: set up, build, render
# the synthetic gesture dataset (once; later runs reuse it), train the demo
# slimmable + gated network, and report.
#   DATA=dir  where the dataset lives (default: data/synth)
#   RUN=dir   the training run (default: runs/demo; an existing run is resumed)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
bin=build
data=${DATA:-data/synth}
run=${RUN:-runs/demo}

if [[ -f "$data/synth.json" ]]; then
  echo "== reusing the synthetic dataset in $data"
else
  echo "== rendering the synthetic gesture dataset into $data"
  "$bin/adaptive-data" synth --out "$data" --seed 1
fi
"$bin/adaptive-data" inspect --data "$data/train.csv" --classes "$data/classes.txt"
for t in "$data"/streams/*.json; do
  "$bin/adaptive-data" inspect --timeline "$t"
done

echo "== training configs/demo.json into $run"
"$bin/adaptive-train" --config configs/demo.json --set "data.root=$data" --out "$run" --resume auto
