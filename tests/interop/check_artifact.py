"""Loads a model exported by adaptive-train with stock PyTorch, reads its
adaptive.json, calls every method the contract names and compares the
outputs with those the C++ library computed (expected.json).

Usage: check_artifact.py DIR   (DIR/model.pt, DIR/expected.json; a causal
model's stream: DIR/causal/model.pt, DIR/causal/expected.json)
Exit: 0 pass, 1 fail, 77 skipped (no python3-torch; with ADAPTIVE_NO_SKIP=1
in the environment, as on CI, that is a failure too).
"""
import json
import sys

from parity import ATOL, RTOL, check, skip
from parity import close as close_values

try:
    import torch
except ModuleNotFoundError as e:
    if e.name != "torch":  # torch is there but something it imports is not
        print(f"FAIL: import torch: {e!r}")
        sys.exit(1)
    skip("python3-torch is not installed (scripts/setup.sh --with-python installs it)")
except Exception as e:  # installed, but broken: not a skip
    print(f"FAIL: import torch: {e!r}")
    sys.exit(1)


def close(a, b, what):
    close_values(a.double(), b.double(), what)


def main(folder):
    extra = {"adaptive.json": ""}
    model = torch.jit.load(f"{folder}/model.pt", _extra_files=extra)
    meta = json.loads(extra["adaptive.json"])
    with open(f"{folder}/expected.json") as f:
        expected = json.load(f)

    for key in ["format", "format_version", "labels", "input", "widths", "default_width", "cost",
                "temperature", "metrics", "gate", "producer", "config"]:
        check(key in meta, f"adaptive.json has '{key}'")
    check(meta["format"] == "adaptive-torchscript", "format")
    check(meta["format_version"] == 1, "format_version")
    for key in ["frames", "height", "width", "channels", "layout", "color", "mean", "std", "fps"]:
        check(key in meta["input"], f"adaptive.json input has '{key}'")
    check(not model.training, "saved in eval mode")
    check(all(not p.requires_grad for p in model.parameters()), "no parameter requires grad")

    widths = model.widths()
    check(widths == meta["widths"], f"widths() {widths} == metadata {meta['widths']}")
    check(model.get_width() == meta["default_width"], "get_width() after loading")

    shape = expected["shape"]
    numel = 1
    for s in shape:
        numel *= s
    x = torch.sin(torch.arange(numel, dtype=torch.float32) * 0.37).reshape(shape)
    with torch.no_grad():
        for i, w in enumerate(widths):
            want = torch.tensor(expected["forward_at"][i])
            close(model.forward_at(x, i), want, f"forward_at(x, {i})")
            model.set_width(w)
            check(model.get_width() == w, f"set_width({w})")
            close(model.forward(x), want, f"forward at width {w}")
        try:
            model.set_width(0.123)
            check(False, "set_width(0.123) raises")
        except torch.jit.Error as e:
            check("valid widths" in str(e), f"set_width error lists the valid widths: {e}")
        try:
            model.forward(torch.zeros(1, 3, 2, 8, 8))
            check(False, "a wrong input shape raises")
        except torch.jit.Error as e:
            check("expected input" in str(e), f"shape error names the expected shape: {e}")
        if meta["gate"] is not None:
            close(model.gate(x), torch.tensor(expected["gate"]), "gate(x)")
            logits, choice = model.forward_gated(x)
            close(logits, torch.tensor(expected["gated_logits"]), "forward_gated logits")
            check(choice.tolist() == expected["gated_choice"], "forward_gated choice")
            # The model's gate spreads the clips over every width.
            check(sorted(set(choice.tolist())) == list(range(len(widths))),
                  f"forward_gated takes every route: choice {choice.tolist()}")
            for j, w in enumerate(choice.tolist()):
                close(logits[j], model.forward_at(x, w)[j], f"forward_gated clip {j} (width {w})")
            # On a stream, each window's pass scores the next window's width.
            for w in range(len(widths)):
                logits, scores = model.forward_and_gate(x, w)
                close(logits, model.forward_at(x, w), f"forward_and_gate logits at width {w}")
                check(tuple(scores.shape) == (x.shape[0], len(widths)),
                      f"forward_and_gate scores every width: {tuple(scores.shape)}")
            close(model.forward_and_gate(x, 0)[1], model.gate(x), "forward_and_gate at 0 is gate(x)")
    check(meta["stream"] is None, "a model that sees later frames has no stream")
    check(not hasattr(model, "step"), "a model that sees later frames has no step()")
    print(f"ok: torch {torch.__version__} loaded {folder}/model.pt, widths {widths}, "
          f"{len(meta['labels'])} labels, every method matches the C++ outputs to "
          f"{RTOL} x their scale + {ATOL}")


def check_stream(folder):
    """A causal model streamed a frame at a time, each width with its own
    state, as a consumer following a camera would."""
    extra = {"adaptive.json": ""}
    model = torch.jit.load(f"{folder}/model.pt", _extra_files=extra)
    meta = json.loads(extra["adaptive.json"])
    with open(f"{folder}/expected.json") as f:
        expected = json.load(f)
    stream = meta["stream"]
    check(stream is not None, "a causal model's adaptive.json has a stream")
    check(len(stream["step_mflops"]) == len(meta["widths"]), "step_mflops per width")
    frames = meta["input"]["frames"]
    check(stream["exact"] == (stream["pooled_frames"] <= frames - stream["reach_frames"]),
          f"stream.exact: pooled {stream['pooled_frames']} of {frames} frames, "
          f"reach {stream['reach_frames']}")
    numel = 1
    for s in expected["shape"]:
        numel *= s
    video = torch.sin(torch.arange(numel, dtype=torch.float32) * 0.37).reshape(expected["shape"])
    with torch.no_grad():
        for i in range(len(meta["widths"])):
            state = model.init_state(i)
            for t in range(video.shape[2]):
                logits, state = model.step(video[:, :, t], state)
                close(logits, torch.tensor(expected["step"][i][t]), f"step {t} at width {i}")
                if t == frames - 1:  # a window's steps from an empty state: the windowed answer
                    close(logits, model.forward_at(video[:, :, :frames], i),
                          f"{frames} steps at width {i} are forward_at")
            # prefill: the first window in one pass, then the same steps
            logits, state = model.prefill(video[:, :, :frames], i)
            close(logits, torch.tensor(expected["step"][i][frames - 1]),
                  f"prefill at width {i} is {frames} steps")
            for t in range(frames, video.shape[2]):
                logits, state = model.step(video[:, :, t], state)
                close(logits, torch.tensor(expected["step"][i][t]),
                      f"step {t} after a prefill at width {i}")
            if meta["gate"] is not None:
                state = model.init_state(i)
                logits, scores, state = model.step_and_gate(video[:, :, 0], state)
                check(tuple(scores.shape) == (video.shape[0], len(meta["widths"])),
                      f"step_and_gate scores every width: {tuple(scores.shape)}")
        try:
            model.step(video[:, :, 0], [torch.zeros(3)])
            check(False, "a state that is not this model's raises")
        except torch.jit.Error as e:
            check("init_state" in str(e), f"a bad state's error says how to make one: {e}")
    print(f"ok: {folder}/model.pt streams at every width, each step matching the C++ one")


if __name__ == "__main__":
    main(sys.argv[1])
    check_stream(f"{sys.argv[1]}/causal")
