#!/usr/bin/env python3
"""Server RSS per idle connection, by connection state: opens N connections to a fresh `patterndesk serve` one after
another with raw sockets and reads the server's VmRSS before and 3 s after.

    python3 scripts/ws_idle_memory.py [--connections 3000] [--modes tcp,http,ws,sub] [--bin .build/release/patterndesk]

Modes: tcp (connected, nothing sent), http (one GET /health, then idle keep-alive), ws (upgraded to /ws),
sub (upgraded and subscribed to two symbols).
"""
import argparse
import base64
import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1])


def masked_text_frame(text):
    data = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81]) + (bytes([0x80 | len(data)]) if len(data) < 126 else bytes([0x80 | 126]) + len(data).to_bytes(2, "big"))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def open_connection(port, mode):
    s = socket.create_connection(("127.0.0.1", port))
    if mode == "http":
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(4096)
    elif mode in ("ws", "sub"):
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        assert b" 101 " in s.recv(4096)
        if mode == "sub":
            s.sendall(masked_text_frame(json.dumps({"action": "subscribe", "id": "a", "symbols": ["AAPL", "MSFT"]})))
    return s


def measure(binary, mode, connections, port=18490):
    server = subprocess.Popen([binary, "serve", "--http-port", str(port), "--demo-rate", "0", "--log-level", "warning"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(0.5)
        before = rss_kb(server.pid)
        sockets = [open_connection(port, mode) for _ in range(connections)]
        time.sleep(3)
        after = rss_kb(server.pid)
        for s in sockets:
            s.close()
        return before, after
    finally:
        server.terminate()
        server.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=3000)
    parser.add_argument("--modes", default="tcp,http,ws,sub")
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release", "patterndesk"))
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (args.connections + 1000, args.connections + 1000))
    for mode in args.modes.split(","):
        before, after = measure(args.bin, mode, args.connections)
        print(f"{mode}: {args.connections} connections, RSS {before} -> {after} kB, "
              f"{(after - before) / args.connections:.1f} kB per connection", flush=True)


if __name__ == "__main__":
    sys.exit(main())
