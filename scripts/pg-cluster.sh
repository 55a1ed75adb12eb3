#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks, on loopback, in a temporary directory, run as a non-root
# user (the `postgres` account the Debian package creates, when we are root).
#   scripts/pg-cluster.sh start DIR PORT   → initdb (once) + start; prints the DATABASE_URL of database `patterndesk`
#   scripts/pg-cluster.sh stop DIR         → fast shutdown
#   scripts/pg-cluster.sh restart DIR PORT
set -euo pipefail
command=${1:?start|stop|restart}
dir=${2:?directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$command" in
start | restart)
    port=${3:?port}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    [ "$command" = restart ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'patterndesk'" \
        | grep -q 1 || as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres patterndesk
    echo "postgres://postgres@127.0.0.1:$port/patterndesk?sslmode=disable"
    ;;
stop)
    [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
*) echo "usage: $0 start|stop|restart DIR [PORT]" >&2; exit 64 ;;
esac
