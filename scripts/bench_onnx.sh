#!/usr/bin/env bash
# ONNX benchmark: exports a run's final model as model.pt, model.onnx (every
# width) and one ONNX file per width, then times each width at batch 1 under
# stock PyTorch, ONNX Runtime and OpenCV's DNN module (scripts/bench_onnx.py).
#   RUN=dir (default runs/demo, made by scripts/demo.sh)  THREADS=1,2  RUNS=100
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh --with-python --with-onnxruntime >/dev/null
run=${RUN:-runs/demo}
ckpt=$run/checkpoints/final.pt
out=$run/bench_onnx
if [[ ! -f $ckpt ]]; then
  echo "bench_onnx: no $ckpt; train a run first (scripts/demo.sh)" >&2
  exit 1
fi
mkdir -p "$out"
build/adaptive-train export --checkpoint "$ckpt" --out "$out/model.pt" >/dev/null
build/adaptive-train export --checkpoint "$ckpt" --out "$out/model.onnx"
widths=$(/usr/bin/python3 -c 'import json,sys; print(*json.load(open(sys.argv[1]))["model"]["widths"])' "$run/config.json")
k=0
for w in $widths; do
  build/adaptive-train export --checkpoint "$ckpt" --out "$out/width$k.onnx" --widths "$w" >/dev/null
  k=$((k + 1))
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
/usr/bin/python3 scripts/bench_onnx.py "$out" --threads "${THREADS:-1,2}" --runs "${RUNS:-100}"
