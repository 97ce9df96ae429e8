"""The Alertmanager client against a real Prometheus Alertmanager (Debian package)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from service.alerting.alertmanager import AlertmanagerClient
from service.metrics import Metrics
from service.models import AlertEvent, AlertEvidence
from tests.support.alertmanager import Alertmanager

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

WINDOW_START = datetime(2025, 11, 12, 3, tzinfo=UTC)


def event(
    status: str, severity: str = "warning", count: int = 8, threshold: int = 5, code: str = "RU-ROS"
) -> AlertEvent:
    """A threshold alert event for Rostov Oblast's 03:00 hour."""
    now = datetime.now(UTC)
    return AlertEvent(
        alert_id=f"threshold|1h|{WINDOW_START.isoformat()}|{code}",
        status=status,
        severity=severity,
        rule="threshold",
        region="Rostov Oblast",
        code=code,
        window="1h",
        window_start=WINDOW_START,
        window_end=WINDOW_START + timedelta(hours=1),
        count=count,
        threshold=threshold,
        summary=f"Rostov Oblast: {count} interceptions in 1h window (warning ≥ {threshold})",
        runbook_url="https://ops.example/runbook.md#threshold",
        evidence=[
            AlertEvidence(
                report_id="r1", source="MoD", url="https://t.me/mod/1", count=count, claimed_total=40
            )
        ],
        starts_at=now - timedelta(minutes=1),
        ends_at=now if status == "resolved" else None,
    )


async def am_alerts(url: str) -> list[dict[str, Any]]:
    """Every alert Alertmanager lists (its API omits alerts whose endsAt has passed)."""
    async with aiohttp.ClientSession() as session, session.get(f"{url}/api/v2/alerts") as resp:
        assert 200 == resp.status
        alerts: list[dict[str, Any]] = await resp.json()
        return alerts


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> bool:
    """Poll ``check`` until it holds or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.1)
    return False


def failures(metrics: Metrics) -> float:
    """The delivery-failure counter for Alertmanager."""
    value = metrics.registry.get_sample_value(
        "skytally_alert_delivery_failures_total", {"target": "alertmanager"}
    )
    return value or 0.0


async def test_firing_then_resolved(alertmanager: Alertmanager) -> None:
    """A firing alert shows up active with our labels and annotations; resolving ends it."""
    metrics = Metrics(CollectorRegistry())
    client = AlertmanagerClient(alertmanager.url, metrics, timeout=2.0)
    await client.start()
    try:
        client.submit(event("firing"))

        async def listed() -> bool:
            return len(await am_alerts(alertmanager.url)) == 1

        assert await eventually(listed)
        (alert,) = await am_alerts(alertmanager.url)
        assert {
            "alertname": "threshold",
            "severity": "warning",
            "region": "Rostov Oblast",
            "code": "RU-ROS",
            "window": "1h",
            "window_start": WINDOW_START.isoformat(),
        } == alert["labels"]
        annotations = alert["annotations"]
        assert ("8", "5") == (annotations["count"], annotations["threshold"])
        assert "https://ops.example/runbook.md#threshold" == annotations["runbook_url"]
        assert "MoD (https://t.me/mod/1): 8 of 40" == annotations["evidence"]
        assert annotations["summary"].startswith("Rostov Oblast: 8 interceptions")
        assert "active" == alert["status"]["state"]
        ends = datetime.fromisoformat(alert["endsAt"].replace("Z", "+00:00"))
        assert ends > datetime.now(UTC) + timedelta(minutes=2)  # kept alive by re-sends

        client.submit(event("resolved"))

        async def gone() -> bool:
            return await am_alerts(alertmanager.url) == []

        assert await eventually(gone)
        assert 0.0 == failures(metrics)
    finally:
        await client.stop()


async def test_escalation_replaces_warning_with_critical(alertmanager: Alertmanager) -> None:
    """Escalating resolves the warning alert in Alertmanager and fires the critical one."""
    metrics = Metrics(CollectorRegistry())
    client = AlertmanagerClient(alertmanager.url, metrics, timeout=2.0)
    await client.start()
    try:
        client.submit(event("firing"))

        async def warning_listed() -> bool:
            return len(await am_alerts(alertmanager.url)) == 1

        assert await eventually(warning_listed)
        client.submit(event("escalated", severity="critical", count=16, threshold=15))

        async def only_critical() -> bool:
            alerts = await am_alerts(alertmanager.url)
            return [a["labels"]["severity"] for a in alerts] == ["critical"]

        assert await eventually(only_critical)
    finally:
        await client.stop()


async def test_down_alertmanager_never_blocks(alertmanager: Alertmanager) -> None:
    """With Alertmanager stopped, submit() returns at once and failures are counted."""
    url = alertmanager.url
    alertmanager.stop()
    metrics = Metrics(CollectorRegistry())
    client = AlertmanagerClient(
        url, metrics, timeout=0.5, max_queue=5, max_attempts=2, backoff_base=0.05, backoff_max=0.1
    )
    await client.start()
    try:
        started = time.monotonic()
        for i in range(20):
            client.submit(event("firing", code=f"RU-X{i:02d}"))
        assert time.monotonic() - started < 0.1
        assert client.queued <= 5

        async def counted() -> bool:
            return failures(metrics) >= 15  # 15 dropped at once, the rest after retries

        assert await eventually(counted)
    finally:
        await client.stop(deadline=1.0)
