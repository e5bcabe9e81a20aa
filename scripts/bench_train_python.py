#!/usr/bin/python3
"""Training speed of adaptive-train against the same sandwich step in Python PyTorch.

A benchmark, not part of the toolkit (issue 14). It rebuilds the slimmable
r2plus1d network and the sandwich step of train/ in stock PyTorch (Debian's
python3-torch, eager mode), then alternates, --runs times:
  (a) build/adaptive-train --config CONFIG --set train.epochs=EPOCHS
      --set gate.enabled=false --set train.log_every=1 (a line per step):
      steady state = clips/s over the steps of epochs >= 2 (each step's
      "clips_per_s" in metrics.jsonl, data wait included; their harmonic
      mean, so clips over time); whole run = training clips / the process's
      wall time (start-up, the first epoch's decoding, every evaluation and
      the export included);
  (b) the Python step, in a fresh process, on random clips of the config's
      batch shape [batch, 3, frames, crop, crop], with as many compute
      threads as adaptive-train takes (train.threads, 0 = all cores) and the
      widths adaptive-train draws at the same step numbers: --warmup steps,
      then the steps of adaptive-train's epochs >= 2 (or --steps of them),
      timed as a whole.
Targets: adaptive-train steady >= 1.2x the Python step; its whole run >=
0.8x its own steady state. --threads and --set (passed to both sides) make a
lighter run, e.g. a smoke test: --epochs 2 --runs 1 --steps 5 --threads 1
--set data.train=val.csv.

--check MODEL.pt loads an exported model (batch norm folded into the convs,
one set of weights per width), unfolds its weights into the Python network
(shared conv weights, per-width BN), and compares parameters, MFLOPs and
logits at every width (max |diff| <= 1e-4; exit 1 otherwise). Each width's
exported weights must also be its BN scale times a slice of the widest's
(the fold residual, <= 1e-4): one changed weight moves the logits too little
to show.

Usage: bench_train_python.py [--config configs/demo.json] [--epochs 4] [--runs 2]
                             [--warmup 10] [--steps N] [--threads N] [--set KEY=VALUE]...
                             [--json FILE]
       bench_train_python.py --check MODEL.pt
"""
import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(REPO, "build", "adaptive-train")

# ---------------------------------------------- width draws (datasets/rng.h)
# adaptive-train draws a step's random widths from Rng(derive_seed(seed,
# {kWidthStream, step})); the same draws here give both sides the same widths.
M64 = 2**64 - 1
WIDTH_STREAM = 0x57494454


def mix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


class Rng:  # xoshiro256**, as datasets/rng.h
    def __init__(self, seed):
        self.s = []
        for _ in range(4):
            seed = mix64(seed)
            self.s.append(seed)

    def next(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M64
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def uniform_int(self, lo, hi):  # [lo, hi]
        return lo + self.next() % (hi - lo + 1)


def step_widths(train, n_widths, step):
    """Width indices of optimizer step `step`, widest first (sample_step_widths, discrete)."""
    last = n_widths - 1
    if train["sampling"] == "single" or last == 0:
        return [last]
    if train["sampling"] == "all":
        return list(range(last, -1, -1))
    h = mix64(train["seed"])
    for c in (WIDTH_STREAM, step):
        h = mix64(h ^ mix64((c + 0x632BE59BD9B4E019) & M64))
    rng = Rng(h)
    return [last, 0] + [rng.uniform_int(1, last - 1) if last >= 2 else rng.uniform_int(0, last)
                        for _ in range(train["random_widths"])]


# ------------------------------------------ the network (models/*.cpp), torch
def build_network(model, num_classes):
    """The slimmable r2plus1d of `model` (the config's model section)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    if model["name"] != "r2plus1d" or model["width_mode"] != "discrete":
        sys.exit("bench_train_python.py: only model.name r2plus1d in discrete width mode is "
                 f"rebuilt here, not {model['name']} ({model['width_mode']})")
    widths, multiple, kt = model["widths"], model["channel_multiple"], model["temporal_kernel"]

    def channels_at(c, width):  # slimmable_layers.cpp; llround = half away from zero
        return min(c, max(multiple, int(math.floor(c * width / multiple + 0.5)) * multiple))

    class ConvBn(nn.Module):
        """Slim conv (first channels of a full-width weight) + BN per width (own affine, stats)."""

        def __init__(self, cin, cout, kernel, stride, zero_scale=False):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(cout, cin, *kernel))
            nn.init.kaiming_normal_(self.weight, mode="fan_out", nonlinearity="relu")
            self.stride, self.padding = stride, [k // 2 for k in kernel]
            self.channels = [channels_at(cout, w) for w in widths]
            self.bn_weight = nn.ParameterList(
                [nn.Parameter(torch.full((c,), 0.0 if zero_scale else 1.0)) for c in self.channels])
            self.bn_bias = nn.ParameterList([nn.Parameter(torch.zeros(c)) for c in self.channels])
            for i, c in enumerate(self.channels):
                self.register_buffer(f"running_mean{i}", torch.zeros(c))
                self.register_buffer(f"running_var{i}", torch.ones(c))

        def forward(self, x, i, relu=True):
            w = self.weight[:self.channels[i], :x.shape[1]]
            y = F.conv3d(x, w, None, self.stride, self.padding)
            y = F.batch_norm(y, getattr(self, f"running_mean{i}"), getattr(self, f"running_var{i}"),
                             self.bn_weight[i], self.bn_bias[i], self.training, 0.1, 1e-5)
            return F.relu(y) if relu else y

    class SpatioTemporal(nn.Module):
        """(2+1)D: spatial 1x3x3 ConvBn + ReLU, temporal kx1x1 ConvBn; or one kx3x3 ConvBn."""

        def __init__(self, cin, cout, stride, zero_scale=False):
            super().__init__()
            if model["factorized"]:
                self.spatial = ConvBn(cin, cout, (1, 3, 3), (1, stride, stride))
                self.temporal = ConvBn(cout, cout, (kt, 1, 1), (1, 1, 1), zero_scale)
            else:
                self.conv = ConvBn(cin, cout, (kt, 3, 3), (1, stride, stride), zero_scale)

        def forward(self, x, i, relu):
            if not model["factorized"]:
                return self.conv(x, i, relu)
            return self.temporal(self.spatial(x, i, True), i, relu)

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = SpatioTemporal(cin, cout, stride)
            self.conv2 = SpatioTemporal(cout, cout, 1, zero_scale=True)
            self.shortcut = (ConvBn(cin, cout, (1, 1, 1), (1, stride, stride))
                             if stride != 1 or cin != cout else None)

        def forward(self, x, i):
            y = self.conv2(self.conv1(x, i, True), i, False)
            return F.relu(y + (self.shortcut(x, i, False) if self.shortcut else x))

    class SlimLinear(nn.Module):  # input features follow the input, num_classes outputs
        def __init__(self, cin, cout):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(cout, cin).normal_(0, 0.01))
            self.bias = nn.Parameter(torch.zeros(cout))

        def forward(self, x):
            return F.linear(x, self.weight[:, :x.shape[1]], self.bias)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.widths = widths
            c = model["base_channels"]
            self.stem = SpatioTemporal(6 if model["motion_input"] else 3, c, 2)
            self.blocks = []
            cin = c
            for s, n in enumerate(model["blocks"]):
                for b in range(n):
                    cout = c << s
                    name = f"stage{s + 1}_{b + 1}"  # the C++ module names, for --check
                    self.add_module(name, Block(cin, cout, 2 if s > 0 and b == 0 else 1))
                    self.blocks.append(getattr(self, name))
                    cin = cout
            self.classifier = SlimLinear(cin, num_classes)

        def forward(self, clips, i):
            x = clips
            if model["motion_input"]:  # frame differences as 3 more channels, frame 0's zero
                diff = torch.cat([torch.zeros_like(x[:, :, :1]), x[:, :, 1:] - x[:, :, :-1]], 2)
                x = torch.cat([x, diff], 1)
            x = self.stem(x, i, True)
            for block in self.blocks:
                x = block(x, i)
            x = x.mean([2, 3, 4])
            x = F.dropout(x, model["dropout"], self.training)
            return self.classifier(x)

    return Net()


def network_cost(net, i, frames, crop):
    """(params, MFLOPs) of one clip at width index i, counted as models/ does:
    2 x multiply-adds of convs and linear layers; BN as scale and shift."""
    import torch

    tally = [0, 0.0]

    def hook(m, inputs, y):
        cin = inputs[0].shape[1]
        kernel = m.weight[0, 0].numel() if m.weight.dim() > 2 else 1
        bias = 2 * y.shape[1] if type(m).__name__ == "ConvBn" else y.shape[1]  # BN, linear bias
        tally[0] += y.shape[1] * cin * kernel + bias
        tally[1] += 2.0 * y.numel() * cin * kernel

    hooks = [m.register_forward_hook(hook) for m in net.modules()
             if type(m).__name__ in ("ConvBn", "SlimLinear")]
    was_training = net.training
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, 3, frames, crop, crop), i)
    net.train(was_training)
    for h in hooks:
        h.remove()
    return tally[0], tally[1] / 1e6


# --------------------------------------- the sandwich step (train/*.cpp), torch
def make_step(net, train, steps_per_epoch, epochs):
    """One optimizer step as Trainer::train_step: (clips, labels, step) -> losses."""
    import torch
    import torch.nn.functional as F

    if train["optimizer"] != "adamw" or train["accumulate"] != 1:
        sys.exit("bench_train_python.py: only train.optimizer adamw with train.accumulate 1 "
                 "is rebuilt here")
    params = list(net.parameters())
    # Weight decay on conv and linear weights only (optimizer.cpp).
    opt = torch.optim.AdamW(
        [{"params": [p for p in params if p.dim() > 1], "weight_decay": train["weight_decay"]},
         {"params": [p for p in params if p.dim() <= 1], "weight_decay": 0.0}],
        lr=train["lr"], betas=(train["momentum"], 0.999))
    total = steps_per_epoch * epochs
    warmup = int(math.floor(train["warmup_epochs"] * steps_per_epoch + 0.5))
    t = train["distill_temperature"]

    def lr_at(step):  # cosine_lr: linear warm-up, then a cosine to min_lr
        if warmup > 0 and step < warmup:
            return train["lr"] * (step + 1) / warmup
        progress = (step - warmup) / (total - warmup) if total > warmup else 1.0
        return train["min_lr"] + (train["lr"] - train["min_lr"]) * 0.5 * (
            1 + math.cos(math.pi * min(1.0, progress)))

    def step(clips, labels, n):
        for group in opt.param_groups:
            group["lr"] = lr_at(n)
        opt.zero_grad(set_to_none=True)  # clear_gradients: unused BNs get no update
        losses, teacher = [], None
        for k, i in enumerate(step_widths(train, len(net.widths), n)):
            logits = net(clips, i)
            if k == 0 or not train["distill"]:  # the widest learns from the labels
                loss = F.cross_entropy(logits, labels, label_smoothing=train["label_smoothing"])
            else:  # KL(teacher || student) at temperature t, times t^2
                p = torch.softmax(teacher / t, 1)
                log_q = torch.log_softmax(logits / t, 1)
                loss = (p * (torch.log(p.clamp_min(1e-12)) - log_q)).sum(1).mean() * (t * t)
            value = loss.item()
            if not math.isfinite(value):
                raise RuntimeError(f"loss is {value} at width {net.widths[i]}")
            (loss if k == 0 else loss * train["narrow_weight"]).backward()
            if k == 0:
                teacher = logits.detach()
            losses.append(value)
        if train["grad_clip"] > 0:
            torch.nn.utils.clip_grad_norm_(params, train["grad_clip"])
        opt.step()
        return losses

    return step


# ------------------------------------------------------------------ --check
def read_meta(model_path):
    with zipfile.ZipFile(model_path) as z:
        for name in z.namelist():
            if name.endswith("extra/adaptive.json"):
                return json.loads(z.read(name))
    sys.exit(f"{model_path}: no adaptive.json in the file (not an exported adaptive model)")


def check(model_path):
    """Unfolds an exported model's weights into the Python network and compares."""
    import torch

    torch.manual_seed(0)
    meta = read_meta(model_path)
    scripted = torch.jit.load(model_path)
    exported = dict(scripted.named_parameters())  # w{i}_{C++ module path}_weight / _bias
    net = build_network(meta["config"]["model"], len(meta["labels"])).eval()
    widths, last = net.widths, len(net.widths) - 1
    ok = True
    fold_residual = [0.0] * len(widths)
    with torch.no_grad():
        for name, m in net.named_modules():
            key = name.replace(".", "_")
            if type(m).__name__ == "SlimLinear":  # not folded: every width slices one weight
                m.weight.copy_(exported[f"w{last}_{key}_weight"])
                m.bias.copy_(exported[f"w{last}_{key}_bias"])
                for i in range(last):
                    w, b = exported[f"w{i}_{key}_weight"], exported[f"w{i}_{key}_bias"]
                    fold_residual[i] = max(fold_residual[i],
                                           (w - m.weight[:, :w.shape[1]]).abs().max().item(),
                                           (b - m.bias).abs().max().item())
            if type(m).__name__ != "ConvBn":
                continue
            # Export folds BN into each width's conv: W_i = w[:c, :cin] * s_i (per output
            # channel), b_i = beta_i - mean_i * s_i. The widest width's W is taken as the
            # shared weight (its scale becomes 1); each width's BN gets the scale that maps
            # its slice onto W_i (least squares per channel), shift b_i, mean 0, var 1 - eps.
            # An export may drop the unit kernel dimensions (2D convs over frames): the
            # [out, in, kernel] order is the same, so a reshape restores them.
            as3d = lambda t: t.reshape(t.shape[0], t.shape[1], *m.weight.shape[2:])
            full = exported[f"w{last}_{key}_weight"]
            if full.numel() != m.weight.numel():
                sys.exit(f"{key}: exported {tuple(full.shape)}, built {tuple(m.weight.shape)}")
            full = as3d(full)
            m.weight.copy_(full)
            for i in range(len(widths)):
                w, b = as3d(exported[f"w{i}_{key}_weight"]), exported[f"w{i}_{key}_bias"]
                part = full[:w.shape[0], :w.shape[1]]
                scale = ((w * part).flatten(1).sum(1) /
                         (part * part).flatten(1).sum(1).clamp_min(1e-30))
                residual = (w - part * scale.view(-1, *[1] * (w.dim() - 1))).abs().max().item()
                fold_residual[i] = max(fold_residual[i], residual)
                m.bn_weight[i].copy_(scale)
                m.bn_bias[i].copy_(b)
                getattr(m, f"running_mean{i}").zero_()
                getattr(m, f"running_var{i}").fill_(1 - 1e-5)
        shape = meta["input"]
        x = torch.randn(4, 3, shape["frames"], shape["height"], shape["width"])
        print(f"{model_path}: {len(exported)} exported tensors, widths {widths}; random input "
              f"{list(x.shape)}, eval mode")
        print("| width | params (Python / export) | MFLOPs (Python / export) | fold residual "
              "| max abs logit diff |")
        print("| --- | --- | --- | --- | --- |")
        for i, cost in enumerate(meta["cost"]):
            params, mflops = network_cost(net, i, shape["frames"], shape["height"])
            diff = (net(x, i) - scripted.forward_at(x, i)).abs().max().item()
            same = (params == cost["params"] and abs(mflops - cost["mflops"]) < 1e-6
                    and fold_residual[i] <= 1e-4 and diff <= 1e-4)
            ok &= same
            print(f"| {widths[i]} | {params} / {cost['params']} | {mflops:.6f} / "
                  f"{cost['mflops']:.6f} | {fold_residual[i]:.2e} | {diff:.2e}"
                  f"{'' if same else '  MISMATCH'} |")
    print("same network: " + ("yes" if ok else "NO"))
    return 0 if ok else 1


# ------------------------------------------------------------------- timing
def child(spec):
    """(b): the Python step in this process; prints its figures as JSON."""
    import torch

    s = json.loads(spec)
    # As set_compute_threads (models/device.cpp). torch's own default is the
    # physical cores (1 on a 2-vCPU machine), adaptive-train's every logical one.
    torch.set_num_threads(s["threads"])
    torch.set_num_interop_threads(1)
    cfg, meta = s["config"], read_meta(s["artifact"])
    torch.manual_seed(cfg["train"]["seed"])
    net = build_network(cfg["model"], len(meta["labels"])).train()
    frames, crop = cfg["data"]["frames"], cfg["data"]["crop"]
    for i, cost in enumerate(meta["cost"]):  # the network adaptive-train exported, or stop
        params, mflops = network_cost(net, i, frames, crop)
        if params != cost["params"] or abs(mflops - cost["mflops"]) > 1e-6:
            sys.exit(f"width {net.widths[i]}: Python net {params} params {mflops} MFLOPs, "
                     f"adaptive-train's {cost['params']} and {cost['mflops']}")
    step = make_step(net, cfg["train"], s["steps_per_epoch"], cfg["train"]["epochs"])
    batch = cfg["train"]["batch_size"]
    clips = torch.randn(batch, 3, frames, crop, crop)
    labels = torch.randint(0, len(meta["labels"]), (batch,))
    for n in range(s["warmup"]):
        step(clips, labels, n)
    first, count = s["first_step"], s["steps"]
    t0 = time.perf_counter()
    for n in range(first, first + count):
        step(clips, labels, n)
    took = time.perf_counter() - t0
    print(json.dumps({"steps": count, "seconds": took, "clips_per_s": count * batch / took,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


def run_adaptive_train(config_path, sets, out):
    """(a): one adaptive-train run; its figures from metrics.jsonl."""
    cmd = [TRAIN, "--config", config_path, "--out", out]
    for kv in sets + ["gate.enabled=false", "train.log_every=1"]:
        cmd += ["--set", kv]
    t0 = time.perf_counter()
    with open(out + ".log", "w") as log:
        rc = subprocess.run(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - t0
    if rc != 0:
        sys.exit(f"adaptive-train failed ({rc}):\n" + open(out + ".log").read()[-3000:])
    lines = [json.loads(line) for line in open(os.path.join(out, "metrics.jsonl"))]
    train = [d for d in lines if d["type"] == "train"]
    evals = [d for d in lines if d["type"] == "eval"]
    steps_per_epoch = evals[0]["step"]
    steady = [d["clips_per_s"] for d in train if d["epoch"] >= 2]
    report = json.load(open(os.path.join(out, "report.json")))
    config = json.load(open(os.path.join(out, "config.json")))
    clips = evals[-1]["step"] * config["train"]["batch_size"]  # full batches (drop_last)
    # The widths it trained at each step, against this script's draws.
    width_list = config["model"]["widths"]
    draws_match = all([width_list[i] for i in step_widths(config["train"], len(width_list),
                                                          d["step"] - 1)] == d["widths"]
                      for d in train)
    return {"steady_clips_per_s": statistics.harmonic_mean(steady) if steady else float("nan"),
            "steady_steps": len(steady), "steps_per_epoch": steps_per_epoch,
            "train_clips": clips, "wall_s": wall, "whole_clips_per_s": clips / wall,
            "report_seconds": report["seconds"], "report_times": report.get("times", {}),
            "report_train_clips_per_s": report["train_clips_per_s"],
            "width_draws_match": draws_match}, config


def run_python_step(config, artifact, threads, steps_per_epoch, warmup, steps):
    first = steps_per_epoch  # the first step of epoch 2, as adaptive-train's steady state
    count = steps or steps_per_epoch * max(1, config["train"]["epochs"] - 1)
    spec = json.dumps({"config": config, "artifact": artifact, "threads": threads,
                       "steps_per_epoch": steps_per_epoch, "warmup": warmup,
                       "first_step": first, "steps": count})
    out = subprocess.run([sys.executable, __file__, "--child", spec], capture_output=True,
                         text=True)
    if out.returncode != 0:
        sys.exit(f"the Python step failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", metavar="MODEL.pt", help="compare with an exported model, then exit")
    ap.add_argument("--config", default="configs/demo.json")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=10, help="Python steps before timing")
    ap.add_argument("--steps", type=int, default=0,
                    help="Python steps timed (0: as many as adaptive-train's epochs >= 2)")
    ap.add_argument("--threads", type=int, default=0,
                    help="compute threads on both sides (0: adaptive-train's own choice)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="config override for both sides, as adaptive-train --set (repeatable)")
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.check:
        return check(a.check)
    if not os.access(TRAIN, os.X_OK):
        sys.exit(f"{TRAIN}: not built (scripts/build.sh)")
    config_path = os.path.abspath(a.config)
    sets = [f"train.epochs={a.epochs}"] + a.set
    if a.threads:
        sets.append(f"train.threads={a.threads}")
    cmd = [TRAIN, "--config", config_path, "--print-config"]
    resolved = json.loads(subprocess.run(cmd + [x for kv in sets for x in ("--set", kv)], cwd=REPO,
                                         check=True, capture_output=True, text=True).stdout)
    threads = resolved["train"]["threads"] or os.cpu_count()  # 0: all cores, as adaptive-train
    machine = f"{os.cpu_count()} cores, {cpu_model()}"
    print(f"machine: {machine}; {threads} compute threads on both sides; config {a.config}, "
          f"{a.epochs} epochs, batch {resolved['train']['batch_size']}, {a.runs} run(s) each, "
          "alternated")
    if a.epochs < 2:
        print("note: with fewer than 2 epochs adaptive-train has no steady state (epochs >= 2)")
    runs = []
    tmp = tempfile.mkdtemp(prefix="bench_train_python_")
    try:
        for k in range(a.runs):
            out = os.path.join(tmp, f"run{k + 1}")
            train, config = run_adaptive_train(config_path, sets, out)
            py = run_python_step(config, os.path.join(out, "model.pt"), threads,
                                 train["steps_per_epoch"], a.warmup, a.steps)
            shutil.rmtree(out)
            runs.append({"run": k + 1, "adaptive_train": train, "python": py})
            print(f"  run {k + 1}: adaptive-train {train['steady_clips_per_s']:.1f} clips/s "
                  f"steady, {train['wall_s']:.1f} s wall; Python step "
                  f"{py['clips_per_s']:.1f} clips/s", flush=True)
            times = train["report_times"]
            if times:  # where adaptive-train's run went (its report.json)
                print("         adaptive-train time: " + ", ".join(
                    f"{k[:-2].replace('_', ' ')} {v:.1f} s" for k, v in times.items()) +
                      f"; process start and exit {train['wall_s'] - train['report_seconds']:.1f} s",
                      flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("\n| run | adaptive-train steady clips/s | whole run clips/s (wall) | whole / steady "
          "| Python step clips/s | adaptive-train / Python |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in runs:
        t, p = r["adaptive_train"], r["python"]
        r["whole_over_steady"] = t["whole_clips_per_s"] / t["steady_clips_per_s"]
        r["train_over_python"] = t["steady_clips_per_s"] / p["clips_per_s"]
        print(f"| {r['run']} | {t['steady_clips_per_s']:.1f} ({t['steady_steps']} steps) "
              f"| {t['whole_clips_per_s']:.1f} ({t['wall_s']:.1f} s) "
              f"| {r['whole_over_steady']:.2f} | {p['clips_per_s']:.1f} ({p['steps']} steps) "
              f"| {r['train_over_python']:.2f} |")
    median = lambda key: statistics.median(r[key] for r in runs)
    summary = {"train_over_python": median("train_over_python"), "train_over_python_target": 1.2,
               "whole_over_steady": median("whole_over_steady"), "whole_over_steady_target": 0.8,
               "width_draws_match": all(r["adaptive_train"]["width_draws_match"] for r in runs)}
    verdict = lambda x, target: ("n/a: no steady state" if math.isnan(x)
                                 else "met" if x >= target else "NOT met")
    print(f"\nadaptive-train steady / Python step: {summary['train_over_python']:.2f} "
          f"(median of runs; target >= 1.2: {verdict(summary['train_over_python'], 1.2)})")
    print(f"adaptive-train whole run / steady: {summary['whole_over_steady']:.2f} "
          f"(target >= 0.8: {verdict(summary['whole_over_steady'], 0.8)})")
    print("Python trained the widths adaptive-train drew at the same steps: "
          + ("yes" if summary["width_draws_match"] else "NO (its draws differ from this script's)"))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"config": a.config, "sets": sets, "machine": machine,
                       "threads": threads, "torch": runs[0]["python"]["torch"],
                       "runs": runs, "summary": summary}, f, indent=2)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        sys.exit(main())
