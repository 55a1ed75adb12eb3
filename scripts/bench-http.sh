#!/usr/bin/env bash
# HTTP benchmark: GET /api/patterns/scan at a fixed 1,000 req/s (hey -c 10 -q 100) against a release build holding
# about 10k live patterns, with GET /health measured in the same run as the baseline. Prints hey's latency percentiles
# and the server's CPU time per request (utime+stime from /proc, divided by requests served).
# DEMO_RATE=N keeps N demo events per second arriving during the run (each one a new index version, so the scan answer
# cache has to start again); SERVE_ARGS adds flags to `serve`, e.g. SERVE_ARGS="--http-scan-cache 0" for no cache.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18480}
DURATION=${DURATION:-20s}
BIN=${PATTERNDESK_BIN:-.build/release/patterndesk}
DEMO_RATE=${DEMO_RATE:-0}
[ -x "$BIN" ] || swift build -c release --product patterndesk

"$BIN" serve --http-port "$PORT" --demo-mode synthetic --demo-initial 12000 --demo-rate "$DEMO_RATE" --log-level warning ${SERVE_ARGS:-} &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
PATTERNS=$(curl -s "http://127.0.0.1:$PORT/api/patterns/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["cached_patterns"])')
TICKS=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }

run() {  # name url
    local before after out requests
    before=$(cpu_ticks)
    out=$(hey -z "$DURATION" -c 10 -q 100 "$2")
    after=$(cpu_ticks)
    requests=$(echo "$out" | awk '/\[200\]/ {print $2}')
    echo "$out" | python3 scripts/hey_row.py "$1" "${requests:-0}" "$before" "$after" "$TICKS"
}

echo "patterns in the index: $PATTERNS; demo events/s during the run: $DEMO_RATE; serve flags: ${SERVE_ARGS:-none}; hey -z $DURATION -c 10 -q 100 (1,000 req/s) on 127.0.0.1"
echo ""
echo "| endpoint | requests (200) | req/s | p50 | p90 | p99 | server CPU per request | non-200 responses |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
run "GET /health (baseline)" "http://127.0.0.1:$PORT/health"
run "GET /api/patterns/scan" "http://127.0.0.1:$PORT/api/patterns/scan"
run "GET /api/patterns/scan (filtered, sorted)" "http://127.0.0.1:$PORT/api/patterns/scan?confidence_min=0.7&timeframe=Daily&rs_min=1&sort_by=volume&per_page=50"
run "GET /health (baseline, again)" "http://127.0.0.1:$PORT/health"
echo ""
curl -s "http://127.0.0.1:$PORT/api/patterns/stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)["stats"]
c = s.get("scan_cache")
if c:
    hits, misses, ratio, version = c["hits"], c["misses"], s["cache_hit_ratio"], s["index_version"]
    print(f"scan answer cache: {hits} hits, {misses} misses (hit ratio {ratio:.3f}); index version {version}")
'
