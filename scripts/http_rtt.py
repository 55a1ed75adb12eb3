"""Round-trip time of one request at a time on a kept-alive connection (no burst, unlike hey's synchronised workers):
python3 scripts/http_rtt.py PORT PATH [PORT PATH ...]; prints p50 and p99 of 900 requests sent 2 ms apart."""
import socket
import sys
import time

def run(port, path, n=900, gap=0.002):
    s=socket.create_connection(("127.0.0.1",port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    req=f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode(); lat=[]
    for i in range(n):
        t=time.perf_counter(); s.sendall(req); buf=b""
        while b"\r\n\r\n" not in buf: buf+=s.recv(65536)
        head,body=buf.split(b"\r\n\r\n",1)
        cl=int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
        while len(body)<cl: body+=s.recv(65536)
        lat.append((time.perf_counter()-t)*1e6); time.sleep(gap)
    lat.sort(); return lat[len(lat)//2], lat[int(len(lat)*0.99)]
if __name__ == "__main__":
    args = sys.argv[1:]
    for port, path in zip(args[0::2], args[1::2]):
        p50, p99 = run(int(port), path)
        print(f"{port} {path}: p50 {p50:.0f} us, p99 {p99:.0f} us")
