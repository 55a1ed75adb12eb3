"""The binary's own failure modes, seen from outside."""
import subprocess

from harness import BIN, HTTPService


def test_a_port_already_in_use_fails_with_one_clear_line_not_a_crash():
    first = HTTPService().start(wait_ready=False)
    try:
        second = subprocess.run([BIN, "serve", "--http-port", str(first.port)], capture_output=True, text=True, timeout=60)
        assert second.returncode == 1, second
        assert "patterndesk serve: cannot run:" in second.stderr and "Address already in use" in second.stderr, second.stderr
        assert "Fatal error" not in second.stderr and "Backtrace" not in second.stderr, second.stderr
        assert first.alive() and first.get("/health")[0] == 200
    finally:
        first.stop()
