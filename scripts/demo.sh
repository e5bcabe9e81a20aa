#!/usr/bin/env bash
# The main job, end to end on built-in synthetic data: set up, build, render
# the synthetic gesture dataset (once; later runs reuse it), and report what
# was made.
#   DATA=dir  where the dataset lives (default: data/synth)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
bin=build
data=${DATA:-data/synth}

if [[ -f "$data/synth.json" ]]; then
  echo "== reusing the synthetic dataset in $data"
else
  echo "== rendering the synthetic gesture dataset into $data"
  "$bin/adaptive-data" synth --out "$data" --seed 1
fi
echo "== training split"
"$bin/adaptive-data" inspect --data "$data/train.csv" --classes "$data/classes.txt"
echo "== test split: every clip decodes"
"$bin/adaptive-data" inspect --data "$data/test.csv" --classes "$data/classes.txt" --check
echo "== streams"
for t in "$data"/streams/*.json; do
  "$bin/adaptive-data" inspect --timeline "$t"
done
