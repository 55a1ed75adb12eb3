"""Crash test: while a producer XADDs events, kill -9 PatternDesk mid-stream, restart it, and check that after catch-up
every published event is in the index exactly once (by identity). Usable from pytest and from the command line:

    python3 tests/blackbox/crash_test.py --runs 5 --events 20000
"""
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import STREAM, RedisServer, Service, identity, wait_for  # noqa: E402

import json  # noqa: E402


def run_once(events=20_000, rate=30_000, kill_after=0.4, log=print):
    server = RedisServer().start()
    service = Service(server.url, "--redis-batch", "500").start()
    client = server.client()
    base = time.time() - 60
    published = []
    done = threading.Event()

    def produce():
        pipe = client.pipeline(transaction=False)
        chunk = 200
        started = time.monotonic()
        for i in range(events):
            detected = base + i / 1000.0
            symbol = f"CR{i % 997}"
            body = {"event_type": "pattern_detected", "symbol": symbol, "pattern": "Doji", "tier": "daily",
                    "confidence": 0.5 + (i % 50) / 100, "timestamp": detected, "expires_at": detected + 86_400}
            pipe.xadd(STREAM, {"data": json.dumps(body)})
            published.append(identity(symbol, "Doji", "daily", detected))
            if len(pipe) >= chunk:
                pipe.execute()
                ahead = len(published) / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        pipe.execute()
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        wait_for(lambda: len(published) >= events * kill_after, timeout=60, what="producer progress")
        applied_before_kill = service.stats()["events_applied"]
        service.kill()
        killed_at = len(published)
        time.sleep(0.3)
        restarted = Service(server.url, "--redis-batch", "500")
        restarted.start()
        producer.join()
        wait_for(restarted.caught_up, timeout=120, what="catch-up")
        ids = restarted.scan_ids()
        stats = restarted.stats()
        restarted.stop()
    finally:
        done.wait(timeout=60)
        service.stop()
        server.close()
    missing = set(published) - set(ids)
    extra = set(ids) - set(published)
    duplicates = len(ids) - len(set(ids))
    log(f"crash test: published {len(published)}, killed after ~{killed_at} published / {applied_before_kill} applied; "
        f"index after restart {len(ids)} (missing {len(missing)}, unexpected {len(extra)}, duplicates {duplicates}); "
        f"warm start {stats['transport']['warm_start_patterns']}, redelivered {dict(stats['transport']['counters']).get('redelivered')}")
    return {"published": len(published), "indexed": len(ids), "missing": len(missing), "extra": len(extra),
            "duplicates": duplicates, "killed_at": killed_at}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    failures = 0
    for run in range(args.runs):
        result = run_once(events=args.events, kill_after=0.2 + 0.6 * run / max(1, args.runs - 1))
        ok = result["missing"] == 0 and result["extra"] == 0 and result["duplicates"] == 0 and result["indexed"] == result["published"]
        failures += 0 if ok else 1
        print(f"run {run + 1}: {'PASS' if ok else 'FAIL'}")
    sys.exit(1 if failures else 0)
