#!/usr/bin/env bash
# User-data benchmark (issue 5): watchlist and preset reads at a fixed 1,000 req/s and writes at 200 req/s with hey,
# against a release build on a throwaway PostgreSQL cluster, with GET /health as the in-run baseline. Then the read
# ceiling (hey unthrottled) against `pgbench -S -M prepared` on the same cluster and the same box, as a ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18580}
PG_PORT=${PG_PORT:-18581}
DURATION=${DURATION:-20s}
BIN=${PATTERNDESK_BIN:-.build/release/patterndesk}
[ -x "$BIN" ] || swift build -c release --product patterndesk
SECRET=bench-secret-0123456789abcdef-0123456789
pg_dir=$(mktemp -d)
URL=$(bash scripts/pg-cluster.sh start "$pg_dir" "$PG_PORT")
export DATABASE_URL=$URL AUTH_JWT_SECRET=$SECRET
"$BIN" seed >/dev/null
"$BIN" serve --http-port "$PORT" --log-level warning &
PID=$!
# The same service with its user-data cache off: every read goes to PostgreSQL (the before-and-after in one run).
UNCACHED_PORT=$((PORT + 2))
"$BIN" serve --http-port "$UNCACHED_PORT" --database-cache-users 0 --log-level warning &
UNCACHED_PID=$!
trap 'kill $PID $UNCACHED_PID 2>/dev/null || true; wait $PID $UNCACHED_PID 2>/dev/null || true; bash scripts/pg-cluster.sh stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
for port in "$PORT" "$UNCACHED_PORT"; do
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.1; done
done
TOKEN=$("$BIN" token --user bench)
AUTH="Authorization: Bearer $TOKEN"
api() { curl -sf -H "$AUTH" -H 'Content-Type: application/json' "$@"; }
# A realistic user: 10 watchlists of 50 symbols, 10 presets.
SYMBOLS=$(curl -s "http://127.0.0.1:$PORT/api/symbols?limit=50" | python3 -c 'import json,sys; print(json.dumps([s["symbol"] for s in json.load(sys.stdin)["symbols"]]))')
for i in $(seq 1 10); do
    api -X POST "http://127.0.0.1:$PORT/api/users/watchlists" -d "{\"name\":\"List $i\",\"symbols\":$SYMBOLS}" >/dev/null
    api -X POST "http://127.0.0.1:$PORT/api/users/filter-presets" -d "{\"name\":\"Preset $i\",\"filters\":{\"confidence_min\":0.7,\"pattern_types\":[\"Doji\",\"Hammer\"]}}" >/dev/null
done
WL=$(api "http://127.0.0.1:$PORT/api/users/watchlists" | python3 -c 'import json,sys; print(json.load(sys.stdin)["watchlists"][0]["id"])')
PR=$(api "http://127.0.0.1:$PORT/api/users/filter-presets" | python3 -c 'import json,sys; print(json.load(sys.stdin)["presets"][0]["id"])')
TICKS=$(getconf CLK_TCK)
# CPU of the server under test: SERVER_PID when set (the uncached one), else the cached one.
cpu_ticks() { awk '{print $14 + $15}' "/proc/${SERVER_PID:-$PID}/stat"; }

run() {  # name rate(req/s, 0 = unthrottled) method url [body]
    local before after out requests q=()
    [ "$2" != 0 ] && q=(-q $(($2 / 10)))
    before=$(cpu_ticks)
    if [ -n "${5:-}" ]; then
        out=$(hey -z "$DURATION" -c 10 "${q[@]}" -m "$3" -H "$AUTH" -T application/json -d "$5" "$4")
    else
        out=$(hey -z "$DURATION" -c 10 "${q[@]}" -m "$3" -H "$AUTH" "$4")
    fi
    after=$(cpu_ticks)
    requests=$(echo "$out" | awk '/\[200\]/ {print $2}')
    echo "$out" | python3 scripts/hey_row.py "$1" "${requests:-0}" "$before" "$after" "$TICKS"
}

echo "hey -z $DURATION -c 10 on 127.0.0.1; PostgreSQL $(psql -V | awk '{print $3}') (fsync off), user with 10 watchlists x 50 symbols and 10 presets"
echo ""
echo "| request | requests (200) | req/s | p50 | p90 | p99 | server CPU per request | non-200 |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
# The read rows REPEAT times (default 1), so that medians can be quoted on a noisy box; READS_ONLY=1 stops after them.
for _ in $(seq 1 "${REPEAT:-1}"); do
    run "GET /health (baseline) at 1,000/s" 1000 GET "http://127.0.0.1:$PORT/health"
    SERVER_PID=$UNCACHED_PID run "GET /api/users/watchlists/{id} at 1,000/s, cache off (baseline)" 1000 GET \
        "http://127.0.0.1:$UNCACHED_PORT/api/users/watchlists/$WL"
    run "GET /api/users/watchlists/{id} at 1,000/s" 1000 GET "http://127.0.0.1:$PORT/api/users/watchlists/$WL"
    run "GET /api/users/watchlists (10 lists) at 1,000/s" 1000 GET "http://127.0.0.1:$PORT/api/users/watchlists"
    run "GET /api/users/filter-presets/{id} at 1,000/s" 1000 GET "http://127.0.0.1:$PORT/api/users/filter-presets/$PR"
    run "GET /api/users/filter-presets (10 presets) at 1,000/s" 1000 GET "http://127.0.0.1:$PORT/api/users/filter-presets"
done
[ "${READS_ONLY:-0}" = 1 ] && exit 0
run "GET /api/patterns/scan?preset={id} at 1,000/s" 1000 GET "http://127.0.0.1:$PORT/api/patterns/scan?preset=$PR"
run "PUT /api/users/watchlists/{id} at 200/s" 200 PUT "http://127.0.0.1:$PORT/api/users/watchlists/$WL" "{\"symbols\":$SYMBOLS}"
run "PUT /api/users/filter-presets/{id} at 200/s" 200 PUT "http://127.0.0.1:$PORT/api/users/filter-presets/$PR" '{"filters":{"confidence_min":0.8},"is_default":true}'
run "GET /api/users/watchlists/{id} at 1,000/s while the same list is PUT 20/s" 1000 GET "http://127.0.0.1:$PORT/api/users/watchlists/$WL" "" &
reads=$!
sleep 1
hey -z "$((${DURATION%s} - 2))s" -c 1 -q 20 -m PUT -H "$AUTH" -T application/json -d "{\"symbols\":$SYMBOLS}" \
    "http://127.0.0.1:$PORT/api/users/watchlists/$WL" >/dev/null
wait $reads
run "GET /api/users/watchlists/{id} unthrottled" 0 GET "http://127.0.0.1:$PORT/api/users/watchlists/$WL"
ours=$(hey -z "$DURATION" -c 10 -H "$AUTH" "http://127.0.0.1:$PORT/api/users/filter-presets/$PR" | awk '/Requests\/sec/ {print $2}')
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$bin/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -i -s 10 -q patterndesk >/dev/null 2>&1
tps=$(as_pg "$bin/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -S -M prepared -c 10 -j 2 -T "${DURATION%s}" patterndesk 2>/dev/null \
    | awk '/^tps/ {print $3; exit}')
echo ""
python3 -c "import sys; o, t = float(sys.argv[1]), float(sys.argv[2]); print(f'read ceiling: GET /api/users/filter-presets/{{id}} {o:.0f} req/s vs pgbench -S -M prepared (-c 10 -j 2, scale 10) {t:.0f} tps: ratio {o / t:.2f}')" "$ours" "$tps"
