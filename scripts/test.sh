#!/usr/bin/env bash
# The whole test suite against real services it starts itself and stops on exit: a throwaway redis-server on a free
# loopback port for the Swift suites; the black-box suites (pytest + redis-py) start their own redis-servers and the
# real `patterndesk serve` binary. Then the layer rules.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}

# Third-party clients the black-box suites drive the binary with.
packages="redis pytest websockets python-socketio websocket-client"
python3 -c "import redis, pytest, websockets, socketio, websocket" 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check $packages \
    || python3 -m pip install -q --disable-pip-version-check --break-system-packages $packages

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no >"$dir/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$port" ping >/dev/null

"$SWIFT" build --build-tests --explicit-target-dependency-import-check error
PATTERNDESK_TEST_REDIS_URL="redis://127.0.0.1:$port" "$SWIFT" test --skip-build
"$SWIFT" build --product patterndesk
PATTERNDESK_BIN="$PWD/.build/debug/patterndesk" python3 -m pytest tests/blackbox -q
"$SWIFT" package check-architecture
