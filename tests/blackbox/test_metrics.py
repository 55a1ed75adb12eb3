"""GET /metrics read by Prometheus's own Python client parser, against the real binary fed over Redis."""
import json
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from harness import STREAM, flat_event, wait_for


def scrape(service):
    with urllib.request.urlopen(f"http://127.0.0.1:{service.port}/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def test_metrics_follow_ingestion_and_a_dead_redis(redis_server, service):
    r = redis_server.client()
    r.xadd(STREAM, {"data": json.dumps(flat_event("AAPL"))})
    r.xadd(STREAM, {"data": "{truncated"})
    r.publish("tickstock.events.patterns", json.dumps(flat_event("MSFT")))
    stats = wait_for(lambda: (s := service.stats())["events_applied"] == 2 and s["events_rejected"] == 1 and s,
                     what="two applied, one rejected")
    wait_for(service.caught_up, what="stream acknowledged")
    # Each request counts with the status it was answered with, not the router's 404 before method routing.
    for method, status in (("DELETE", 405), ("OPTIONS", 204), ("HEAD", 200)):
        request = urllib.request.Request(f"http://127.0.0.1:{service.port}/health", method=method)
        try:
            answered = urllib.request.urlopen(request, timeout=10).status
        except urllib.error.HTTPError as error:
            answered = error.code
        assert answered == status, (method, answered)
    metrics = scrape(service)
    for method, status in (("DELETE", 405), ("OPTIONS", 204), ("HEAD", 200)):
        assert metrics[("patterndesk_http_requests_total", (("method", method), ("status", str(status))))] == 1, method
    assert not any(name == "patterndesk_http_requests_total" and dict(labels).get("status") == "404"
                   for name, labels in metrics), "no request was answered 404"
    assert metrics[("patterndesk_events_applied_total", ())] == 2
    assert metrics[("patterndesk_events_rejected_total", (("reason", "not_json"),))] == 1
    assert metrics[("patterndesk_patterns_live", ())] == stats["cached_patterns"] == 2
    assert metrics[("patterndesk_event_source_connected", (("source", "redis"),))] == 1
    assert metrics[("patterndesk_stream_lag", ())] == 0 and metrics[("patterndesk_stream_pending", ())] == 0
    assert metrics[("patterndesk_ready", ())] == 1
    assert metrics[("patterndesk_dependency_up", (("check", "event_source"),))] == 1
    assert metrics[("patterndesk_http_requests_total", (("method", "GET"), ("status", "200")))] >= 1

    redis_server.stop()
    metrics = wait_for(lambda: (m := scrape(service))[("patterndesk_ready", ())] == 0 and m, what="not ready")
    assert metrics[("patterndesk_event_source_connected", (("source", "redis"),))] == 0
    assert metrics[("patterndesk_dependency_up", (("check", "event_source"),))] == 0
    assert metrics[("patterndesk_patterns_live", ())] == 2  # still serving the last index
