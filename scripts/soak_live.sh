#!/usr/bin/env bash
# Soak test of a live run: ffmpeg serves a stream video in a loop as HTTP
# MPEG-TS on loopback at RATE x real time (its timestamps sped up to match,
# so the stream's frame rate is RATE x the video's), adaptive-infer follows it
# for MINUTES, and its resident memory is sampled every 10 s. At the end the
# run gets SIGINT and the report compares the first and the last two minutes:
# memory, delay from a window's last frame to its decision, dropped frames.
#
# Usage: scripts/soak_live.sh [MODEL] [VIDEO]
#   env: MINUTES (30), RATE (2), PORT (18650), OUT (runs/soak), BIN (build)
# Output: $OUT/results.jsonl, $OUT/rss.csv, $OUT/report.txt (printed too).
set -euo pipefail
cd "$(dirname "$0")/.."

model=${1:-runs/demo/model.pt}
video=${2:-data/synth/streams/test/stream_000.avi}
minutes=${MINUTES:-30}
rate=${RATE:-2}
port=${PORT:-18650}
out=${OUT:-runs/soak}
bin=${BIN:-build}
for f in "$model" "$video" "$bin/adaptive-infer"; do
  [[ -e "$f" ]] || { echo "soak_live.sh: $f: not found" >&2; exit 2; }
done
command -v ffmpeg >/dev/null || { echo "soak_live.sh: no ffmpeg (scripts/setup.sh)" >&2; exit 2; }
mkdir -p "$out"
url="http://127.0.0.1:$port/live.ts"

ffmpeg -nostdin -loglevel error -stream_loop -1 -readrate "$rate" -i "$video" \
  -vf "setpts=PTS/$rate" -c:v mpeg4 -q:v 4 -f mpegts -listen 1 "$url" &
server=$!
"$bin/adaptive-infer" --model "$model" --input "$url" --quiet --output "$out/results.jsonl" \
  2>"$out/infer.log" &
infer=$!
trap 'kill $infer $server 2>/dev/null || true' EXIT

echo "elapsed_s,rss_kb" >"$out/rss.csv"
start=$(date +%s)
end=$((start + minutes * 60))
while (($(date +%s) < end)) && kill -0 $infer 2>/dev/null; do
  rss=$(awk '/^VmRSS/ {print $2}' /proc/$infer/status 2>/dev/null || echo 0)
  echo "$(($(date +%s) - start)),$rss" >>"$out/rss.csv"
  sleep 10
done
kill -INT $infer 2>/dev/null || true
rc=0
wait $infer || rc=$?
kill $server 2>/dev/null || true
echo "adaptive-infer exited $rc after $(($(date +%s) - start)) s (130: ended by the SIGINT)" >"$out/report.txt"

python3 - "$out" "$minutes" "$rate" >>"$out/report.txt" <<'EOF'
import csv, json, statistics, sys
out, minutes, rate = sys.argv[1], float(sys.argv[2]), sys.argv[3]
windows, summary = [], None
for line in open(f"{out}/results.jsonl"):
    j = json.loads(line)
    if j["type"] == "window":
        windows.append(j)
    else:
        summary = j
rss = [(int(r["elapsed_s"]), int(r["rss_kb"])) for r in csv.DictReader(open(f"{out}/rss.csv"))]
span = 120  # seconds of video time at each end
first = [w for w in windows if w["end_s"] <= windows[0]["end_s"] + span]
last = [w for w in windows if w["end_s"] >= windows[-1]["end_s"] - span]

def part(name, ws, samples):
    d = sorted(w["delay_ms"] for w in ws)
    mb = [kb / 1024 for _, kb in samples]
    return (f"{name}: {len(ws)} windows, delay p50 {d[len(d) // 2]:.1f} ms "
            f"p95 {d[int(0.95 * len(d))]:.1f} ms, dropped frames {sum(w['dropped_before'] for w in ws)}, "
            f"RSS {min(mb):.1f}-{max(mb):.1f} MiB")

print(f"{minutes:g} min at {rate}x real time: {summary['windows']} windows, {summary['frames']} frames, "
      f"{summary['live']['dropped_frames']} dropped, {summary['live']['missed_deadlines']} missed "
      f"the {summary['live']['deadline_ms']:.0f} ms deadline, stopped={summary.get('stopped', False)}")
print(part("first 2 min", first, [s for s in rss if 10 <= s[0] <= 130]))
print(part("last 2 min ", last, [s for s in rss if s[0] >= rss[-1][0] - 120]))
EOF
cat "$out/report.txt"
