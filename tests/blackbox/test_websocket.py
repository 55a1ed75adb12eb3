"""Black-box: the real binary and real third-party clients from PyPI (python-socketio, websockets), with redis-py
publishing to a real redis-server."""
import asyncio
import json
import signal
import subprocess
import threading
import time

import socketio
import websockets

from harness import BIN, STREAM, flat_event, identity, wait_for


def xadd(r, *events):
    for event in events:
        r.xadd(STREAM, {"data": json.dumps(event)})


def ws_url(service, path="/ws"):
    return f"ws://127.0.0.1:{service.port}{path}"


async def until(ws, kind, timeout=10):
    """Every native message up to and including the first of `kind`."""
    collected = []
    deadline = time.monotonic() + timeout
    while True:
        frame = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
        for message in json.loads(frame):
            collected.append(message)
            if message["T"] == kind:
                return collected


def test_python_socketio_client_subscribes_both_ways_and_receives_redis_events(redis_server, service):
    r = redis_server.client()
    client = socketio.Client(reconnection=False)
    received = {"confirmed": [], "subs": [], "updates": [], "alerts": [], "acks": []}
    lock = threading.Lock()

    def on(name, key):
        def handler(data):
            with lock:
                received[key].append(data)
        client.on(name, handler)

    on("connection_confirmed", "confirmed")
    on("subscription_confirmed", "subs")
    on("pattern_update", "updates")
    on("pattern_alert", "alerts")
    on("heartbeat_ack", "acks")
    client.connect(f"http://127.0.0.1:{service.port}", transports=["websocket"])
    try:
        wait_for(lambda: received["confirmed"], what="connection_confirmed")
        assert received["confirmed"][0]["status"] == "connected" and received["confirmed"][0]["session_id"]
        client.emit("subscribe_patterns", {"patterns": ["Bull_Flag"]})
        client.emit("subscribe_patterns", {"watchlist_symbols": ["nvda"], "pattern_types": ["Doji"]})
        wait_for(lambda: len(received["subs"]) == 2, what="two subscription_confirmed")
        assert received["subs"][0]["subscribed_to"] == ["pattern_Bull_Flag"] and received["subs"][0]["patterns"] == ["Bull_Flag"]
        assert received["subs"][1]["subscribed_to"] == ["symbol_NVDA"] and received["subs"][1]["count"] == 1
        xadd(r, flat_event("AAPL", "Bull_Flag", 0.8), flat_event("NVDA", "Doji", 0.7), flat_event("NVDA", "Hammer", 0.9),
             flat_event("MSFT", "Doji", 0.9))
        wait_for(lambda: len(received["updates"]) >= 2 and len(received["alerts"]) >= 2, what="two pattern_update")
        time.sleep(0.3)  # nothing else may arrive
        assert sorted((u["symbol"], u["pattern"]) for u in received["updates"]) == [("AAPL", "Bull_Flag"), ("NVDA", "Doji")]
        update = next(u for u in received["updates"] if u["symbol"] == "AAPL")
        assert update["confidence"] == 0.8 and update["tier"] == "daily" and isinstance(update["timestamp"], float)
        alert = next(a for a in received["alerts"] if a["symbol"] == "AAPL")
        assert alert["type"] == "pattern_alert" and alert["event"] == alert["event_data"]
        assert alert["event"]["data"]["symbol"] == "AAPL"
        client.emit("heartbeat", {})
        wait_for(lambda: received["acks"], what="heartbeat_ack")
        assert isinstance(received["acks"][0]["timestamp"], float)
    finally:
        client.disconnect()


def test_socketio_long_polling_gets_a_clear_400(service):
    status, body = service.get("/socket.io/?EIO=4&transport=polling", expect=400)
    assert "websocket" in body["message"]


def test_native_protocol_with_websockets_including_resume(redis_server, service):
    r = redis_server.client()

    async def scenario():
        async with websockets.connect(ws_url(service)) as ws:
            connected = (await until(ws, "connected"))[-1]
            epoch = connected["epoch"]
            await ws.send(json.dumps({"action": "subscribe", "id": "tech", "sectors": ["XLK"], "confidence_min": 0.6}))
            await until(ws, "subscribed")
            xadd(r, flat_event("AAPL", "Doji", 0.7), flat_event("XOM", "Doji", 0.9), flat_event("MSFT", "Hammer", 0.5))
            first = [m for m in await until(ws, "pattern") if m["T"] == "pattern"]
            assert first[0]["data"]["symbol"] == "AAPL" and first[0]["subscription"] == "tech" and first[0]["epoch"] == epoch
            last_seq = first[-1]["seq"]
        # Disconnected: these are missed, then replayed on resume.
        xadd(r, flat_event("NVDA", "Doji", 0.8), flat_event("CVX", "Doji", 0.8), flat_event("ORCL", "Hammer", 0.9))
        # last_seq is AAPL's; XOM and MSFT follow it, then NVDA, CVX and ORCL: all five must be applied before the
        # reconnect, or ORCL can arrive live (and so not be replayed) after the new subscription.
        wait_for(lambda: service.stats()["websocket"]["seq"] >= last_seq + 5, what="events applied")
        async with websockets.connect(ws_url(service)) as ws:
            await until(ws, "connected")
            await ws.send(json.dumps({"action": "subscribe", "id": "tech", "sectors": ["XLK"], "confidence_min": 0.6}))
            await until(ws, "subscribed")
            await ws.send(json.dumps({"action": "resume", "after": last_seq, "epoch": epoch}))
            replay = await until(ws, "resumed")
            symbols = [m["data"]["symbol"] for m in replay if m["T"] == "pattern"]
            assert symbols == ["NVDA", "ORCL"], replay
            assert replay[-1]["replayed"] == 2
            await ws.send(json.dumps({"action": "resume", "after": 0, "epoch": "an-old-run"}))
            assert (await until(ws, "resync"))[-1]["reason"] == "epoch changed"

    asyncio.run(scenario())


def test_graceful_shutdown_sends_1001(service):
    async def scenario():
        async with websockets.connect(ws_url(service)) as ws:
            await until(ws, "connected")
            service.proc.send_signal(signal.SIGTERM)
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None

    assert asyncio.run(scenario()) == 1001
    service.proc.wait(timeout=15)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def churn(service, connections, parallel=50):
    async def one():
        async with websockets.connect(ws_url(service)) as ws:
            await until(ws, "connected")
            await ws.send(json.dumps({"action": "subscribe", "id": "s", "symbols": ["AAPL"]}))
            await until(ws, "subscribed")

    async def run():
        for start in range(0, connections, parallel):
            await asyncio.gather(*(one() for _ in range(min(parallel, connections - start))))

    asyncio.run(run())


def test_soak_2000_connections_in_churn_return_to_baseline(redis_server, service):
    churn(service, 300)  # warm the allocator and the server's pools
    wait_for(lambda: service.stats()["websocket"]["connections"] == 0, what="warm-up connections closed")
    baseline = rss_kb(service.proc.pid)
    opened_before = service.stats()["websocket"]["counters"]["connections_opened"]
    rounds = []
    for _ in range(3):
        churn(service, 2000)
        wait_for(lambda: service.stats()["websocket"]["connections"] == 0, what="every connection closed")
        rounds.append(rss_kb(service.proc.pid))
    stats = service.stats()["websocket"]
    assert stats["subscriptions"] == 0
    assert stats["counters"]["connections_opened"] - opened_before == 3 * 2000
    print(f"soak: RSS {baseline} KB before, {rounds} KB after each round of 2000 connections")
    assert rounds[0] - baseline < 8 * 1024, f"RSS grew {rounds[0] - baseline} KB over 2000 connections"
    # Memory a connection leaves behind adds up round after round (about 3 MB a round before connections ran
    # without tasks); what the allocator keeps for reuse does not.
    assert rounds[2] - rounds[0] < 1024, f"RSS kept growing: {rounds} KB after successive rounds"


def test_the_benchmarks_compiled_clients_record_what_they_were_sent(redis_server, service):
    """`patterndesk bench-ws-clients` (scripts/bench_ws.py's clients): each client reports exactly the patterns of
    its symbol group in order, one latency per pattern that carried a `pub_ts` and none for one that did not, a heavy
    client reads every pattern, and a stalled client subscribes and then stops reading. (Whether two patterns share a frame depends on timing; the frame
    scanner's unit tests cover that case.)"""
    clients = subprocess.Popen(
        [BIN, "bench-ws-clients", "--bench-ws-port", str(service.port), "--bench-ws-groups", "AAPL+MSFT,XOM",
         "--bench-ws-clients", "3", "--bench-ws-heavy", "1", "--bench-ws-stalled", "1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert clients.stdout.readline().strip() == "ready"
        r = redis_server.client()
        now = time.time()
        # One MULTI/EXEC, so the server reads all four in one batch.
        events = [flat_event("XOM", detected=now - 40, tier="daily", indicators={"pub_ts": time.time()}),
                  flat_event("MSFT", detected=now - 30, tier="daily"),
                  flat_event("AAPL", detected=now - 20, tier="daily", indicators={"pub_ts": time.time()}),
                  flat_event("NVDA", detected=now - 10, tier="daily", indicators={"pub_ts": time.time()})]
        transaction = r.pipeline(transaction=True)
        for event in events:
            transaction.xadd(STREAM, {"data": json.dumps(event)})
        transaction.execute()
        # 2 + 1 + 2 to the three readers, 4 to the heavy one, 4 to the stalled one (into its socket buffer).
        wait_for(lambda: service.stats()["websocket"]["counters"]["messages_delivered"] >= 13, what="deliveries")
        time.sleep(1)  # delivered means written to the socket; give the clients' loop time to read it
        report, _ = clients.communicate("stop\n", timeout=60)
    finally:
        if clients.poll() is None:
            clients.kill()
    reported = json.loads(report)["clients"]
    ids = {e["symbol"]: identity(e["symbol"], "Doji", "daily", e["timestamp"]) for e in events}
    assert [c["group"] for c in reported] == [0, 1, 0, None, None]
    assert [c["stall"] for c in reported] == [False, False, False, False, True]
    assert all(c["subscribed"] and c["close_code"] is None and c["errors"] == 0 for c in reported), reported
    for c in (reported[0], reported[2]):
        assert c["ids"] == [ids["MSFT"], ids["AAPL"]]
        assert len(c["latencies_us"]) == 1 and 0 <= c["latencies_us"][0] < 30_000_000
    assert reported[1]["ids"] == [ids["XOM"]] and len(reported[1]["latencies_us"]) == 1
    assert reported[3]["ids"] == [ids[e["symbol"]] for e in events] and len(reported[3]["latencies_us"]) == 3
