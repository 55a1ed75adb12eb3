"""Stream-ingest benchmarks against the release binary and a throwaway redis-server (no persistence), same box.

1. Baseline: `redis-benchmark -P 16 XADD` of the same event body, in this run.
2. Sustained end-to-end ingest: N events pre-loaded into the stream, then `patterndesk serve` consumes them
   (XREADGROUP, decode, normalise, index, warm-start cache HSET, XACK). Throughput and server CPU per event are taken
   over the middle 80 % of the catch-up, from /api/patterns/stats and /proc/<pid>/stat.
3. Visibility latency: a producer XADDs at 5,000 events/s; every 20 ms a probe event is XADDed and
   /api/patterns/scan?symbols=<probe> is polled until it shows; latency = first response that has it - XADD time.

    python3 scripts/bench_ingest.py [--events 300000] [--probes 300] [--runs 3] [--visibility-runs 3]
"""
import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "blackbox"))
import harness  # noqa: E402
from harness import STREAM, RedisServer, Service, wait_for  # noqa: E402

harness.BIN = os.environ.get("PATTERNDESK_BIN", os.path.join(harness.ROOT, ".build", "release", "patterndesk"))
SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "JPM", "XOM", "UNH", "V", "MA", "HD", "PG", "LLY"]
PATTERNS = ["Bull_Flag", "Doji", "Hammer", "WeeklyBO", "EngulfingBullish", "Ascending_Triangle"]


def body(i, base):
    detected = base + i / 1000.0
    return json.dumps({
        "event_type": "pattern_detected", "source": "TickStockPL", "timestamp": detected,
        "data": {"symbol": SYMBOLS[i % len(SYMBOLS)], "pattern": PATTERNS[i % len(PATTERNS)],
                 "confidence": round(0.5 + (i % 50) / 100, 2), "current_price": 100 + i % 300, "price_change": 1.5,
                 "timestamp": detected, "expires_at": detected + 86_400, "source": "daily", "tier": "daily",
                 "indicators": {"relative_strength": 1.3, "relative_volume": 2.2, "rsi": 55.0, "support_level": 98.0}}})


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def redis_benchmark_xadd(server, sample, n=200_000):
    out = subprocess.run(["redis-benchmark", "-p", str(server.port), "-P", "16", "-n", str(n), "-q", "XADD",
                          "bench:xadd", "*", "data", sample], capture_output=True, text=True, check=True).stdout
    return float(re.findall(r"([\d.]+) requests per second", out)[-1])


def preload(server, events, base):
    r = server.client()
    pipe = r.pipeline(transaction=False)
    for i in range(events):
        pipe.xadd(STREAM, {"data": body(i, base)})
        if len(pipe) >= 1000:
            pipe.execute()
    pipe.execute()


def sustained(events):
    server = RedisServer().start()
    try:
        baseline = redis_benchmark_xadd(server, body(0, time.time()))
        preload(server, events, time.time() - 600)
        service = Service(server.url, "--log-level", "warning").start(wait_ready=False)
        pid = service.proc.pid
        samples = []
        deadline = time.time() + 300
        while time.time() < deadline:
            status, stats = service.get("/api/patterns/stats", expect=None)
            if status == 200:
                applied = stats["stats"]["events_applied"]
                samples.append((time.monotonic(), applied, cpu_seconds(pid)))
                if applied >= events:
                    break
            time.sleep(0.1)
        service.stop()
        lo = next(s for s in samples if s[1] >= events * 0.1)
        hi = next(s for s in samples if s[1] >= events * 0.9)
        rate = (hi[1] - lo[1]) / (hi[0] - lo[0])
        cpu_us = (hi[2] - lo[2]) / (hi[1] - lo[1]) * 1e6
        return {"events_per_s": rate, "cpu_us_per_event": cpu_us, "xadd_baseline_per_s": baseline,
                "total_s": samples[-1][0] - samples[0][0]}
    finally:
        server.close()


def produce(port, rate, stop, produced):
    import redis
    client = redis.Redis(host="127.0.0.1", port=port)
    base = time.time() - 600
    i, started = 0, time.monotonic()
    pipe = client.pipeline(transaction=False)
    while not stop.is_set():
        for _ in range(25):
            pipe.xadd(STREAM, {"data": body(i, base)})
            i += 1
        pipe.execute()
        ahead = i / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
    produced.value = i / (time.monotonic() - started)


def visibility(probes, rate=5000):
    server = RedisServer().start()
    try:
        service = Service(server.url, "--log-level", "warning").start()
        stop = multiprocessing.Event()
        produced = multiprocessing.Value("d", 0.0)
        # The producer runs in its own process, so its work never delays the probe's timing in this one.
        thread = multiprocessing.Process(target=produce, args=(server.port, rate, stop, produced), daemon=True)
        thread.start()
        r = server.client()
        conn = http.client.HTTPConnection("127.0.0.1", service.port)
        latencies = []
        time.sleep(1)
        for n in range(probes):
            symbol = f"PRB{n}"
            now = time.time()
            event = {"event_type": "pattern_detected", "symbol": symbol, "pattern": "Doji", "confidence": 0.9,
                     "timestamp": now, "expires_at": now + 3600}
            sent = time.perf_counter()
            r.xadd(STREAM, {"data": json.dumps(event)})
            while True:
                conn.request("GET", f"/api/patterns/scan?symbols={symbol}")
                if b'"id"' in conn.getresponse().read():
                    latencies.append((time.perf_counter() - sent) * 1000)
                    break
                if time.perf_counter() - sent > 5:
                    raise AssertionError(f"{symbol} not visible after 5 s")
            time.sleep(0.02 + random.random() * 0.005)
        stop.set()
        thread.join()
        service.stop()
        latencies.sort()
        pct = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p))]  # noqa: E731
        return {"p50_ms": statistics.median(latencies), "p90_ms": pct(0.9), "p99_ms": pct(0.99), "max_ms": latencies[-1],
                "producer_rate": produced.value, "probes": len(latencies)}
    finally:
        server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--visibility-runs", type=int, default=3)
    args = parser.parse_args()
    runs = [sustained(args.events) for _ in range(args.runs)]
    for n, run in enumerate(runs, 1):
        print(f"sustained run {n}: {run['events_per_s']:,.0f} events/s, {run['cpu_us_per_event']:.1f} µs CPU/event, "
              f"redis-benchmark -P 16 XADD {run['xadd_baseline_per_s']:,.0f}/s, catch-up of {args.events} in {run['total_s']:.1f} s")
    median = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
    if runs:
        print(f"sustained median: {median('events_per_s'):,.0f} events/s; {median('cpu_us_per_event'):.1f} µs CPU/event; "
              f"XADD baseline {median('xadd_baseline_per_s'):,.0f}/s; ratio ingest/XADD {median('events_per_s') / median('xadd_baseline_per_s'):.2f}")
    for _ in range(args.visibility_runs):
        v = visibility(args.probes)
        print(f"visibility at {v['producer_rate']:,.0f} events/s: p50 {v['p50_ms']:.2f} ms, p90 {v['p90_ms']:.2f} ms, "
              f"p99 {v['p99_ms']:.2f} ms, max {v['max_ms']:.2f} ms over {v['probes']} probes")
