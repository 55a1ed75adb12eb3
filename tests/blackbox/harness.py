"""Black-box harness: a real redis-server and the real `patterndesk serve` binary, driven over Redis and HTTP."""
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("PATTERNDESK_BIN", os.path.join(ROOT, ".build", "debug", "patterndesk"))
STREAM = "tickstock:stream:patterns"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout=15.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class RedisServer:
    """A throwaway redis-server on a free loopback port. AOF with fsync always, so a restart keeps every acked write;
    `aof=False` writes nothing to disk (no AOF, no RDB snapshots), so no reply waits for an fsync."""

    def __init__(self, aof=True):
        self.aof = aof
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="patterndesk-redis-")
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", ""]
            + (["--appendonly", "yes", "--appendfsync", "always"] if self.aof else []),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._pings, what="redis-server")
        return self

    def _pings(self):
        try:
            return self.client().ping()
        except redis.exceptions.ConnectionError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def client(self):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)


class Service:
    """`patterndesk serve --redis-url …` as a child process."""

    def __init__(self, redis_url, *extra, consumer="blackbox"):
        self.redis_url = redis_url
        self.extra = list(extra)
        self.consumer = consumer
        self.port = free_port()
        self.proc = None
        self.log = tempfile.NamedTemporaryFile(prefix="patterndesk-serve-", suffix=".log", delete=False)

    def start(self, wait_ready=True):
        self.proc = subprocess.Popen(
            [BIN, "serve", "--redis-url", self.redis_url, "--http-port", str(self.port), "--redis-consumer", self.consumer,
             "--log-level", "info"] + self.extra,
            stdout=self.log, stderr=subprocess.STDOUT)
        if wait_ready:
            wait_for(lambda: self.get("/health/ready", expect=None)[0] == 200, what="readiness")
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def logs(self):
        with open(self.log.name) as f:
            return f.read()

    def get(self, path, expect=200):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        except (urllib.error.URLError, ConnectionError):
            status, body = 0, b"null"
        if expect is not None:
            assert status == expect, f"GET {path}: {status} {body[:300]!r}"
        return status, json.loads(body or b"null")

    def stats(self):
        return self.get("/api/patterns/stats")[1]["stats"]

    def scan(self, **params):
        return self.get("/api/patterns/scan?" + urllib.parse.urlencode(params))[1]["patterns"]

    def scan_ids(self):
        """Every live pattern id, following next_cursor."""
        ids, cursor = [], None
        while True:
            params = {"per_page": 100, "sort_by": "detected_at"}
            if cursor:
                params["cursor"] = cursor
            body = self.get("/api/patterns/scan?" + urllib.parse.urlencode(params))[1]
            ids += [p["id"] for p in body["patterns"]]
            cursor = body.get("next_cursor")
            if not cursor:
                return ids

    def caught_up(self):
        transport = self.stats()["transport"]
        return transport["connected"] and transport["stream_lag"] == 0 and transport["stream_pending"] == 0


def flat_event(symbol, pattern="Doji", confidence=0.8, detected=None, ttl=86400, **extra):
    detected = time.time() if detected is None else detected
    event = {"event_type": "pattern_detected", "symbol": symbol, "pattern": pattern, "confidence": confidence,
             "timestamp": detected, "expires_at": detected + ttl}
    event.update(extra)
    return event


def identity(symbol, pattern_type, tier, detected_seconds):
    """The service's pattern id. Milliseconds round half away from zero, as the service does (Python's round() rounds
    half to even)."""
    return f"{symbol}:{pattern_type}:{tier}:{math.floor(detected_seconds * 1000 + 0.5)}"


class PostgresCluster:
    """A throwaway PostgreSQL cluster (scripts/pg-cluster.sh: initdb in a temporary directory, as a non-root user)."""

    SCRIPT = os.path.join(ROOT, "scripts", "pg-cluster.sh")

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="patterndesk-pg-")
        self.url = None

    def start(self):
        self.url = subprocess.run(["bash", self.SCRIPT, "start", self.dir, str(self.port)], check=True, capture_output=True,
                                  text=True).stdout.strip()
        return self

    def stop(self):
        subprocess.run(["bash", self.SCRIPT, "stop", self.dir], check=True)

    def freeze(self):
        """SIGSTOPs the server and its backends with every connection left open: a database, or a network path, that
        goes silent without closing anything (no FIN, no RST)."""
        self._signal(signal.SIGSTOP)

    def thaw(self):
        self._signal(signal.SIGCONT)

    def _signal(self, sig):
        with open(os.path.join(self.dir, "data", "postmaster.pid")) as f:
            postmaster = int(f.readline())
        os.kill(postmaster, sig)  # first, so that no backend is forked while the others are signalled
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        parent = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if parent == postmaster:
                    os.kill(int(entry), sig)

    def close(self):
        self.thaw()  # a frozen server would not stop
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class HTTPService(Service):
    """`patterndesk serve` with arbitrary flags (the embedded default unless they name a transport), plus JSON calls
    with a bearer token."""

    def __init__(self, *flags, env=None):
        super().__init__(None)
        self.flags = list(flags)
        self.env = env

    def start(self, wait_ready=True):
        self.proc = subprocess.Popen([BIN, "serve", "--http-port", str(self.port)] + self.flags,
                                     stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(self.env or {})})
        wait_for(lambda: self.get("/health", expect=None)[0] == 200, what="liveness")
        if wait_ready:
            wait_for(lambda: self.get("/health/ready", expect=None)[0] == 200, what="readiness")
        return self

    def call(self, method, path, token=None, body=None, expect=200):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        if expect is not None:
            assert status == expect, f"{method} {path}: {status} {payload[:300]!r}"
        return status, json.loads(payload or b"null")


def token(user, secret, database_url=None):
    """A bearer token from `patterndesk token`, the operators' command."""
    env = {**os.environ, "AUTH_JWT_SECRET": secret}
    return subprocess.run([BIN, "token", "--user", user], check=True, capture_output=True, text=True, env=env).stdout.strip()
