"""WebSocket delivery benchmarks: the release binary, a throwaway redis-server and clients, all on loopback. The
latency and stall clients are compiled (`patterndesk bench-ws-clients`, one event loop thread; `--client python` for
websockets in worker processes, which saturate a core at 25,000 frames/s); the other scenarios use the Python clients.
The producer XADDs flat events carrying their publish time (`indicators.pub_ts`); each client measures latency =
receipt - pub_ts and records every pattern id, so loss and duplicates are counted exactly.

Scenarios (each run in the same invocation, so ratios share the box's conditions):
  latency   250 clients, 1,000 events/s, each client's subscription matches 10 % of the symbols
  stall     the same plus one client that subscribes to everything and stops reading: the others' p99 against
            `latency` and against `heavy`
  heavy     the control for `stall`: the same plus one client that subscribes to everything and keeps reading
  fanout    1,000 clients subscribed to everything: delivered messages/s and server CPU per delivered message
  idle      10,000 idle subscribed connections: server RSS growth per connection
  resume    1,000 clients (10 % each) drop and reconnect within 1 s with `resume` while 100 events/s flow: time until every one is
            resubscribed and caught up (`resumed`), and loss across the gap

    python3 scripts/bench_ws.py [--scenarios latency,stall,heavy,fanout,idle,resume] [--seconds 20] [--runs 1]
                                [--client swift|python] [--redis-aof off|always] [--tick-ms 10] [--dump FILE]
"""
import argparse
import collections
import asyncio
import json
import multiprocessing
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "blackbox"))
import harness  # noqa: E402
from harness import STREAM, RedisServer, Service, identity, wait_for  # noqa: E402

harness.BIN = os.environ.get("PATTERNDESK_BIN", os.path.join(harness.ROOT, ".build", "release", "patterndesk"))
GROUPS = 10
TICK_SECONDS = 0.01  # --tick-ms
DUMP = None  # --dump
SYMBOLS = [f"S{g}{i}" for g in range(GROUPS) for i in range(10)]  # group g = symbols S<g>0..S<g>9


def raise_file_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


# ---------------------------------------------------------------------------------------------------------- clients

def worker(url, specs, ready, stop, results, reconnect_at):
    """Runs `specs` (dicts: group or None for all, stall) as websockets clients until `stop` is set."""
    raise_file_limit()

    async def session(spec, state):
        subscribe = {"action": "subscribe", "id": "s"}
        if spec["group"] is not None:
            subscribe["symbols"] = SYMBOLS[spec["group"] * 10:(spec["group"] + 1) * 10]
        async with websockets.connect(url, max_size=None, max_queue=4 if spec["stall"] else 1024,
                                      ping_interval=None, open_timeout=60) as ws:
            await ws.send(json.dumps(subscribe))
            subscribed = False
            if state.get("last_seq") is not None:
                await ws.send(json.dumps({"action": "resume", "after": state["last_seq"], "epoch": state["epoch"]}))
            while not subscribed or state.get("resuming"):
                for m in json.loads(await ws.recv()):
                    if m["T"] == "connected":
                        state["epoch"] = m["epoch"]
                    elif m["T"] == "subscribed":
                        subscribed = True
                    elif m["T"] == "resumed":
                        state["resumed_at"] = time.time()
                        state["resuming"] = False
                    elif m["T"] == "pattern":
                        record(m, state)
            if not state.get("counted"):
                state["counted"] = True
                with ready.get_lock():
                    ready.value += 1
            if spec["stall"]:
                while not stop.is_set() and not state.get("drop"):
                    await asyncio.sleep(0.05)
                return
            while not stop.is_set() and not state.get("drop"):
                try:
                    frame = await asyncio.wait_for(ws.recv(), 0.2)
                except asyncio.TimeoutError:
                    continue
                now = time.time()
                for m in json.loads(frame):
                    if m["T"] == "pattern":
                        record(m, state, now)

    def record(m, state, now=None):
        now = now or time.time()
        state["ids"].append(m["data"]["id"])
        state["last_seq"] = m["seq"]
        pub = m["data"]["indicators"].get("pub_ts")
        if pub is not None and not state.get("resuming"):
            state["latencies"].append(now - pub)

    async def client(spec):
        state = {"ids": [], "latencies": [], "group": spec["group"], "stall": spec["stall"],
                 "extra": spec.get("extra", False)}
        try:
            task = asyncio.ensure_future(session(spec, state))
            if reconnect_at.value > 0:
                # Resume scenario: drop at the given wall time plus a random offset within 1 s, then reconnect.
                while time.time() < reconnect_at.value + spec["offset"] and not task.done():
                    await asyncio.sleep(0.01)
                state["drop"] = True
                await task
                state["drop"] = False
                state["resuming"] = True
                state["reconnected_at"] = time.time()
                await session(spec, state)
            else:
                await task
        except Exception as error:  # noqa: BLE001 - a closed stalled client is expected
            state["error"] = repr(error)
        return state

    async def main():
        states = await asyncio.gather(*(client(spec) for spec in specs))
        results.put([{k: s.get(k) for k in ("ids", "latencies", "group", "stall", "extra", "error", "resumed_at",
                                            "reconnected_at")}
                     for s in states])

    asyncio.run(main())


def start_clients(service, specs, processes, reconnect_at=None):
    ready = multiprocessing.Value("i", 0)
    stop = multiprocessing.Event()
    results = multiprocessing.Queue()
    reconnect_at = reconnect_at or multiprocessing.Value("d", 0.0)
    url = f"ws://127.0.0.1:{service.port}/ws"
    workers = [multiprocessing.Process(target=worker, args=(url, specs[i::processes], ready, stop, results, reconnect_at))
               for i in range(processes)]
    for w in workers:
        w.start()
    wait_for(lambda: ready.value == len(specs), timeout=300, what=f"{len(specs)} clients subscribed")
    return workers, stop, results


class SwiftClients:
    """`patterndesk bench-ws-clients`: the same clients compiled, on one event loop thread, so that the clients' own
    CPU does not set the latency on a box where they share two cores with the server, Redis and the publisher."""

    def __init__(self, service, specs, threads=1):
        clients = [s for s in specs if not s["stall"] and not s.get("extra")]
        heavy = sum(1 for s in specs if s.get("extra"))
        # The compiled clients report in this order: group clients, heavy readers, stalled clients.
        self.specs = clients + [s for s in specs if s.get("extra")] + [s for s in specs if s["stall"]]
        if all(s["group"] is None for s in clients):
            groups = "+".join(SYMBOLS)  # one group of every symbol: each client gets every event
        else:
            assert all(s["group"] == i % GROUPS for i, s in enumerate(clients)), "client i takes group i mod GROUPS"
            groups = ",".join("+".join(SYMBOLS[g * 10:(g + 1) * 10]) for g in range(GROUPS))
        self.proc = subprocess.Popen(
            [harness.BIN, "bench-ws-clients", "--bench-ws-port", str(service.port), "--bench-ws-groups", groups,
             "--bench-ws-clients", str(len(clients)), "--bench-ws-heavy", str(heavy),
             "--bench-ws-stalled", str(len(specs) - len(clients) - heavy),
             "--bench-ws-threads", str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"bench-ws-clients did not get ready: {line!r}")

    def collect(self):
        out, _ = self.proc.communicate("stop\n", timeout=120)
        states = []
        for c, spec in zip(json.loads(out)["clients"], self.specs, strict=True):
            error = None if c["close_code"] is None else f"closed {c['close_code']}"
            states.append({"ids": c["ids"], "latencies": [us / 1e6 for us in c["latencies_us"]], "group": c["group"],
                           "stall": c["stall"], "extra": spec.get("extra", False), "error": error})
        return states


def collect(workers, stop, results):
    stop.set()
    states = []
    for _ in workers:
        states += results.get(timeout=120)
    for w in workers:
        w.join(timeout=30)
    return states


# ------------------------------------------------------------------------------------------------------- publisher

def publish(server, rate, seconds, counter_base):
    """XADDs `rate` events/s for `seconds`, one pipeline per tick (`--tick-ms`); returns (symbol, pattern id) of each
    event, in order. What is due is counted from the clock, not from the ticks taken, so a late tick sends more and
    the rate holds even when a tick overruns."""
    r = server.client()
    published = []
    start = time.time()
    tick = TICK_SECONDS
    n = 0
    while time.time() - start < seconds:
        due = int(rate * (int((time.time() - start) / tick) + 1) * tick + 1e-9)
        pipe = r.pipeline(transaction=False)
        while n < due:
            symbol = SYMBOLS[random.randrange(len(SYMBOLS))]
            detected = counter_base + n / 1000.0
            event = {"event_type": "pattern_detected", "symbol": symbol, "pattern": "Doji", "confidence": 0.8,
                     "timestamp": detected, "expires_at": detected + 86_400, "tier": "daily",
                     "indicators": {"pub_ts": time.time(), "relative_volume": 2.0}}
            pipe.xadd(STREAM, {"data": json.dumps(event)})
            published.append((symbol, identity(symbol, "Doji", "daily", detected)))
            n += 1
        pipe.execute()
        next_tick = start + (int((time.time() - start) / tick) + 1) * tick
        time.sleep(max(0.0, next_tick - time.time()))
    return published


def service_for(server, *extra):
    raise_file_limit()
    return Service(server.url, "--redis-batch", "200", "--redis-block-ms", "100", "--redis-cache-key", "",
                   "--log-level", "warning", *extra).start()


def losses(states, published):
    """Lost and duplicated deliveries over the clients that kept reading; the first few offenders go to stderr."""
    expected = {g: set() for g in range(GROUPS)}
    for symbol, pattern_id in published:
        expected[int(symbol[1])].add(pattern_id)
    everything = set().union(*expected.values())
    lost = dup = 0
    examples = []
    for s in states:
        if s["stall"]:
            continue
        want = everything if s["group"] is None else expected[s["group"]]
        ids = s["ids"]
        unique = set(ids)
        dup += len(ids) - len(unique)
        missing = want - unique
        lost += len(missing)
        if (missing or len(ids) != len(unique)) and len(examples) < 3:
            counts = collections.Counter(ids)
            examples.append({"group": s["group"], "missing": sorted(missing)[:5],
                             "duplicated": [i for i, c in counts.items() if c > 1][:5],
                             "unexpected": sorted(unique - want)[:5]})
    for example in examples:
        print("delivery mismatch:", json.dumps(example), file=sys.stderr)
    return lost, dup


def p99_by_second(states, published, rate):
    """The others' p99 latency for the events published in each second of the run (event n is published n / rate
    seconds after the first)."""
    second_of = {pattern_id: n // rate for n, (_, pattern_id) in enumerate(published)}
    buckets = collections.defaultdict(list)
    for s in states:
        if s["stall"] or s.get("extra"):
            continue
        for pattern_id, latency in zip(s["ids"], s["latencies"]):
            if pattern_id in second_of:
                buckets[second_of[pattern_id]].append(latency)
    return [percentile(buckets[k], 99) for k in sorted(buckets)]


class CloseWatcher:
    """Polls the service's `slow_consumers_closed` counter every 50 ms from now until `stop`, which answers how many
    seconds after the start the first slow consumer was closed (None if none was)."""

    def __init__(self, service):
        self.service, self.started, self.closed_after = service, time.time(), None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done.wait(0.05):
            if self.closed_after is None and self.service.stats()["websocket"]["counters"]["slow_consumers_closed"] > 0:
                self.closed_after = time.time() - self.started

    def stop(self):
        self.done.set()
        self.thread.join()
        return self.closed_after


# ------------------------------------------------------------------------------------------------------- scenarios

def scenario_latency(server, seconds, stall=False, heavy=False, clients=250, client="swift"):
    service = service_for(server)
    try:
        specs = [{"group": i % GROUPS, "stall": False, "offset": 0} for i in range(clients)]
        if stall:
            specs.append({"group": None, "stall": True, "offset": 0})
        if heavy:
            specs.append({"group": None, "stall": False, "extra": True, "offset": 0})
        if client == "swift":
            swift = SwiftClients(service, specs)
        else:
            workers, stop, results = start_clients(service, specs, processes=2)
        cpu0 = cpu_seconds(service.proc.pid)
        # Both scenarios poll the stats alike (20 times a second), so that the stall run's only difference is the
        # stalled client; the poll notes when the server closed it, counted from the first publish.
        watcher = CloseWatcher(service)
        published = publish(server, 1000, seconds, time.time() - 3600)
        time.sleep(2)
        closed_after = watcher.stop()
        cpu = cpu_seconds(service.proc.pid) - cpu0
        states = swift.collect() if client == "swift" else collect(workers, stop, results)
        ws = service.stats()["websocket"]["counters"]
        latencies = [x for s in states if not s["stall"] and not s.get("extra") for x in s["latencies"]]
        if DUMP:
            with open(DUMP, "w") as f:
                json.dump({"states": states, "published": published, "stalled_closed_after_s": closed_after}, f)
        lost, dup = losses(states, published)
        by_second = p99_by_second(states, published, 1000)
        result = {"events": len(published), "messages": len(latencies), "p50_ms": percentile(latencies, 50) * 1000,
                  "p99_ms": percentile(latencies, 99) * 1000, "p999_ms": percentile(latencies, 99.9) * 1000,
                  "lost": lost, "duplicated": dup, "slow_closed": ws["slow_consumers_closed"], "server_cpu_s": cpu,
                  "p99_by_second_ms": [round(x * 1000, 2) for x in by_second]}
        if stall:
            result["stalled_closed_after_s"] = None if closed_after is None else round(closed_after, 2)
        return result
    finally:
        service.stop()


def scenario_fanout(server, seconds, clients=1000, rate=100, client="swift"):
    service = service_for(server, "--ws-lag-ms", "60000", "--ws-queue-messages", "100000", "--ws-queue-bytes", str(256 << 20))
    try:
        specs = [{"group": None, "stall": False, "offset": 0} for _ in range(clients)]
        if client == "swift":
            swift = SwiftClients(service, specs)
        else:
            workers, stop, results = start_clients(service, specs, processes=3)
        before = service.stats()["websocket"]["counters"]["messages_delivered"]
        cpu0 = cpu_seconds(service.proc.pid)
        t0 = time.time()
        publish(server, rate, seconds, time.time() - 7200)
        elapsed = time.time() - t0
        cpu = cpu_seconds(service.proc.pid) - cpu0
        delivered = service.stats()["websocket"]["counters"]["messages_delivered"] - before
        states = swift.collect() if client == "swift" else collect(workers, stop, results)
        received = sum(len(s["ids"]) for s in states)
        return {"clients": clients, "events_per_s": rate, "delivered_per_s": delivered / elapsed,
                "received_per_s": received / elapsed,
                "server_cpu_us_per_message": cpu / max(1, delivered) * 1e6, "server_cpu_cores": cpu / elapsed}
    finally:
        service.stop()


def scenario_idle(server, connections=10_000):
    service = service_for(server)
    try:
        time.sleep(1)
        baseline = rss_kb(service.proc.pid)
        specs = [{"group": i % GROUPS, "stall": False, "offset": 0} for i in range(connections)]
        workers, stop, results = start_clients(service, specs, processes=4)
        time.sleep(2)
        after = rss_kb(service.proc.pid)
        open_connections = service.stats()["websocket"]["connections"]
        collect(workers, stop, results)
        return {"connections": open_connections, "rss_before_kb": baseline, "rss_after_kb": after,
                "kb_per_connection": (after - baseline) / connections}
    finally:
        service.stop()


def scenario_resume(server, seconds, clients=1000, rate=100):
    service = service_for(server)
    try:
        reconnect_at = multiprocessing.Value("d", 0.0)
        specs = [{"group": i % GROUPS, "stall": False, "offset": random.random()} for i in range(clients)]
        reconnect_at.value = time.time() + 600  # armed below
        workers, stop, results = start_clients(service, specs, processes=2, reconnect_at=reconnect_at)
        reconnect_at.value = time.time() + seconds / 2
        published = publish(server, rate, seconds, time.time() - 10800)
        time.sleep(3)
        states = collect(workers, stop, results)
        wave = reconnect_at.value
        done = [s["resumed_at"] - wave for s in states if s.get("resumed_at")]
        lost, dup = losses(states, published)
        ws = service.stats()["websocket"]["counters"]
        return {"clients": clients, "resumed": len(done), "all_caught_up_within_s": max(done) if done else None,
                "median_s": statistics.median(done) if done else None, "lost": lost, "duplicated": dup,
                "replayed": ws["replayed"], "resyncs": ws["resyncs"],
                "errors": sum(1 for s in states if s.get("error"))}
    finally:
        service.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", default="latency,stall,heavy,fanout,idle,resume")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--clients", type=int, default=250, help="clients in the latency and stall scenarios")
    parser.add_argument("--fanout-rate", type=int, default=100, help="events/s in the fanout scenario")
    parser.add_argument("--client", choices=["swift", "python"], default="swift",
                        help="latency, stall and fanout clients: compiled (patterndesk bench-ws-clients) or websockets in "
                             "Python")
    parser.add_argument("--redis-aof", choices=["off", "always"], default="off",
                        help="off: nothing written to disk; always: AOF fsynced before every reply (the black-box "
                             "tests' setting), which puts the disk into every XADD -> XREADGROUP hand-off")
    parser.add_argument("--tick-ms", type=float, default=10,
                        help="the publisher sends one pipeline per tick (10 ms: 10 events at 1,000/s; 1: one XADD each)")
    parser.add_argument("--dump", help="write every client's ids and latencies and the published ids (latency, stall) here")
    args = parser.parse_args()
    global TICK_SECONDS, DUMP
    TICK_SECONDS, DUMP = args.tick_ms / 1000, args.dump
    raise_file_limit()
    server = RedisServer(aof=args.redis_aof == "always")
    server.start()
    try:
        for run in range(args.runs):
            for name in args.scenarios.split(","):
                server.client().flushall()
                if name == "latency":
                    result = scenario_latency(server, args.seconds, clients=args.clients, client=args.client)
                elif name == "stall":
                    result = scenario_latency(server, args.seconds, stall=True, clients=args.clients, client=args.client)
                elif name == "heavy":
                    result = scenario_latency(server, args.seconds, heavy=True, clients=args.clients, client=args.client)
                elif name == "fanout":
                    result = scenario_fanout(server, args.seconds, rate=args.fanout_rate, client=args.client)
                elif name == "idle":
                    result = scenario_idle(server)
                elif name == "resume":
                    result = scenario_resume(server, args.seconds)
                else:
                    raise SystemExit(f"unknown scenario {name}")
                print(json.dumps({"run": run + 1, "scenario": name, **{k: (round(v, 3) if isinstance(v, float) else v)
                                                                       for k, v in result.items()}}), flush=True)
    finally:
        server.close()


if __name__ == "__main__":
    main()
