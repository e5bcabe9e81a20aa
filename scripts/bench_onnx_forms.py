#!/usr/bin/python3
"""Which ONNX form can hold every width: the measurement behind model.onnx.

Builds one stand-in network at four widths (six 3x3 convs over the frames of
an [N, 3, 8, 56, 56] clip, 8 to 32 channels, pooled, a classifier) in three
forms, then times one width of each at batch 1, 1 thread, in ONNX Runtime
(npm's onnxruntime-node) and OpenCV's DNN module (python3-opencv), a fresh
process per row (median of RUNS calls):
  single   one file per width
  outputs  one graph, every width a separate output; the runtime is asked
           for that width's output only
  if       one graph, a width_index input and a chain of If nodes
Usage: bench_onnx_forms.py [--runs 50] [--ort build/npm/node_modules/onnxruntime-node]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

T, H, CHANNELS, CLASSES = 8, 56, [8, 16, 24, 32], 10


def branch(k, nodes, inits):
    rng = np.random.default_rng(k)
    p = f"w{k}_"
    inits.append(numpy_helper.from_array(np.array([-1, 3, H, H], np.int64), p + "frames"))
    nodes += [helper.make_node("Transpose", ["clip"], [p + "t"], perm=[0, 2, 1, 3, 4]),
              helper.make_node("Reshape", [p + "t", p + "frames"], [p + "x0"])]
    c_in, c = 3, CHANNELS[k]
    for l in range(6):
        inits += [numpy_helper.from_array(
                      (rng.standard_normal((c, c_in, 3, 3)) * 0.1).astype(np.float32), f"{p}w{l}"),
                  numpy_helper.from_array(np.zeros(c, np.float32), f"{p}b{l}")]
        nodes += [helper.make_node("Conv", [f"{p}x{l}", f"{p}w{l}", f"{p}b{l}"], [f"{p}c{l}"],
                                   kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                   strides=[2, 2] if l in (0, 3) else [1, 1]),
                  helper.make_node("Relu", [f"{p}c{l}"], [f"{p}x{l + 1}"])]
        c_in = c
    inits += [numpy_helper.from_array(np.array([-1, T, c], np.int64), p + "per_clip"),
              numpy_helper.from_array(rng.standard_normal((CLASSES, c)).astype(np.float32), p + "fc"),
              numpy_helper.from_array(np.zeros(CLASSES, np.float32), p + "fc_b")]
    nodes += [helper.make_node("GlobalAveragePool", [f"{p}x6"], [p + "pooled"]),
              helper.make_node("Reshape", [p + "pooled", p + "per_clip"], [p + "r"]),
              helper.make_node("ReduceMean", [p + "r"], [p + "mean"], axes=[1], keepdims=0),
              helper.make_node("Gemm", [p + "mean", p + "fc", p + "fc_b"], [p + "logits"],
                               transB=1)]
    return p + "logits"


def out(name):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", CLASSES])


def save(graph, path):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)


def build(folder):
    clip = helper.make_tensor_value_info("clip", TensorProto.FLOAT, ["N", 3, T, H, H])
    for k in range(4):
        nodes, inits = [], []
        name = branch(k, nodes, inits)
        save(helper.make_graph(nodes, "single", [clip], [out(name)], inits), f"{folder}/single{k}.onnx")
    nodes, inits = [], []
    names = [branch(k, nodes, inits) for k in range(4)]
    save(helper.make_graph(nodes, "outputs", [clip], [out(n) for n in names], inits),
         f"{folder}/outputs.onnx")

    def width_graph(k):
        nodes, inits = [], []
        name = branch(k, nodes, inits)
        nodes.append(helper.make_node("Identity", [name], [f"out{k}"]))
        return helper.make_graph(nodes, f"width{k}", [], [out(f"out{k}")], inits)

    def choose(k):
        if k == 3:
            return width_graph(3)
        nodes = [helper.make_node("Equal", ["width_index", f"k{k}"], [f"is{k}"]),
                 helper.make_node("If", [f"is{k}"], [f"chosen{k}"], then_branch=width_graph(k),
                                  else_branch=choose(k + 1))]
        return helper.make_graph(nodes, f"choose{k}", [], [out(f"chosen{k}")],
                                 [numpy_helper.from_array(np.array(k, np.int64), f"k{k}")])

    top = choose(0)
    width = helper.make_tensor_value_info("width_index", TensorProto.INT64, [])
    save(helper.make_graph(list(top.node), "if", [clip, width], [out("chosen0")],
                           list(top.initializer)), f"{folder}/if.onnx")


ORT_CHILD = r"""
const ort = require(process.argv[1]);
const [file, k, runs] = process.argv.slice(2);
(async () => {
  const s = await ort.InferenceSession.create(file, {intraOpNumThreads: 1, interOpNumThreads: 1});
  const shape = [1, 3, 8, 56, 56];
  const feeds = {clip: new ort.Tensor('float32', new Float32Array(3 * 8 * 56 * 56).fill(0.5), shape)};
  if (s.inputNames.includes('width_index'))
    feeds.width_index = new ort.Tensor('int64', BigInt64Array.from([BigInt(k)]), []);
  const fetches = s.outputNames.length > 1 ? [`w${k}_logits`] : undefined;
  for (let i = 0; i < 5; i++) await s.run(feeds, fetches);
  const times = [];
  for (let i = 0; i < +runs; i++) {
    const t0 = process.hrtime.bigint();
    await s.run(feeds, fetches);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ms: times[Math.floor(times.length / 2)]}));
})();
"""


def opencv_child(file, k, runs):
    import cv2

    cv2.setNumThreads(1)
    try:
        net = cv2.dnn.readNetFromONNX(file)
    except cv2.error as e:
        print(json.dumps({"error": str(e).strip().splitlines()[-1][:100]}))
        return
    x = np.full((1, 3, T, H, H), 0.5, np.float32)
    name = f"w{k}_logits" if file.endswith("outputs.onnx") else ""
    for _ in range(5):
        net.setInput(x)
        net.forward(name)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        net.setInput(x)
        net.forward(name)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"ms": 1000 * sorted(times)[len(times) // 2]}))


def cell(cmd):
    r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True)
                   .stdout.strip().splitlines()[-1])
    return f"{r['ms']:8.2f}" if "ms" in r else "  cannot load"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        opencv_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--ort", default="build/npm/node_modules/onnxruntime-node")
    a = ap.parse_args()
    ort = os.path.abspath(a.ort)
    with tempfile.TemporaryDirectory() as folder:
        build(folder)
        print(f"ms per call at batch 1, 1 thread, median of {a.runs}; {os.cpu_count()} cores")
        print("  width  channels   ORT single  ORT outputs  ORT if    OpenCV single  OpenCV outputs  OpenCV if")
        for k in range(4):
            files = [f"{folder}/single{k}.onnx", f"{folder}/outputs.onnx", f"{folder}/if.onnx"]
            ort_ms = [cell(["node", "-e", ORT_CHILD, ort, f, str(k), str(a.runs)]) for f in files]
            cv_ms = [cell([sys.executable, os.path.abspath(__file__), "--child", f, str(k),
                           str(a.runs)]) for f in files]
            print(f"  {k:5d} {CHANNELS[k]:9d}   " + "   ".join(ort_ms) + "   " + "   ".join(cv_ms))


if __name__ == "__main__":
    main()
