#!/usr/bin/env bash
# Interleaved A/B of GET /api/patterns/scan at 1,000 req/s (hey -z 10s -c 10 -q 100): every binary in BINS serves on
# its own port at once, and the rounds alternate between them, so a noisy moment of this shared box hits all alike.
# With nginx installed (Debian nginx-light), a static file of the default scan answer's size is served as the box's
# reference. Prints p50, p99 and server CPU per request (utime+stime from /proc) for each run.
#   BINS="/tmp/pd-old /tmp/pd-new" ROUNDS=5 bash scripts/bench-http-ab.sh
set -euo pipefail
ROUNDS=${ROUNDS:-5}
PATH_QUERY=${PATH_QUERY:-/api/patterns/scan}
read -r -a bins <<<"${BINS:-.build/release/patterndesk}"
dir=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
ports=()
for i in "${!bins[@]}"; do
    port=$((18700 + i)); ports+=("$port")
    "${bins[$i]}" serve --http-port "$port" --demo-mode synthetic --demo-initial 12000 --demo-rate 0 --log-level warning >/dev/null 2>&1 &
    pids+=($!)
done
for port in "${ports[@]}"; do
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
done
names=("${bins[@]}"); urls=(); servers=("${pids[@]}")
for port in "${ports[@]}"; do urls+=("http://127.0.0.1:$port$PATH_QUERY"); done
if command -v nginx >/dev/null; then
    curl -s "${urls[0]}" -o "$dir/scan.json"
    chmod 755 "$dir" && chmod 644 "$dir/scan.json"  # nginx's worker runs as nobody
    cat >"$dir/nginx.conf" <<CONF
worker_processes 1; pid $dir/nginx.pid; error_log $dir/error.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:18699; location = /scan.json { root $dir; } } }
CONF
    nginx -c "$dir/nginx.conf"
    sleep 0.5
    names+=("nginx ($(stat -c %s "$dir/scan.json") bytes, static)"); urls+=("http://127.0.0.1:18699/scan.json")
    servers+=("$(pgrep -P "$(cat "$dir/nginx.pid")" | head -1)")
fi
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
echo "| round | server | p50 | p99 | server CPU per request |"
echo "|---:|---|---:|---:|---:|"
for round in $(seq 1 "$ROUNDS"); do
    for i in "${!urls[@]}"; do
        before=$(ticks "${servers[$i]}")
        out=$(hey -z 10s -c 10 -q 100 "${urls[$i]}")
        after=$(ticks "${servers[$i]}")
        n=$(echo "$out" | awk '/\[200\]/ {print $2}')
        [ -n "$n" ] || { echo "${names[$i]}: no 200 answers" >&2; echo "$out" | tail -5 >&2; exit 1; }
        p50=$(echo "$out" | awk '/50% in/ {printf "%.1f", $3 * 1000}')
        p99=$(echo "$out" | awk '/99% in/ {printf "%.1f", $3 * 1000}')
        cpu=$(( (after - before) * 1000000 / $(getconf CLK_TCK) / (${n:-0} > 0 ? n : 1) ))
        echo "| $round | ${names[$i]} | $p50 ms | $p99 ms | $cpu µs |"
        [ -z "${DEBUG:-}" ] || echo "pid ${servers[$i]} ticks $before -> $after, $n answers"
    done
done
