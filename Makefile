# PatternDesk: the two set-up commands are `make run` and `make test`.
SWIFT ?= swift
# hiredis links into the binary; the tests also start redis-server and use redis-cli, and throwaway PostgreSQL
# clusters (initdb as the non-root `postgres` user the package creates).
APT_PACKAGES ?= libhiredis-dev
TEST_PACKAGES ?= libhiredis-dev redis-server redis-tools postgresql
BENCH_PACKAGES ?= hey redis-server redis-tools postgresql
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test deps bench bench-http bench-ingest bench-ws bench-userdata check-architecture clean

## Installs the Debian packages named in $(1) that are missing. A redis-server or PostgreSQL cluster that the package
## install started is stopped again: the tests start their own on free ports.
define apt_install
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; \
	  case " $$missing " in *" redis-server "*) $(SUDO) service redis-server stop >/dev/null 2>&1 || true;; esac; \
	  case " $$missing " in *" postgresql "*) $(SUDO) service postgresql stop >/dev/null 2>&1 || true;; esac; fi
endef

deps:
	$(call apt_install,$(APT_PACKAGES))

## The embedded default: in memory, with the demo producer, on http://127.0.0.1:8080
run: deps
	$(SWIFT) build -c release --product patterndesk
	.build/release/patterndesk serve

## The whole test suite against a real redis-server it starts and stops (scripts/test.sh), then the layer rules.
test:
	$(call apt_install,$(TEST_PACKAGES))
	SWIFT=$(SWIFT) bash scripts/test.sh

check-architecture:
	$(SWIFT) package check-architecture

## Index benchmark (release build): 10k, 100k and 1M patterns.
bench:
	$(SWIFT) build -c release --product patterndesk
	.build/release/patterndesk bench

## HTTP benchmark with hey at 1,000 req/s against a 10k-pattern index.
bench-http:
	$(call apt_install,$(BENCH_PACKAGES))
	$(SWIFT) build -c release --product patterndesk
	bash scripts/bench-http.sh

## Redis ingest: in-process apply latency, sustained stream ingest vs redis-benchmark XADD, visibility latency at
## 5,000 events/s, and the kill -9 crash test 5 times.
bench-ingest:
	$(call apt_install,$(BENCH_PACKAGES) libhiredis-dev)
	$(SWIFT) build -c release --product patterndesk
	.build/release/patterndesk bench-apply
	python3 -c "import redis" 2>/dev/null || python3 -m pip install -q redis
	python3 scripts/bench_ingest.py
	PATTERNDESK_BIN=$(CURDIR)/.build/release/patterndesk python3 tests/blackbox/crash_test.py --runs 5 --events 20000

## User data: watchlist and preset reads at 1,000 req/s and writes at 200 req/s (hey) on a throwaway PostgreSQL, and the
## read ceiling against pgbench -S -M prepared in the same run.
bench-userdata:
	$(call apt_install,$(BENCH_PACKAGES) libhiredis-dev)
	$(SWIFT) build -c release --product patterndesk
	bash scripts/bench-userdata.sh

## WebSocket delivery: latency XADD -> client, a stalled client (against the same client reading, in rotated order),
## fan-out to 1,000 clients, 10,000 idle connections, a reconnect-with-resume wave.
bench-ws:
	$(call apt_install,$(BENCH_PACKAGES) libhiredis-dev)
	$(SWIFT) build -c release --product patterndesk
	python3 -c "import redis, websockets" 2>/dev/null || python3 -m pip install -q redis websockets
	for order in latency,heavy,stall heavy,stall,latency stall,latency,heavy; do \
	  python3 scripts/bench_ws.py --scenarios $$order --seconds 15 --tick-ms 1 || exit 1; done
	python3 scripts/bench_ws.py --scenarios resume,idle --seconds 15
	python3 scripts/bench_ws.py --scenarios fanout --seconds 8 --fanout-rate 100
	python3 scripts/bench_ws.py --scenarios fanout --seconds 8 --fanout-rate 200

clean:
	rm -rf .build
