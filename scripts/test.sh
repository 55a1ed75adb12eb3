#!/usr/bin/env bash
# The whole test suite against real services it starts itself and stops on exit: a throwaway redis-server and a
# throwaway PostgreSQL cluster (scripts/pg-cluster.sh) on free loopback ports for the Swift suites; the black-box suites
# (pytest + redis-py, python-socketio, websockets) start their own servers and the real `patterndesk serve` binary.
# Then the layer rules.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}

# Third-party clients the black-box suites drive the binary with (schemathesis fuzzes it against /openapi.yaml).
packages="redis pytest pytest-timeout websockets python-socketio websocket-client schemathesis openapi-spec-validator pyyaml prometheus-client"
python3 -c "import redis, pytest, pytest_timeout, websockets, socketio, websocket, schemathesis, openapi_spec_validator, yaml, prometheus_client" 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check $packages \
    || python3 -m pip install -q --disable-pip-version-check --break-system-packages $packages

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
pg_dir=$(mktemp -d)
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no >"$dir/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; bash scripts/pg-cluster.sh stop "$pg_dir"; rm -rf "$dir" "$pg_dir"' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$port" ping >/dev/null
database_url=$(bash scripts/pg-cluster.sh start "$pg_dir" "$pg_port")

"$SWIFT" build --build-tests --explicit-target-dependency-import-check error
# A hung test must fail the run, not stall CI: each suite has a Swift Testing time limit, and the whole bundle gets a
# hard one here. Output is line-buffered so that what a killed run printed last is really what it did last.
log="$dir/swift-test.log"
set +e
NO_COLOR=1 PATTERNDESK_TEST_REDIS_URL="redis://127.0.0.1:$port" PATTERNDESK_TEST_DATABASE_URL="$database_url" timeout -k 30 "${SWIFT_TEST_TIMEOUT:-1200}" \
    stdbuf -oL -eL .build/debug/patterndeskPackageTests.xctest --testing-library swift-testing --verbose 2>&1 \
    | tee "$log" | grep --line-buffered -v '^◇'
status=${PIPESTATUS[0]}
set -e
if [ "$status" != 0 ]; then
    if [ "$status" = 124 ] || [ "$status" = 137 ]; then
        echo "swift test exceeded ${SWIFT_TEST_TIMEOUT:-1200} s; tests that started and never finished:" >&2
        grep -E '^◇ Test "' "$log" | grep -oE '^◇ Test "[^"]*"' | sed 's/^◇ //' | sort -u >"$dir/started" || true
        grep -E '^. Test "[^"]*".* (passed|failed) after' "$log" | grep -oE 'Test "[^"]*"' | sort -u >"$dir/ended" || true
        comm -23 "$dir/started" "$dir/ended" >&2 || true
    fi
    exit "$status"
fi
"$SWIFT" build --product patterndesk
PATTERNDESK_BIN="$PWD/.build/debug/patterndesk" python3 -m pytest tests/blackbox -q --timeout 600
"$SWIFT" package check-architecture
