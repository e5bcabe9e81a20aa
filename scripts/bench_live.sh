#!/usr/bin/env bash
# Live-source benchmark: every test stream delivered at its own frame rate
# (adaptive-infer --realtime, default options otherwise) with each policy,
# on an idle machine or (BUSY=1) with one other process keeping one core
# busy, as a device's camera pipeline and other apps do. Reports per policy
# the process CPU time (the summary's cpu_s), missed deadlines, dropped
# windows and the delay from last frame to decision, and checks the targets:
# no missed deadline, no dropped window, every policy's CPU time at or below
# fixed full width's on every stream.
#   MODEL=runs/demo/model.pt  DATA=data/synth  OUT=runs/bench-live  BUSY=0
#   POLICIES="fixed confidence gate"  STREAMS=12 (the first N test streams)
#   ARGS="" (more adaptive-infer options, e.g. --streaming off)
#   CPU_SHARE="" (0.01 to 1, e.g. 0.05: each run gets that share of one
#   core, a CFS quota in a cgroup of this script's own, as on a slower
#   device; needs root and a cgroup cpu controller, v1 or v2)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${MODEL:-runs/demo/model.pt}
data=${DATA:-data/synth}
busy=${BUSY:-0}
share=${CPU_SHARE:-}
out=${OUT:-runs/bench-live}/$([[ $busy == 1 ]] && echo busy || echo idle)${share:+-share-$share}
policies=${POLICIES:-fixed confidence gate}
if [[ ! -f $model ]]; then
  echo "bench_live: no $model; train it first (scripts/demo.sh)" >&2
  exit 1
fi
if [[ -n $share ]]; then  # the kernel takes quotas of 1 ms and more
  quota=$(/usr/bin/python3 -c "import sys; s = float(sys.argv[1]); assert 0.01 <= s <= 1; print(round(100000 * s))" "$share" 2>/dev/null) ||
    { echo "bench_live: CPU_SHARE must be a share of one core from 0.01 to 1, got '$share'" >&2; exit 1; }
fi
mkdir -p "$out"
busy_pid="" group=""
cleanup() {
  [[ -n $busy_pid ]] && kill "$busy_pid" 2>/dev/null
  [[ -n $group ]] && rmdir "$group" 2>/dev/null
  return 0
}
trap cleanup EXIT
if [[ $busy == 1 ]]; then
  bash -c 'while :; do :; done' &
  busy_pid=$!
fi
limited() { "$@"; }
if [[ -n $share ]]; then
  if [[ -w /sys/fs/cgroup/cpu/cgroup.procs ]]; then  # cgroup v1
    group=/sys/fs/cgroup/cpu/adaptive-bench-live-$$
    mkdir -p "$group"
    echo 100000 >"$group/cpu.cfs_period_us"
    echo "$quota" >"$group/cpu.cfs_quota_us"
  elif grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null &&
    [[ -w /sys/fs/cgroup/cgroup.procs ]]; then  # cgroup v2
    group=/sys/fs/cgroup/adaptive-bench-live-$$
    mkdir -p "$group"
    echo "$quota 100000" >"$group/cpu.max"
  else
    echo "bench_live: CPU_SHARE needs root and a cgroup cpu controller (/sys/fs/cgroup)" >&2
    exit 1
  fi
  limited() { bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$group" "$@"; }
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);" \
  "load before: $(cut -d' ' -f1-3 /proc/loadavg); busy core: $busy; share of a core: ${share:-all}"
streams=$(ls "$data"/streams/test/stream_*.avi | head -n "${STREAMS:-12}")
for video in $streams; do
  name=$(basename "$video" .avi)
  for policy in $policies; do
    limited build/adaptive-infer --model "$model" --input "$video" --truth "${video%.avi}.json" \
      --realtime --policy "$policy" ${ARGS:-} --quiet --output "$out/${policy}_$name.jsonl"
  done
done
/usr/bin/python3 - "$out" $policies <<'PY'
import glob, json, os, sys
out, policies = sys.argv[1], sys.argv[2:]
def summary(path):
    with open(path) as f:
        return json.loads(f.read().splitlines()[-1])
runs = {p: {os.path.basename(f)[len(p) + 1:-6]: summary(f)
            for f in sorted(glob.glob(f"{out}/{p}_stream_*.jsonl"))} for p in policies}
names = sorted(runs[policies[0]])
print(f"{len(names)} test streams, --realtime, default options; results in {out}")
print(f"{'policy':<11} {'CPU s':>7} {'of fixed':>8} {'streams above fixed':>20} {'missed':>7} "
      f"{'dropped':>8} {'delay p95 max ms':>17} {'segments':>9} {'false alarms':>13}")
fixed = runs.get("fixed")
ok = True
for p in policies:
    r = runs[p]
    cpu = sum(s["cpu_s"] for s in r.values())
    above = [n for n in names if fixed and r[n]["cpu_s"] > fixed[n]["cpu_s"]] if p != "fixed" else []
    missed = sum(s["live"]["missed_deadlines"] for s in r.values())
    dropped = sum(s["live"]["dropped_windows"] for s in r.values())
    p95 = max(s["live"]["delay_ms"]["p95"] for s in r.values())
    right = sum(s["truth"]["segments_correct"] for s in r.values())
    segments = sum(s["truth"]["segments"] for s in r.values())
    alarms = sum(s["truth"]["false_alarms"] for s in r.values())
    idle = sum(s["truth"]["idle_windows"] for s in r.values())
    share = f"{100 * cpu / sum(s['cpu_s'] for s in fixed.values()):.0f}%" if fixed else "-"
    print(f"{p:<11} {cpu:7.2f} {share:>8} {len(above):>20} {missed:>7} {dropped:>8} {p95:>17.1f} "
          f"{right:>4}/{segments} {alarms:>6}/{idle}")
    ok = ok and missed == 0 and dropped == 0 and not above
    for n in above:
        print(f"  {n}: {r[n]['cpu_s']:.2f} s against fixed {fixed[n]['cpu_s']:.2f} s")
print("targets (no missed deadline, no dropped window, no policy above fixed's CPU on a stream):",
      "met" if ok else "NOT met")
PY
