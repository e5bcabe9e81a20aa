#!/usr/bin/python3
"""Batch-1 latency per width of an exported model as three stock runtimes see it.

Each row is a fresh process that loads the file with the runtime's defaults,
sets the thread count and nothing else, warms up, then times RUNS calls on
one clip (median):
  torch     stock PyTorch (python3-torch) running model.pt's forward_at
  ort       ONNX Runtime (npm's onnxruntime-node, its CPU library) running
            model.onnx, every width in one file behind width_index, and the
            width's own file (what the If chain costs)
  opencv    OpenCV's DNN module (python3-opencv) running the width's own
            file (OpenCV 4.6 cannot run model.onnx's If nodes)
The speed-up is the widest width's time over this width's; the FLOP ratio the
widest width's MFLOPs over this width's.

Usage: bench_onnx.py DIR [--threads 1,2] [--runs 100] [--ort build/npm/...]
  DIR holds model.pt, model.onnx and widthK.onnx (scripts/bench_onnx.sh).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ORT_CHILD = r"""
const ort = require(process.argv[1]);
const [file, widthIndex, threads, runs] = process.argv.slice(2);
(async () => {
  const s = await ort.InferenceSession.create(file, {intraOpNumThreads: +threads, interOpNumThreads: 1});
  const meta = JSON.parse(process.argv[6]);
  const shape = [1, meta.channels, meta.frames, meta.height, meta.width];
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => Math.random() - 0.5);
  const feeds = {clip: new ort.Tensor('float32', data, shape)};
  if (s.inputNames.includes('width_index'))
    feeds.width_index = new ort.Tensor('int64', BigInt64Array.from([BigInt(widthIndex)]), []);
  for (let i = 0; i < 5; i++) await s.run(feeds);
  const times = [];
  for (let i = 0; i < +runs; i++) {
    const t0 = process.hrtime.bigint();
    await s.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ms: times[Math.floor(times.length / 2)]}));
})();
"""


def torch_child(model, width_index, threads, runs):
    import torch

    torch.set_num_threads(threads)
    extra = {"adaptive.json": ""}
    m = torch.jit.load(model, _extra_files=extra)
    i = json.loads(extra["adaptive.json"])["input"]
    x = torch.randn(1, i["channels"], i["frames"], i["height"], i["width"])
    with torch.no_grad():
        for _ in range(5):
            m.forward_at(x, width_index)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            m.forward_at(x, width_index)
            times.append(time.perf_counter() - t0)
    print(json.dumps({"ms": 1000 * statistics.median(times)}))


def opencv_child(model, threads, runs, shape):
    import cv2
    import numpy as np

    cv2.setNumThreads(threads)
    net = cv2.dnn.readNetFromONNX(model)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for _ in range(5):
        net.setInput(x)
        net.forward("logits")
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        net.setInput(x)
        net.forward("logits")
        times.append(time.perf_counter() - t0)
    print(json.dumps({"ms": 1000 * statistics.median(times)}))


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["ms"]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, model, width_index, threads, runs = sys.argv[2:7]
        if kind == "torch":
            torch_child(model, int(width_index), int(threads), int(runs))
        else:
            opencv_child(model, int(threads), int(runs), json.loads(sys.argv[7]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--ort", default="build/npm/node_modules/onnxruntime-node")
    a = ap.parse_args()
    ort = os.path.abspath(a.ort)
    import onnx

    meta = json.loads(next(p.value for p in onnx.load(f"{a.dir}/model.onnx").metadata_props
                           if p.key == "adaptive.json"))
    i = meta["input"]
    shape = [1, i["channels"], i["frames"], i["height"], i["width"]]
    mflops = [c["mflops"] for c in meta["cost"]]
    me = os.path.abspath(__file__)
    print(f"{a.dir}: input {shape}, {a.runs} timed calls per row (median), a fresh process per "
          f"row; {os.cpu_count()} cores")
    for threads in [int(t) for t in a.threads.split(",")]:
        rows = []
        for k, w in enumerate(meta["widths"]):
            t = run([sys.executable, me, "--child", "torch", f"{a.dir}/model.pt", str(k),
                     str(threads), str(a.runs)])
            o = run(["node", "-e", ORT_CHILD, ort, f"{a.dir}/model.onnx", str(k), str(threads),
                     str(a.runs), json.dumps(i)])
            o1 = run(["node", "-e", ORT_CHILD, ort, f"{a.dir}/width{k}.onnx", str(k),
                      str(threads), str(a.runs), json.dumps(i)])
            c = run([sys.executable, me, "--child", "opencv", f"{a.dir}/width{k}.onnx", str(k),
                     str(threads), str(a.runs), json.dumps(shape)])
            rows.append((w, mflops[k], t, o, o1, c))
        print(f"\n{threads} thread(s), batch 1: ms (speed-up over the widest width)")
        print("  width   MFLOPs  FLOP ratio      torch model.pt      ORT model.onnx   "
              "ORT widthK.onnx  OpenCV widthK.onnx")
        wide = rows[-1]
        for w, f, *ms in rows:
            cells = " ".join(f"{m:9.2f} ({old / m:4.2f}x)" for m, old in zip(ms, wide[2:]))
            print(f"  {w:5.2f} {f:8.1f} {wide[1] / f:10.2f}x {cells}")


if __name__ == "__main__":
    main()
