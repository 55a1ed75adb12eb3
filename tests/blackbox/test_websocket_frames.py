"""Black-box: the WebSocket protocol itself (RFC 6455) as the server's own connection handling implements it, with a
raw-socket client that can send what a library client never would: split messages, control frames between the
parts, invalid UTF-8, stray continuations, silence instead of pongs."""
import base64
import json
import os
import socket
import struct
import time

import pytest
import websockets.sync.client

from harness import HTTPService, wait_for


class RawClient:
    def __init__(self, port, path="/ws", extra_headers=""):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra_headers}\r\n").encode())
        self.buffer = b""
        head = self._read_until(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1])
        self.headers = head
        if self.status != 101:
            length = int(next((line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), b"0"))
            self.body = self._read_exactly(length)

    def _read_until(self, marker):
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def _read_exactly(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send(self, opcode, payload, fin=True):
        mask = os.urandom(4)
        header = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def frame(self, timeout=10):
        """(fin, opcode, payload) of the next server frame; servers never mask."""
        self.sock.settimeout(timeout)
        b0, b1 = self._read_exactly(2)
        assert b1 & 0x80 == 0, "server frames are not masked"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read_exactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_exactly(8))[0]
        return bool(b0 & 0x80), b0 & 0x0F, self._read_exactly(n)

    def messages_until(self, kind, timeout=10):
        """Native messages up to the first of `kind`, answering nothing."""
        collected = []
        deadline = time.monotonic() + timeout
        while True:
            _, opcode, payload = self.frame(max(0.01, deadline - time.monotonic()))
            if opcode == 1:
                for message in json.loads(payload):
                    collected.append(message)
                    if message["T"] == kind:
                        return collected

    def close_code(self, timeout=10):
        """The code of the server's close frame, skipping what comes before it; then the socket must end."""
        deadline = time.monotonic() + timeout
        while True:
            _, opcode, payload = self.frame(max(0.01, deadline - time.monotonic()))
            if opcode == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.sock.settimeout(5)
                assert self.sock.recv(1) == b"", "the server ends the TCP connection after the close"
                return code, payload[2:].decode()


@pytest.fixture
def server():
    svc = HTTPService("--demo-rate", "0", "--ws-ping-seconds", "1").start()
    yield svc
    svc.stop()


def test_a_fragmented_request_with_a_ping_between_its_parts_is_reassembled(server):
    c = RawClient(server.port)
    c.messages_until("connected")
    request = b'{"action":"subscribe","id":"split","symbols":["AAPL"]}'
    c.send(0x1, request[:10], fin=False)
    c.send(0x9, b"are you there")  # control frames may come between the parts (RFC 6455 5.4)
    c.send(0x0, request[10:30], fin=False)
    c.send(0x0, request[30:], fin=True)
    fin, opcode, payload = c.frame()
    assert (fin, opcode, payload) == (True, 0xA, b"are you there")
    subscribed = c.messages_until("subscribed")[-1]
    assert subscribed["id"] == "split"


@pytest.mark.parametrize("frames, code", [
    ([(0x1, b'{"action":"ping","x":"\xff\xfe"}', True)], 1007),  # text that is not UTF-8
    ([(0x0, b"stray", True)], 1002),  # a continuation with no message begun
    ([(0x1, b'{"action":', False), (0x1, b'"ping"}', True)], 1002),  # a new message inside a fragmented one
    ([(0x1, b"x" * 700_000, False), (0x0, b"y" * 400_000, True)], 1009),  # parts under the limit, message over it
])
def test_protocol_violations_close_with_their_code_and_others_are_unaffected(server, frames, code):
    with websockets.sync.client.connect(f"ws://127.0.0.1:{server.port}/ws") as bystander:
        c = RawClient(server.port)
        c.messages_until("connected")
        for opcode, payload, fin in frames:
            c.send(opcode, payload, fin)
        assert c.close_code()[0] == code
        bystander.send(json.dumps({"action": "ping"}))
        assert any(m["T"] == "pong" for _ in range(3) for m in json.loads(bystander.recv(timeout=5)))


def test_a_client_close_is_echoed_and_the_server_ends_the_connection(server):
    c = RawClient(server.port)
    c.messages_until("connected")
    c.send(0x8, struct.pack("!H", 1000) + b"bye")
    assert c.close_code()[0] == 1000
    counters = lambda: server.stats()["websocket"]["counters"]
    wait_for(lambda: counters()["connections_closed"] == 1, what="the connection counted closed")
    assert counters()["connections_opened"] == 1


def test_a_client_that_never_answers_pings_is_closed_and_one_that_does_stays(server):
    with websockets.sync.client.connect(f"ws://127.0.0.1:{server.port}/ws") as alive:  # answers pings by itself
        silent_client_is_closed_while(alive, server)


def silent_client_is_closed_while(alive, server):
    silent = RawClient(server.port)
    started = time.monotonic()
    pings = 0
    deadline = started + 10
    while True:
        _, opcode, payload = silent.frame(max(0.01, deadline - time.monotonic()))
        if opcode == 0x9:
            pings += 1
        if opcode == 0x8:
            code, reason = struct.unpack("!H", payload[:2])[0], payload[2:].decode()
            break
    assert (code, reason) == (1001, "ping timeout")
    assert pings >= 1 and 1.5 <= time.monotonic() - started <= 6
    # Reading keeps the websockets client's automatic pongs flowing.
    alive.send(json.dumps({"action": "ping"}))
    assert any(m["T"] == "pong" for _ in range(10) for m in json.loads(alive.recv(timeout=5)))


@pytest.mark.parametrize("path, status, text", [
    ("/socket.io/?EIO=3&transport=websocket", 400, "EIO must be 4"),
    ("/socket.io/?EIO=4&transport=polling", 400, "websocket transport"),
    ("/nowhere", 404, "no WebSocket endpoint"),
])
def test_a_refused_upgrade_gets_its_status_and_a_json_error(server, path, status, text):
    c = RawClient(server.port, path)
    assert c.status == status
    assert text in json.loads(c.body)["message"]
