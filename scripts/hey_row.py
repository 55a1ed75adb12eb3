"""One markdown table row from hey's output (stdin): requests with status 200, req/s, p50/p90/p99, server CPU per
request (from /proc utime+stime ticks before and after) and non-200 responses.
usage: hey … | python3 scripts/hey_row.py NAME REQUESTS_200 TICKS_BEFORE TICKS_AFTER CLK_TCK"""
import re
import sys

name, requests, before, after, ticks = sys.argv[1], int(sys.argv[2] or 0), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
out = sys.stdin.read()


def pct(p):
    m = re.search(r"\s%s%% in ([0-9.]+) secs" % p, out)
    return float(m.group(1)) * 1000 if m else float("nan")


rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
cpu_us = (after - before) / ticks * 1e6 / max(requests, 1)
codes = out.split("Status code distribution:")[-1]
errors = sum(int(n) for code, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", codes) if code != "200")
print(f"| {name} | {requests} | {rps:.0f} | {pct(50):.2f} ms | {pct(90):.2f} ms | {pct(99):.2f} ms | {cpu_us:.0f} µs | {errors} |")
