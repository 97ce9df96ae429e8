"""Alertmanager client without a server: payloads, queue bounds, re-send bookkeeping."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from service.alerting.alertmanager import AlertmanagerClient, to_alertmanager
from service.metrics import Metrics
from service.models import AlertEvent, AlertEvidence

NOW = datetime(2025, 11, 12, 4, 10, tzinfo=UTC)
START = datetime(2025, 11, 12, 3, tzinfo=UTC)


def event(status: str = "firing", severity: str = "warning", code: str = "RU-ROS") -> AlertEvent:
    """A threshold event for one region's 03:00 hour."""
    return AlertEvent(
        alert_id=f"threshold|1h|{START.isoformat()}|{code}", status=status, severity=severity,
        rule="threshold", region="Rostov Oblast", code=code, window="1h", window_start=START,
        window_end=START + timedelta(hours=1), count=8, threshold=5, summary="Rostov: 8",
        runbook_url="https://ops.example/rb#threshold",
        evidence=[AlertEvidence(report_id="r1", source="MoD", count=8)],
        starts_at=NOW, ends_at=NOW + timedelta(minutes=3) if status == "resolved" else None,
    )


def client(**kw: object) -> tuple[AlertmanagerClient, Metrics]:
    """A client on a fake clock that is never started."""
    metrics = Metrics(CollectorRegistry())
    return AlertmanagerClient("http://127.0.0.1:9", metrics, clock=lambda: NOW, **kw), metrics  # type: ignore[arg-type]


def failures(metrics: Metrics) -> float | None:
    """The failure counter for Alertmanager."""
    return metrics.registry.get_sample_value(
        "skytally_alert_delivery_failures_total", {"target": "alertmanager"}
    )


def test_firing_payload() -> None:
    """A firing alert carries labels, annotations and endsAt = now + margin."""
    alert = to_alertmanager(event(), now=NOW, ends_margin=timedelta(minutes=5))
    assert {"alertname": "threshold", "severity": "warning", "region": "Rostov Oblast",
            "code": "RU-ROS", "window": "1h", "window_start": "2025-11-12T03:00:00+00:00"
            } == alert["labels"]
    assert ("2025-11-12T04:10:00Z", "2025-11-12T04:15:00Z") == (alert["startsAt"], alert["endsAt"])
    assert "MoD: 8" == alert["annotations"]["evidence"]
    assert "generatorURL" not in alert


def test_resolved_payload_ends_at_event_end() -> None:
    """A resolved alert's endsAt is the event's end."""
    alert = to_alertmanager(event("resolved"), now=NOW, ends_margin=timedelta(minutes=5))
    assert "2025-11-12T04:13:00Z" == alert["endsAt"]


def test_submit_drops_oldest_when_full() -> None:
    """Beyond max_queue the oldest alerts are dropped and counted."""
    am, metrics = client(max_queue=3)
    for i in range(5):
        am.submit(event(code=f"RU-X{i}"))
    assert (3, 2.0) == (am.queued, failures(metrics))


def test_submit_coalesces_same_alert() -> None:
    """Only the latest state of one alert waits in the queue."""
    am, _ = client()
    am.submit(event())
    am.submit(event("resolved"))
    assert 1 == am.queued


def test_escalation_queues_end_of_warning() -> None:
    """Escalating queues a resolution of the warning alert next to the critical one."""
    am, _ = client()
    am.submit(event())
    am.submit(event("escalated", severity="critical"))
    queued = list(am._queue.values())
    assert [("resolved", "warning"), ("escalated", "critical")] == [
        (e.status, e.severity) for e in queued
    ]


def test_resend_due_tracks_firing_alerts() -> None:
    """Firing alerts are due for re-send after the interval; resolved ones never."""
    am, _ = client(resend_interval=timedelta(minutes=1))
    am.submit(event(code="RU-A"))
    am.submit(event(code="RU-B"))
    am.submit(event("resolved", code="RU-B"))
    am._active[event(code="RU-A").alert_id].last_sent = NOW
    assert [] == am.resend_due(NOW + timedelta(seconds=59))
    assert ["RU-A"] == [e.code for e in am.resend_due(NOW + timedelta(minutes=1))]


def test_margin_must_exceed_resend_interval() -> None:
    """A margin shorter than the re-send interval would let firing alerts expire."""
    with pytest.raises(ValueError, match="ends_margin"):
        client(resend_interval=timedelta(minutes=5), ends_margin=timedelta(minutes=5))


def test_backoff_is_bounded_with_jitter() -> None:
    """Backoff grows exponentially, capped, with full jitter."""
    am, _ = client(backoff_base=1.0, backoff_max=8.0, rng=random.Random(1))
    delays = [am._backoff(n) for n in range(1, 10) for _ in range(50)]
    assert all(0 <= d <= 8.0 for d in delays)
    assert max(am._backoff(1) for _ in range(200)) <= 1.0


async def test_stop_counts_unflushed() -> None:
    """stop() with an unreachable target drops what it could not flush, counted."""
    am, metrics = client(timeout=0.2, max_attempts=1)
    await am.start()
    am.submit(event())
    await am.stop(deadline=2.0)
    assert 1.0 == failures(metrics)
    am.submit(event(code="RU-Z"))  # after stop: dropped and counted, never raises
    assert 2.0 == failures(metrics)
