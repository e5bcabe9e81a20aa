#!/usr/bin/env bash
# Training benchmark: is one slimmable network as good as the plain networks
# it replaces? For each seed it trains the slimmable network of CONFIG and a
# plain twin at every listed width (the same architecture at that width,
# trained alone with the same recipe), and, for the first seed, the same
# network in universal mode. The best epoch of each run is chosen on val;
# accuracy is then measured on the test split, which nothing was chosen on
# (adaptive-train evaluate). Prints per width: MFLOPs, slimmable and plain
# top-1 (mean and spread over seeds), their difference; draws test top-1
# against MFLOPs for both families into OUT/accuracy_vs_mflops.png; the
# figures are in OUT/summary.json.
# The slimmable run trains its gate too, on gate.holdout (10%) of the
# training clips, which its network then does not train on; the plain twins
# and the universal run have no gate and train on every clip: the comparison
# a user faces, the adaptive network paying for its gate's data.
#   CONFIG=file   default configs/synthetic-gestures.json
#   OUT=dir       default runs/bench
#   SEEDS="0 1"   training seeds (at least 2 for a spread)
#   EPOCHS=n      override train.epochs for every run (a shorter benchmark)
#   SPLIT=file    the test split, default <data.root>/test.csv
#   UNIVERSAL=0   skip the universal-mode run
#   PLAIN_WIDTHS="1.0"  train plain twins at these widths only (default every
#                 width; a large model's benchmark may afford the widest only)
#   VARIANT="key=value ..."  also train, per seed, the slimmable network with
#                 these config changes (a recipe to compare, e.g.
#                 "train.narrow_weight=0.5"), after the plain twins: {plain}
#                 stands for the seed's plain full-width checkpoint
#                 ("train.init_from={plain}"); reported beside the others
#   SET="key=value ..."  config changes for every run (e.g. a small dataset:
#                 "data.root=data/synth-small data.synth_train_per_class=30")
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh --with-plot >/dev/null
config=${CONFIG:-configs/synthetic-gestures.json}
out=${OUT:-runs/bench}
seeds=(${SEEDS:-0 1})
mkdir -p "$out"
common=()
[[ -n "${EPOCHS:-}" ]] && common+=(--set "train.epochs=$EPOCHS")
for kv in ${SET:-}; do common+=(--set "$kv"); done
resolved=$(build/adaptive-train --config "$config" --print-config "${common[@]}")
widths=$(python3 -c 'import json,sys; print(" ".join(str(w) for w in json.load(sys.stdin)["model"]["widths"]))' <<<"$resolved")
root=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["root"])' <<<"$resolved")
split=${SPLIT:-$root/test.csv}

# A run, resumed when it was stopped, then evaluated on the split.
run() {  # dir, --set arguments...
  local dir=$1; shift
  echo "== $dir" >&2
  local t0=$SECONDS
  build/adaptive-train --config "$config" --out "$dir" --resume auto "${common[@]}" "$@" \
    >"$dir.txt" 2>"$dir.log" || { tail -20 "$dir.log" >&2; exit 1; }
  build/adaptive-train evaluate --checkpoint "$dir/checkpoints/final.pt" --split "$split" \
    --json "$dir/test.json" >"$dir.test.txt"
  echo "   $((SECONDS - t0)) s" >&2
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
start=$SECONDS
for seed in "${seeds[@]}"; do
  dir="$out/seed$seed"
  mkdir -p "$dir"
  run "$dir/slimmable" --set "train.seed=$seed"
  for w in ${PLAIN_WIDTHS:-$widths}; do
    run "$dir/plain-$w" --set "train.seed=$seed" --set "model.widths=[$w]" \
      --set train.sampling=single --set gate.enabled=false
  done
  if [[ -n "${VARIANT:-}" ]]; then
    changes=()
    for kv in $VARIANT; do changes+=(--set "${kv//\{plain\}/$dir/plain-1.0/checkpoints/final.pt}"); done
    run "$dir/variant" --set "train.seed=$seed" "${changes[@]}"
  fi
done
if [[ "${UNIVERSAL:-1}" != 0 ]]; then
  run "$out/seed${seeds[0]}/universal" --set "train.seed=${seeds[0]}" \
    --set model.width_mode=universal --set gate.enabled=false
fi
echo "benchmark wall time: $((SECONDS - start)) s"

/usr/bin/python3 - "$out" "$split" "$widths" "${seeds[*]}" "${VARIANT:-}" <<'PY'
import json, os, statistics, sys

out, split, widths, seeds = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
variant = sys.argv[5]
load = lambda path: json.load(open(path))
def top1(run, width):
    for w in load(f"{run}/test.json")["widths"]:
        if abs(w["width"] - float(width)) < 1e-6:
            return 100 * w["top1"], w["mflops"]
    raise SystemExit(f"{run}: no width {width}")
def stats(values):
    return statistics.mean(values), (max(values) - min(values)) / 2 if len(values) > 1 else 0.0

rows = []
for w in widths:
    slim = [top1(f"{out}/seed{s}/slimmable", w) for s in seeds]
    trained = os.path.exists(f"{out}/seed{seeds[0]}/plain-{w}/test.json")  # PLAIN_WIDTHS
    plain = [top1(f"{out}/seed{s}/plain-{w}", w) for s in seeds] if trained else []
    (sm, ss) = stats([a for a, _ in slim])
    (pm, ps) = stats([a for a, _ in plain]) if plain else (None, None)
    rows.append({"width": float(w), "mflops": slim[0][1], "slimmable": [a for a, _ in slim],
                 "plain": [a for a, _ in plain], "slimmable_mean": sm, "slimmable_spread": ss,
                 "plain_mean": pm, "plain_spread": ps,
                 "difference": sm - pm if plain else None})
    if variant:
        v = [top1(f"{out}/seed{s}/variant", w)[0] for s in seeds]
        vm, vs = stats(v)
        rows[-1].update({"variant": v, "variant_mean": vm, "variant_spread": vs,
                         "variant_difference": vm - pm if plain else None})
universal = None
udir = f"{out}/seed{seeds[0]}/universal"
if os.path.exists(f"{udir}/test.json"):
    universal = {w: top1(udir, w)[0] for w in widths}

print(f"\ntest split {split}; seeds {' '.join(seeds)}; top-1 mean ± half the range over seeds")
print(f"{'width':>6} {'MFLOPs':>8} {'slimmable':>15} {'plain':>15} {'difference':>11}")
def table(family, difference):  # one line per width: the family against the plain twins
    for r in rows:
        line = f"{r['width']:>6g} {r['mflops']:8.1f} {r[family + '_mean']:8.1f} ± {r[family + '_spread']:4.1f}"
        if r["plain_mean"] is None:
            print(line + f" {'(no twin)':>15}")
        else:
            print(line + f" {r['plain_mean']:8.1f} ± {r['plain_spread']:4.1f} {r[difference]:+10.1f}")
table("slimmable", "difference")
if variant:
    print(f"variant ({variant}), against the same plain twins:")
    table("variant", "variant_difference")
if universal:
    print("universal (seed " + seeds[0] + "): " +
          ", ".join(f"{w}: {a:.1f}%" for w, a in universal.items()))
full, narrower = rows[-1], rows[:-1]
if full["difference"] is None:
    print("target full width >= plain - 0.5 pt: no full-width twin trained")
else:
    print(f"target full width >= plain - 0.5 pt: {'met' if full['difference'] >= -0.5 else 'NOT met'}"
          f" ({full['difference']:+.1f})")
missed = [r["width"] for r in narrower if r["difference"] is not None and r["difference"] < 0]
print("target every narrower width with a twin >= its plain twin: " +
      ("met" if not missed else "NOT met at " + ", ".join(f"{w:g}" for w in missed)))
json.dump({"split": split, "seeds": seeds, "widths": rows, "universal": universal,
           "variant": variant or None},
          open(f"{out}/summary.json", "w"), indent=2)

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(6, 4))
x = [r["mflops"] for r in rows]
ax.errorbar(x, [r["slimmable_mean"] for r in rows], yerr=[r["slimmable_spread"] for r in rows],
            marker="o", capsize=3, label="slimmable (one network)")
twins = [r for r in rows if r["plain_mean"] is not None]
ax.errorbar([r["mflops"] for r in twins], [r["plain_mean"] for r in twins],
            yerr=[r["plain_spread"] for r in twins], marker="s", capsize=3, label="plain, trained alone per width")
if variant:
    ax.errorbar(x, [r["variant_mean"] for r in rows], yerr=[r["variant_spread"] for r in rows],
                marker="D", capsize=3, linestyle="--", label=f"slimmable, {variant}")
if universal:
    ax.plot(x, list(universal.values()), marker="^", linestyle=":", label="universal (1 seed)")
ax.set_xlabel("MFLOPs per clip")
ax.set_ylabel("test top-1 (%)")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
fig.savefig(f"{out}/accuracy_vs_mflops.png", dpi=120)
print(f"chart: {out}/accuracy_vs_mflops.png; figures: {out}/summary.json")
PY
