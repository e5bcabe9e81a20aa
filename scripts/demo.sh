#!/usr/bin/env bash
# The main job, end to end on built-in synthetic data: set up, build, render
# the synthetic gesture dataset (once; later runs reuse it), train the demo
# slimmable + gated network (exported to runs/demo/model.pt), measure it on
# the test split, run adaptive inference on the test streams at full width,
# with the throttle and with the gate, and report (scripts/demo_report.py,
# chart in runs/demo/demo.png).
#   DATA=dir  where the dataset lives (default: data/synth)
#   RUN=dir   the training run (default: runs/demo; an existing run is resumed)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh --with-plot
bin=build
data=${DATA:-data/synth}
run=${RUN:-runs/demo}

if [[ -f "$data/synth.json" && -f "$data/streams/test/stream_000.json" ]]; then
  echo "== reusing the synthetic dataset in $data"
else
  # (also replaces a dataset rendered before streams were split into val and test)
  echo "== rendering the synthetic gesture dataset into $data"
  "$bin/adaptive-data" synth --out "$data" --seed 1 --overwrite
fi
"$bin/adaptive-data" inspect --data "$data/train.csv" --classes "$data/classes.txt"
for t in "$data"/streams/test/stream_00[0-3].json; do
  "$bin/adaptive-data" inspect --timeline "$t"
done

echo "== training configs/demo.json into $run"
"$bin/adaptive-train" --config configs/demo.json --set "data.root=$data" --out "$run" --resume auto

# Accuracy per width on the test split, which no choice of the run was made on.
echo "== the model on the test split ($data/test.csv)"
"$bin/adaptive-train" evaluate --checkpoint "$run/checkpoints/final.pt" --split "$data/test.csv" \
  --json "$run/test.json"

# The exported model (runs/demo/model.pt) on a stream video it has not seen:
# full width against the confidence throttle, scored against the timeline,
# with the per-window text and an annotated video.
stream="$data/streams/test/stream_000"
for policy in "fixed" "confidence"; do
  echo "== adaptive-infer --policy $policy on $stream.avi"
  "$bin/adaptive-infer" --model "$run/model.pt" --input "$stream.avi" --truth "$stream.json" \
    --policy "$policy" --format text --output "$run/infer_$policy.txt" \
    --overlay "$run/infer_$policy.avi"
  tail -n 2 "$run/infer_$policy.txt"
done
echo "per-window results and annotated videos: $run/infer_{fixed,confidence}.{txt,avi}"

# Every test stream (none was used to choose a default), with each policy.
echo "== adaptive-infer on the test streams: full width, throttle, gate"
for policy in "fixed" "confidence" "gate"; do
  rm -rf "$run/streams/$policy" && mkdir -p "$run/streams/$policy"
  for video in "$data"/streams/test/stream_*.avi; do
    name=$(basename "$video" .avi)
    "$bin/adaptive-infer" --model "$run/model.pt" --input "$video" --truth "${video%.avi}.json" \
      --policy "$policy" --output "$run/streams/$policy/$name.jsonl" --quiet
  done
done

echo
echo "== report"
/usr/bin/python3 scripts/demo_report.py "$run"  # Debian's Python, where setup.sh installs matplotlib
