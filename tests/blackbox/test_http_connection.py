"""Black-box: HTTP/1.1 connection handling (the HTTP adapter's `HTTPConnection` behind NIO's codec), with a raw-socket
client that can pipeline, half-close, send chunked or oversized bodies and bytes that are not HTTP at all."""
import json
import re
import socket
import time

import pytest

from harness import HTTPService


@pytest.fixture(scope="module")
def server():
    svc = HTTPService("--demo-rate", "0").start()  # the embedded default trusts X-User-ID
    yield svc
    svc.stop()


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("closed by the server")
        self.buffer += chunk

    def response(self, head_request=False):
        """(status, headers with lower-case names, body) of the next response on the connection."""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        length = 0 if head_request else int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, headers, body

    def closed(self, within=3.0):
        """Whether the server closes the connection (EOF, not a reset) within `within` seconds, with nothing more sent."""
        self.sock.settimeout(within)
        try:
            return self.sock.recv(1) == b""
        except socket.timeout:
            return False


def get(path, extra=""):
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode()


def test_pipelined_requests_are_answered_in_order_on_one_connection(server):
    conn = Conn(server.port)
    conn.send(get("/health") + get("/api/patterns/scan?per_page=abc") + get("/no/such/path") + get("/api/patterns/health"))
    statuses = [conn.response()[0] for _ in range(4)]
    assert statuses == [200, 400, 404, 200]
    conn.send(get("/health"))  # and the connection is still usable
    assert conn.response()[0] == 200


def test_a_long_pipelined_burst_is_answered_completely_and_in_order(server):
    conn = Conn(server.port)  # more than the 16 requests that may wait before the server stops reading
    paths = [f"/api/patterns/scan?per_page={n}" for n in range(1, 61)]
    conn.send(b"".join(get(path) for path in paths))
    for n in range(1, 61):
        status, _, body = conn.response()
        assert status == 200 and len(json.loads(body)["patterns"]) <= n
        assert json.loads(body)["pagination"]["per_page"] == n


def test_http_1_0_closes_unless_it_asks_for_keep_alive(server):
    conn = Conn(server.port)
    conn.send(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert conn.response()[0] == 200
    conn.send(b"GET /health HTTP/1.0\r\n\r\n")
    status, headers, _ = conn.response()
    assert status == 200 and headers["connection"] == "close"
    assert conn.closed()


def test_every_answer_carries_date_and_server_and_head_has_no_body(server):
    conn = Conn(server.port)
    conn.send(get("/health"))
    status, headers, body = conn.response()
    assert status == 200 and headers["server"] == "patterndesk"
    assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                        r"\d\d:\d\d:\d\d GMT", headers["date"]), headers["date"]
    served = time.mktime(time.strptime(headers["date"], "%a, %d %b %Y %H:%M:%S GMT")) - time.mktime(time.gmtime(0))
    assert abs(served - time.time()) < 5
    conn.send(f"HEAD /api/patterns/stats HTTP/1.1\r\nHost: x\r\n\r\n".encode() + get("/health"))
    status, headers, body = conn.response(head_request=True)
    assert status == 200 and int(headers["content-length"]) > 0 and body == b""
    assert conn.response()[0] == 200  # no stray body bytes in front of the next answer


def test_connection_close_is_honoured_after_the_answer(server):
    conn = Conn(server.port)
    conn.send(get("/health", "Connection: close\r\n"))
    assert conn.response()[0] == 200
    assert conn.closed()


def test_a_client_that_half_closes_after_its_request_still_gets_the_answer(server):
    conn = Conn(server.port)
    conn.send(get("/health") + get("/api/patterns/health"))
    conn.sock.shutdown(socket.SHUT_WR)
    assert [conn.response()[0] for _ in range(2)] == [200, 200]
    assert conn.closed()


def test_bytes_that_are_not_http_get_400_and_the_connection_closes(server):
    first = Conn(server.port)
    first.send(b"this is not http\r\n\r\n")
    assert first.response()[0] == 400 and first.closed()
    later = Conn(server.port)  # a broken request after a good one on the same connection
    later.send(get("/health") + b"GET / HTTP/1.1\r\nBad Header\r\n\r\n")
    assert later.response()[0] == 200
    assert later.response()[0] == 400 and later.closed()


def test_a_chunked_body_reaches_the_route(server):
    body = json.dumps({"name": "chunked list", "symbols": ["AAPL", "MSFT"]}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:20], body[20:])) + b"0\r\n\r\n"
    conn = Conn(server.port)
    conn.send(b"POST /api/users/watchlists HTTP/1.1\r\nHost: x\r\nX-User-ID: 4242\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
    status, _, answer = conn.response()
    assert status == 201, answer
    assert json.loads(answer)["watchlist"]["symbols"] == ["AAPL", "MSFT"]


def test_an_oversized_body_gets_413_and_the_client_reads_it_before_the_close(server):
    conn = Conn(server.port)
    body = b"x" * (2 << 20)  # over the connection's 1 MiB: refused before any route runs
    conn.send(f"POST /api/users/watchlists HTTP/1.1\r\nHost: x\r\nX-User-ID: 4242\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    status, headers, answer = conn.response()
    assert status == 413 and headers["connection"] == "close"
    assert json.loads(answer)["error"] == "payload_too_large"
    assert conn.closed()  # an EOF once the body was read out, not a reset


def test_a_client_that_never_finishes_an_oversized_body_is_cut_off(server):
    conn = Conn(server.port)
    conn.send(b"POST /api/users/watchlists HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n" + b"x" * ((1 << 20) + 1))
    assert conn.response()[0] == 413
    started = time.monotonic()
    assert conn.closed(within=6)
    assert time.monotonic() - started < 5


def test_an_upgrade_asked_for_late_on_a_kept_alive_connection_is_sent_to_a_new_connection(server):
    conn = Conn(server.port)
    conn.send(get("/health") + get("/ws?x=1", "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"))
    assert conn.response()[0] == 200
    status, headers, _ = conn.response()
    assert status == 307 and headers["location"] == "/ws?x=1"
    assert conn.closed()
