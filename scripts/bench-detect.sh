#!/usr/bin/env bash
# Issue 6 benchmark: `patterndesk detect` over every bar file (501 symbols x 757 bars), every detector, one core
# (taskset), release build; stdout (to /dev/null) and straight to a throwaway redis-server stream, ROUNDS rounds
# interleaved. Prints the median seconds and bars/s of each stage and the Redis/stdout ratio of the whole command.
# Usage: ROUNDS=5 BARS=../shared/data/bars bash scripts/bench-detect.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-5}"
BARS="${BARS:-../shared/data/bars}"
BIN=.build/release/patterndesk
swift build -c release --product patterndesk >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DIR=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$DIR" --daemonize yes >/dev/null
trap 'redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
for _ in $(seq 30); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
OUT="$DIR/runs"
: >"$OUT"
for round in $(seq "$ROUNDS"); do
  taskset -c 1 "$BIN" detect --bars "$BARS" 2>&1 >/dev/null | sed "s/^/stdout $round /" >>"$OUT"
  redis-cli -p "$PORT" del tickstock:stream:patterns >/dev/null
  taskset -c 1 "$BIN" detect --bars "$BARS" --redis-url "redis://127.0.0.1:$PORT" --publish-stream tickstock:stream:patterns 2>&1 >/dev/null \
    | sed "s/^/redis $round /" >>"$OUT"
  echo "round $round: stream length $(redis-cli -p "$PORT" xlen tickstock:stream:patterns)" >&2
done
python3 - "$OUT" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r"(stdout|redis) (\d+) (.+?)\s{2,}([\d.]+)\s+(\d+)$", line.rstrip())
    if m:
        runs.setdefault((m.group(1), m.group(3)), []).append(float(m.group(4)))
stages = [s for (mode, s) in runs if mode == "stdout"]
print("| stage | stdout: median s | redis stream: median s |")
print("|---|---|---|")
for stage in stages:
    a, b = runs[("stdout", stage)], runs.get(("redis", stage), [])
    print(f"| {stage} | {statistics.median(a):.3f} | {statistics.median(b):.3f} |" if b else f"| {stage} | {statistics.median(a):.3f} | |")
whole = "all (load, detect, write)"
ratio = statistics.median(runs[("redis", whole)]) / statistics.median(runs[("stdout", whole)])
print(f"\nredis/stdout ratio of the whole command: {ratio:.2f} (rounds: {len(runs[('stdout', whole)])})")
PY
