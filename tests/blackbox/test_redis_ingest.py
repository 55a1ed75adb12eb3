"""Black-box: the real binary, a real redis-server, redis-py as the producer, assertions on the HTTP output."""
import json
import threading
import time
from datetime import datetime, timedelta, timezone

import crash_test
from harness import STREAM, Service, flat_event, identity, wait_for


def iso(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


def find(service, symbol, **params):
    """Waits for a pattern of `symbol` to be in the scan output and returns it."""
    return wait_for(lambda: next(iter(service.scan(symbols=symbol, **params)), None), what=f"{symbol} in scan")


def test_every_producer_shape_reaches_the_scan(redis_server, service):
    r = redis_server.client()
    now = time.time() - 30
    inner = {"symbol": "AAPL", "pattern": "Bull_Flag", "confidence": 0.85, "current_price": 185.5, "price_change": 2.3,
             "timestamp": now, "expires_at": now + 3600, "source": "daily", "tier": "daily",
             "indicators": {"relative_strength": 1.5, "relative_volume": 2.1, "rsi": 65.0, "support_level": 180.0}}
    shapes = {
        # A. canonical nested
        "tickstock.events.patterns": [
            {"event_type": "pattern_detected", "source": "TickStockPL", "timestamp": now, "data": inner},
            # B. double nested, and the variant with data.tier and ISO timestamps
            {"event_type": "pattern_detected", "source": "TickStockPL", "timestamp": now, "channel": "x",
             "data": {"event_type": "pattern_detected", "source": "TickStockPL", "timestamp": now, "flow_id": "f1",
                      "data": dict(inner, symbol="MSFT")}},
            {"event_type": "pattern_detected", "timestamp": iso(now),
             "data": {"tier": "intraday", "timestamp": iso(now),
                      "data": {"symbol": "NVDA", "pattern": "Doji", "confidence": 0.7, "timestamp": iso(now)}}},
            # C. flat, and a flat variant with timeframe, price_at_detection, detection_timestamp, percentage confidence
            {"event_type": "pattern_detected", "symbol": "AMZN", "pattern": "Hammer", "confidence": 0.6, "current_price": 10,
             "price_change": 1, "timestamp": now, "expires_at": now + 3600, "indicators": {"rsi": 40}, "source": "daily"},
            {"event_type": "pattern_detected", "symbol": "GOOGL", "pattern": "EngulfingBullish", "confidence": 88,
             "timeframe": "5m", "price_at_detection": 140.2, "detection_timestamp": iso(now), "category": "candlestick",
             "metadata": {"note": "x"}},
            # E. flat v1.0
            {"event_type": "pattern_detected", "event_id": "e1", "published_at": iso(now), "source": "TickStockPL",
             "version": "1.0", "pattern_id": "p1", "pattern_name": "WeeklyBO", "symbol": "META", "timestamp": iso(now),
             "price": 500.5, "volume": 1000, "confidence": 0.9, "timeframe": "daily", "metadata": {}},
        ],
        # D. streaming, single and batch
        "tickstock:patterns:streaming": [
            {"type": "streaming_pattern",
             "detection": {"pattern": "PriceChange", "symbol": "TSLA", "confidence": 0.95, "timestamp": iso(now),
                           "parameters": {}, "timeframe": "1min"}},
        ],
        "tickstock:patterns:detected": [
            {"type": "patterns_batch", "count": 2, "patterns": [
                {"detection": {"pattern": "PriceChange", "symbol": "JPM", "confidence": 0.91, "timestamp": iso(now), "timeframe": "1min"}},
                {"detection": {"pattern": "VolumeSpike", "symbol": "XOM", "confidence": 0.92, "timestamp": iso(now), "timeframe": "1h"}},
            ]},
        ],
    }
    for channel, bodies in shapes.items():
        for body in bodies:
            assert r.publish(channel, json.dumps(body)) == 1
    expected = {
        "AAPL": ("Bull_Flag", "daily"), "MSFT": ("Bull_Flag", "daily"), "NVDA": ("Doji", "intraday"),
        "AMZN": ("Hammer", "daily"), "GOOGL": ("Bullish_Engulfing", "intraday"), "META": ("Weekly_Breakout", "daily"),
        "TSLA": ("Price_Change", "intraday"), "JPM": ("Price_Change", "intraday"), "XOM": ("Volume_Spike", "hourly"),
    }
    for symbol, (pattern_type, tier) in expected.items():
        pattern = find(service, symbol)
        assert (pattern["pattern_type"], pattern["tier"]) == (pattern_type, tier), (symbol, pattern)
    assert find(service, "GOOGL")["confidence"] == 0.88
    assert find(service, "AAPL")["indicators"]["support_level"] == 180.0
    stats = service.stats()
    assert stats["events_rejected"] == 0
    assert stats["per_channel"]["tickstock:patterns:detected"] == 1


def test_tier_channels_set_the_tier_when_the_body_has_none(redis_server, service):
    r = redis_server.client()
    for symbol, tier in [("AAPL", "daily"), ("MSFT", "intraday"), ("NVDA", "combo")]:
        r.publish(f"tickstock.events.patterns.{tier}", json.dumps(flat_event(symbol)))
    # The body's tier wins over the channel's.
    r.publish("tickstock.events.patterns.combo", json.dumps(flat_event("AMZN", tier="weekly")))
    for symbol, tier in [("AAPL", "daily"), ("MSFT", "intraday"), ("NVDA", "combo"), ("AMZN", "weekly")]:
        assert find(service, symbol)["tier"] == tier


def test_stream_entries_in_every_form(redis_server, service):
    r = redis_server.client()
    r.xadd(STREAM, {"data": json.dumps(flat_event("AAPL"))})
    r.xadd(STREAM, {"event": json.dumps(flat_event("MSFT"))})
    r.xadd(STREAM, {"payload": json.dumps(flat_event("NVDA"))})
    now = time.time()
    r.xadd(STREAM, {"event_type": "pattern_detected", "symbol": "AMZN", "pattern": "Bull_Flag", "confidence": "0.77",
                    "timestamp": str(now), "expires_at": str(now + 600), "tier": "intraday",
                    "indicators": json.dumps({"relative_strength": 1.7, "rsi": 61})})
    for symbol in ["AAPL", "MSFT", "NVDA"]:
        find(service, symbol)
    amzn = find(service, "AMZN")
    assert (amzn["tier"], amzn["confidence"], amzn["relative_strength"], amzn["rsi"]) == ("intraday", 0.77, 1.7, 61.0)
    wait_for(service.caught_up, what="stream acknowledged")


def test_malformed_and_oversize_messages_are_counted_and_the_service_keeps_going(redis_server, service):
    r = redis_server.client()
    bad = ["not json", "[1,2]", json.dumps({"event_type": "pattern_detected", "pattern": "Doji", "confidence": 0.5}),
           json.dumps(flat_event("AAPL", confidence=7000)), json.dumps(flat_event("lower case")),
           json.dumps(flat_event("AAPL", description="x" * 70_000)), "\xff\xfe"]
    for body in bad:
        r.publish("tickstock.events.patterns", body)
    r.xadd(STREAM, {"data": "{truncated"})
    r.xadd(STREAM, {"data": json.dumps(flat_event("MSFT"))})
    r.publish("tickstock.events.patterns", json.dumps(flat_event("NVDA")))
    find(service, "NVDA")
    find(service, "MSFT")
    stats = wait_for(lambda: (s := service.stats())["events_rejected"] == 8 and s, what="8 rejects")
    reasons = {k: v for k, v in stats["rejects_by_reason"].items() if v}
    assert reasons == {"not_json": 3, "not_object": 1, "missing_symbol": 1, "invalid_confidence": 1, "invalid_symbol": 1,
                       "oversize": 1}
    # The malformed stream entry is set aside with its reason and acknowledged.
    wait_for(service.caught_up, what="stream acknowledged")
    dead = r.xrange(STREAM + ":dead")
    assert len(dead) == 1 and dead[0][1][b"dead_reason"] == b"not_json" and dead[0][1][b"data"] == b"{truncated"
    assert service.alive()


def test_pattern_expired_removes_the_pattern(redis_server, service):
    r = redis_server.client()
    event = flat_event("AAPL", pattern="Bull_Flag", tier="daily")
    r.xadd(STREAM, {"data": json.dumps(event)})
    find(service, "AAPL")
    r.xadd(STREAM, {"data": json.dumps(dict(event, event_type="pattern_expired"))})
    wait_for(lambda: service.scan(symbols="AAPL") == [], what="AAPL expired")
    assert service.stats()["expired_by_event"] == 1
    # Pruned from the warm-start cache too.
    wait_for(lambda: r.hlen("patterndesk:patterns") == 0, what="cache pruned")


def test_entries_left_pending_by_a_dead_consumer_are_redelivered(redis_server):
    r = redis_server.client()
    r.xgroup_create(STREAM, "patterndesk", id="0", mkstream=True)
    r.xadd(STREAM, {"data": json.dumps(flat_event("AAPL"))})
    r.xreadgroup("patterndesk", "crashed-instance", {STREAM: ">"})  # read, never acknowledged
    assert r.xpending(STREAM, "patterndesk")["pending"] == 1
    service = Service(redis_server.url, "--redis-claim-idle-ms", "0").start()
    try:
        find(service, "AAPL")
        wait_for(service.caught_up, what="claimed entry acknowledged")
        counters = service.stats()["transport"]["counters"]
        assert counters["claimed"] == 1 and counters["redelivered"] == 1
        # Applying the same event again is an update, never a duplicate.
        r.xadd(STREAM, {"data": json.dumps(flat_event("AAPL", detected=json.loads(r.xrange(STREAM)[0][1][b"data"])["timestamp"]))})
        wait_for(lambda: service.stats()["updated"] == 1, what="idempotent update")
        assert len(service.scan(symbols="AAPL")) == 1
    finally:
        service.stop()


def test_the_live_set_survives_a_restart(redis_server):
    r = redis_server.client()
    first = Service(redis_server.url).start()
    events = [flat_event(s, detected=time.time() - 10) for s in ["AAPL", "MSFT", "NVDA"]]
    for event in events:
        r.publish("tickstock.events.patterns", json.dumps(event))
    short = flat_event("AMZN", ttl=2)
    r.publish("tickstock.events.patterns", json.dumps(short))
    wait_for(lambda: len(first.scan()) == 4, what="4 patterns")
    first.stop()
    time.sleep(2.1)  # AMZN expires while the service is down
    second = Service(redis_server.url).start()  # readiness waits for the warm start
    try:
        ids = sorted(p["id"] for p in second.scan())
        assert ids == sorted(identity(e["symbol"], "Doji", "daily", e["timestamp"]) for e in events)
        transport = second.stats()["transport"]
        assert transport["warm_start_loaded"] and transport["warm_start_patterns"] == 3
        assert r.hlen("patterndesk:patterns") == 3
    finally:
        second.stop()


def test_producer_heartbeat_shows_online_and_offline(redis_server, service):
    r = redis_server.client()
    r.set("tickstock:producer:heartbeat", str(time.time()))
    wait_for(lambda: service.get("/api/patterns/health")[1]["metrics"]["producer"] == "online", what="online")
    assert service.get("/health/ready")[1]["checks"]["producer"]["status"] == "up"
    r.set("tickstock:producer:heartbeat", str(time.time() - 120))
    wait_for(lambda: service.get("/api/patterns/health")[1]["metrics"]["producer"] == "offline", what="offline")
    assert service.stats()["producer"]["status"] == "offline"


def test_a_redis_restart_during_ingestion_loses_no_acknowledged_entry(redis_server, service):
    r = redis_server.client()
    published, stop = [], threading.Event()
    base = time.time() - 60

    def produce():
        i = 0
        while not stop.is_set() and i < 6000:
            detected = base + i / 1000.0
            body = json.dumps(flat_event(f"RR{i % 101}", detected=detected))
            try:
                r.xadd(STREAM, {"data": body})
                published.append(identity(f"RR{i % 101}", "Doji", "daily", detected))
                i += 1
            except Exception:  # noqa: BLE001 - Redis is down: retry the same event
                time.sleep(0.05)
            if i % 50 == 0:
                time.sleep(0.02)

    producer = threading.Thread(target=produce)
    producer.start()
    wait_for(lambda: len(published) > 1500, what="producer progress")
    redis_server.stop()
    # While Redis is down: scans still answer from the last index, stats say stale, readiness is degraded.
    status, ready = wait_for(lambda: (x := service.get("/health/ready", expect=None))[0] == 503 and x, what="degraded")
    assert ready["status"] == "degraded" and ready["checks"]["event_source"]["status"] == "down"
    assert service.stats()["stale"] is True
    assert len(service.scan()) > 0
    time.sleep(1.5)
    redis_server.start()
    producer.join(timeout=120)
    stop.set()
    try:
        wait_for(service.caught_up, timeout=30, what="catch-up after Redis restart")
    except AssertionError:
        print("TRANSPORT", json.dumps(service.stats()["transport"])); raise
    assert service.get("/health/ready")[0] == 200
    ids = set(service.scan_ids())
    assert set(published) <= ids, f"missing {len(set(published) - ids)} of {len(published)}"
    assert service.alive()
    assert service.stats()["transport"]["counters"]["connection_failures"] >= 1


def test_kill_minus_nine_mid_stream_loses_and_duplicates_nothing():
    result = crash_test.run_once(events=20_000)
    assert result["missing"] == 0 and result["extra"] == 0 and result["duplicates"] == 0
    assert result["indexed"] == result["published"] == 20_000


def test_publish_command_plays_the_producer_and_REDIS_URL_configures_the_service(redis_server, tmp_path):
    import os
    import subprocess

    from harness import BIN

    env = dict(os.environ, REDIS_URL=redis_server.url)
    service = Service("redis://127.0.0.1:1")  # the flag is overridden below: only the environment names Redis
    service.redis_url = None
    service.proc = subprocess.Popen(
        [BIN, "serve", "--http-port", str(service.port), "--redis-consumer", "env", "--log-level", "info"],
        env=env, stdout=service.log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: service.get("/health/ready", expect=None)[0] == 200, what="readiness")
        lines = tmp_path / "events.jsonl"
        lines.write_text("\n".join(json.dumps(flat_event(s)) for s in ["AAPL", "MSFT"]) + "\n\nnot json\n")
        subprocess.run([BIN, "publish", "--redis-url", redis_server.url, "--publish-stream", STREAM, "--publish-file", str(lines)],
                       check=True, capture_output=True)
        subprocess.run([BIN, "publish", "--redis-url", redis_server.url, "--publish-channel", "tickstock.events.patterns.combo"],
                       input=json.dumps(flat_event("NVDA")).encode(), check=True, capture_output=True)
        assert find(service, "AAPL")["tier"] == "daily" and find(service, "MSFT")
        assert find(service, "NVDA")["tier"] == "combo"
        wait_for(lambda: len(redis_server.client().xrange(STREAM + ":dead")) == 1, what="the bad line dead-lettered")
        assert f"127.0.0.1:{redis_server.port}" in service.logs()
        bad = subprocess.run([BIN, "publish", "--redis-url", redis_server.url], capture_output=True)
        assert bad.returncode != 0 and b"publish.channel" in bad.stderr
    finally:
        service.stop()


def test_detect_writes_to_the_stream_and_the_running_service_serves_its_live_detections(redis_server, service):
    """`patterndesk detect` over the bundled demo bars, stamped as of now, XADDs every detection; the service ingests
    them and serves exactly the ones still live."""
    import re
    import subprocess

    from harness import BIN, ROOT

    bars = f"{ROOT}/Sources/Adapters/InMemory/Resources/bars"
    out = subprocess.run(
        [BIN, "detect", "--bars", bars, "--symbols", "AAPL,MSFT,XOM,JPM,NVDA", "--as-of", "now", "--lifetime-days", "10",
         "--redis-url", redis_server.url, "--publish-stream", STREAM],
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    total = int(re.search(r"^total\s+(\d+)$", out.stderr, re.M).group(1))
    entries = redis_server.client().xrange(STREAM)
    assert len(entries) == total > 1000
    events = [json.loads(fields[b"data"]) for _, fields in entries]
    assert all(e["source"] == "patterndesk-detect" and "bar_date" in e["data"] for e in events)
    wait_for(service.caught_up, timeout=60, what="the service caught up with the stream")
    now = time.time()
    live = {(e["data"]["symbol"], e["data"]["pattern"], round(e["data"]["timestamp"] * 1000)) for e in events
            if e["data"]["expires_at"] > now + 30}
    expired_soon = {(e["data"]["symbol"], e["data"]["pattern"], round(e["data"]["timestamp"] * 1000)) for e in events
                    if now - 30 <= e["data"]["expires_at"] <= now + 30}
    served = set()
    for symbol in ["AAPL", "MSFT", "XOM", "JPM", "NVDA"]:
        for p in service.scan(symbols=symbol, per_page=100):
            detected = datetime.fromisoformat(p["detected_at"].replace("Z", "+00:00")).timestamp()
            served.add((p["symbol"], p["pattern_type"], round(detected * 1000)))
    assert live, "some detections of the last 10 days are live"
    assert served - expired_soon == live
    assert service.stats()["events_rejected"] == 0, "every detect event is a valid producer event"


def test_publish_sends_each_line_to_the_stream_or_channel_at_the_requested_rate(redis_server, tmp_path):
    import subprocess

    from harness import BIN

    lines = [json.dumps(flat_event(f"S{i}")) for i in range(12)]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines[:6]) + "\n\n" + "\n".join(lines[6:]) + "\n")
    started = time.monotonic()
    out = subprocess.run([BIN, "publish", "--redis-url", redis_server.url, "--publish-stream", "pub:test", "--publish-file", str(path),
                          "--publish-rate", "20"], capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert out.returncode == 0, out.stderr
    assert "published 12 events to stream pub:test" in out.stderr
    assert [fields[b"data"].decode() for _, fields in redis_server.client().xrange("pub:test")] == lines, "every line, in order, blank skipped"
    assert elapsed >= 0.5, "12 events at 20/s take at least 0.55 s"
    r = redis_server.client()
    pubsub = r.pubsub()
    pubsub.subscribe("pub:channel")
    wait_for(lambda: pubsub.get_message(timeout=0.1) is not None, what="subscribed")
    out = subprocess.run([BIN, "publish", "--redis-url", redis_server.url, "--publish-channel", "pub:channel"], input="\n".join(lines[:3]) + "\n",
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = []
    wait_for(lambda: (m := pubsub.get_message(timeout=0.1)) and got.append(m["data"].decode()) is None and len(got) == 3, what="3 messages")
    assert got == lines[:3]


def test_publish_fails_on_an_error_reply_in_any_chunk(redis_server, tmp_path):
    """The writer sends a chunk before reading the previous chunk's replies; an error reply, in the first or the last
    chunk, must still fail the command with Redis's message."""
    import subprocess

    from harness import BIN

    redis_server.client().set("pub:wrong", "not a stream")
    for count in (3, 2500):  # one chunk; three chunks of up to 1,000
        path = tmp_path / f"events-{count}.jsonl"
        path.write_text("\n".join(json.dumps(flat_event(f"S{i}")) for i in range(count)) + "\n")
        out = subprocess.run([BIN, "publish", "--redis-url", redis_server.url, "--publish-stream", "pub:wrong", "--publish-file", str(path)],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 1, out.stderr
        assert "WRONGTYPE" in out.stderr
