"""User data against a real PostgreSQL and the real binary: seeding, tokens from `patterndesk token`, isolation between
users, and a database that goes away mid-run and comes back without a restart."""
import os
import signal
import subprocess
import time

import pytest

from harness import BIN, HTTPService, PostgresCluster, token, wait_for

SECRET = "blackbox-secret-0123456789abcdef-0123456789"


@pytest.fixture
def postgres():
    cluster = PostgresCluster().start()
    yield cluster
    cluster.close()


@pytest.fixture
def service(postgres):
    env = {"DATABASE_URL": postgres.url, "AUTH_JWT_SECRET": SECRET}
    seeded = subprocess.run([BIN, "seed"], check=True, capture_output=True, text=True, env={**os.environ, **env})
    assert "seeded: 518 symbols, 11 sectors, 14 universes" in seeded.stdout
    svc = HTTPService("--database-timeout-ms", "1000", env=env).start()
    yield svc
    svc.stop()


def test_seed_is_idempotent_and_the_catalogue_comes_from_postgres(postgres, service):
    env = {**os.environ, "DATABASE_URL": postgres.url}
    again = subprocess.run([BIN, "seed"], check=True, capture_output=True, text=True, env=env)
    assert "migrations: schema is current" in again.stdout
    _, stats = service.call("GET", "/api/dashboard/stats")
    assert stats["symbols_count"] == 518 and stats["database_status"] == "connected"
    assert "catalogue loaded from postgres" in service.logs()


def test_users_only_reach_their_own_rows(service):
    alice, bob = token("alice", SECRET), token("bob", SECRET)
    _, created = service.call("POST", "/api/users/watchlists", alice, {"name": "Mine", "symbols": ["aapl", "MSFT"]}, expect=201)
    list_id = created["watchlist"]["id"]
    for method, path, body in [("GET", f"/api/users/watchlists/{list_id}", None),
                               ("PUT", f"/api/users/watchlists/{list_id}", {"name": "Stolen"}),
                               ("DELETE", f"/api/users/watchlists/{list_id}", None)]:
        status, answer = service.call(method, path, bob, body, expect=None)
        assert status == 404, (method, status, answer)
    _, mine = service.call("GET", f"/api/users/watchlists/{list_id}", alice)
    assert mine["watchlist"]["name"] == "Mine" and mine["watchlist"]["symbols"] == ["AAPL", "MSFT"]
    service.call("GET", "/api/users/watchlists", None, expect=401)
    service.call("GET", "/api/users/watchlists", "forged.token.value", expect=401)


def test_a_database_stopped_mid_run_answers_503_and_recovers_without_restart(postgres, service):
    alice = token("alice", SECRET)
    _, preset = service.call("POST", "/api/users/filter-presets", alice,
                             {"name": "Strong", "filters": {"confidence_min": 0.6}, "is_default": True}, expect=201)
    preset_id = preset["preset"]["id"]
    postgres.stop()
    started = time.monotonic()
    status, answer = service.call("GET", "/api/users/filter-presets", alice, expect=None)
    assert status == 503 and answer["error"] == "database_unavailable", answer
    assert "database" in answer["message"]
    assert time.monotonic() - started < 5
    service.call("POST", "/api/users/watchlists", alice, {"name": "During outage"}, expect=503)
    # Pattern scans and liveness keep working; readiness says degraded.
    _, scan = service.call("GET", "/api/patterns/scan?per_page=5")
    assert scan["patterns"]
    status, ready = service.call("GET", "/health/ready", expect=503)
    assert ready["status"] == "degraded" and ready["checks"]["database"]["status"] == "down"
    assert service.call("GET", "/health")[0] == 200
    # Back without restarting the service.
    postgres.start()
    wait_for(lambda: service.call("GET", "/api/users/filter-presets", alice, expect=None)[0] == 200, timeout=30,
             what="user data back after the database restarted")
    _, presets = service.call("GET", "/api/users/filter-presets", alice)
    assert [p["id"] for p in presets["presets"]] == [preset_id]
    _, scan = service.call("GET", f"/api/patterns/scan?preset={preset_id}", alice)
    assert all(p["confidence"] >= 0.6 for p in scan["patterns"])
    assert service.call("GET", "/health/ready")[1]["status"] == "ready"
    assert service.alive()


def test_a_database_that_goes_silent_gets_503_within_the_timeout_and_recovers(postgres, service):
    """Connections stay open but nothing answers (the server SIGSTOPped, like a partition that drops packets): every
    user route still answers 503 within the 1 s timeout instead of waiting for ever, the cache stops answering for
    the database once the change listener's ping goes unanswered, and everything comes back when the server does."""
    alice, bob = token("alice", SECRET), token("bob", SECRET)
    _, created = service.call("POST", "/api/users/watchlists", alice, {"name": "Kept", "symbols": ["AAPL"]}, expect=201)
    service.call("GET", "/api/users/watchlists", alice)  # alice's rows now come from memory
    postgres.freeze()
    try:
        # Bob's rows are not cached, so each call queries the silent server (and the abandoned queries pile up).
        for _ in range(4):
            started = time.monotonic()
            status, answer = service.call("GET", "/api/users/watchlists", bob, expect=None)
            assert status == 503 and answer["error"] == "database_unavailable", answer
            assert time.monotonic() - started < 5
        started = time.monotonic()
        service.call("POST", "/api/users/watchlists", bob, {"name": "During silence"}, expect=503)
        assert time.monotonic() - started < 5
        # The listener pings every 5 s and allows 2 s: then alice's cached rows are no longer trusted.
        wait_for(lambda: service.call("GET", "/api/users/watchlists", alice, expect=None)[0] == 503, timeout=20,
                 what="the cache stops answering once the listener's ping goes unanswered")
        _, scan = service.call("GET", "/api/patterns/scan?per_page=5")
        assert scan["patterns"]
        status, ready = service.call("GET", "/health/ready", expect=503)
        assert ready["checks"]["database"]["status"] == "down"
    finally:
        postgres.thaw()
    wait_for(lambda: service.call("GET", "/api/users/watchlists", bob, expect=None)[0] == 200, timeout=30,
             what="user data back once the server answers again")
    _, lists = service.call("GET", "/api/users/watchlists", alice)
    assert [w["id"] for w in lists["watchlists"]] == [created["watchlist"]["id"]]
    assert service.call("GET", "/api/users/watchlists", bob)[1]["watchlists"] == []
    wait_for(lambda: service.call("GET", "/health/ready", expect=None)[0] == 200, timeout=30, what="ready again")
    assert service.alive()


def test_shutdown_does_not_wait_for_a_silent_database(postgres, service):
    """SIGTERM while PostgreSQL is SIGSTOPped with the pool's connections open: the service still exits, promptly and
    cleanly, instead of waiting for a server that will never answer its goodbyes."""
    alice = token("alice", SECRET)
    service.call("GET", "/api/users/watchlists", alice)  # a pooled connection and the change listener are open
    postgres.freeze()
    try:
        service.call("GET", "/api/users/watchlists", token("bob", SECRET), expect=503)  # one query left hanging
        started = time.monotonic()
        service.proc.send_signal(signal.SIGTERM)
        try:
            code = service.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            service.kill()
            pytest.fail(f"still running 20 s after SIGTERM with the database silent; log tail:\n{service.logs()[-2000:]}")
        assert code == 0, service.logs()[-2000:]
        assert time.monotonic() - started < 10
    finally:
        postgres.thaw()
