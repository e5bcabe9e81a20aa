"""Checks the ONNX files adaptive-train exported as other tools read them:
ONNX's own checker (full check) and strict shape inference on every file,
the metadata a consumer needs, and OpenCV's DNN module (Debian's
python3-opencv) running each width's file, its outputs compared with those
the C++ library computed (expected.json).

Usage: check_onnx.py DIR   (DIR/model.onnx, DIR/widthK.onnx, DIR/clip.f32,
DIR/expected.json)
Exit: 0 pass, 1 fail, 77 skipped (python3-onnx, python3-opencv or numpy
missing; with ADAPTIVE_NO_SKIP=1 in the environment, as on CI, a failure).
"""
import json
import os
import sys

from parity import check, skip
from parity import close as close_values

try:
    import cv2
    import numpy as np
    import onnx
except ModuleNotFoundError as e:
    skip(f"{e.name} is not installed (scripts/setup.sh --with-python installs python3-onnx "
         "and python3-opencv)")


def close(actual, expected, what):
    diff = close_values(np.asarray(actual, np.float64), np.asarray(expected, np.float64), what)
    print(f"ok: {what} (max difference {diff:.2e})")


def metadata(model):
    entries = {p.key: p.value for p in model.metadata_props}
    check("adaptive.json" in entries, "metadata_props holds adaptive.json")
    return json.loads(entries["adaptive.json"])


def checked(path):
    """Loads `path` and runs what onnx.checker's full check runs."""
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    print(f"ok: {os.path.basename(path)} passes onnx.checker (full check) and shape inference")
    return model


def main(folder):
    with open(f"{folder}/expected.json") as f:
        expected = json.load(f)
    clip = np.fromfile(f"{folder}/clip.f32", np.float32).reshape(expected["shape"])
    widths = len(expected["forward_at"])

    model = checked(f"{folder}/model.onnx")
    meta = metadata(model)
    check(meta["format"] == "adaptive-onnx", f"format {meta['format']}")
    check(len(meta["widths"]) == widths, f"widths {meta['widths']}")
    check(len(meta["temperature"]) == widths and len(meta["cost"]) == widths,
          "a temperature and a cost per width")
    check(meta["input"]["frames"] == clip.shape[2], "input.frames is the clip's")
    check(sorted(meta["onnx"]["inputs"]) == ["clip", "width_index"], "inputs documented")
    check(sorted(meta["onnx"]["outputs"]) == ["gate_scores", "logits"], "outputs documented")
    check([i.name for i in model.graph.input] == ["clip", "width_index"], "graph inputs")

    for k in range(widths):
        one = checked(f"{folder}/width{k}.onnx")
        m = metadata(one)
        check(m["widths"] == [meta["widths"][k]], f"width{k}.onnx holds width {meta['widths'][k]}")
        check([i.name for i in one.graph.input] == ["clip"], f"width{k}.onnx takes the clip alone")
        net = cv2.dnn.readNetFromONNX(f"{folder}/width{k}.onnx")
        net.setInput(clip)
        (logits,) = net.forward(["logits"])
        close(logits, expected["forward_at"][k], f"OpenCV {cv2.__version__} width{k}.onnx logits")
    print("check_onnx.py: all checks pass")


if __name__ == "__main__":
    main(sys.argv[1])
