"""The worker delivers its alerts to a real Alertmanager: firing, then resolved when the window closes."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.alertmanager import Alertmanager
from tests.support.kafka_io import produce
from tests.support.skytally_worker import WorkerHandle, launch_worker

pytestmark = pytest.mark.integration


@pytest.fixture
def worker(broker: Any, alertmanager: Alertmanager, tmp_path: Path) -> Iterator[WorkerHandle]:
    """A worker that sends alerts to the Alertmanager above."""
    url = alertmanager.url
    handle = launch_worker(broker.bootstrap, tmp_path, "worker-am", SKYTALLY_ALERTMANAGER_URL=url)
    yield handle
    handle.stop()


def am_alerts(url: str) -> list[dict[str, Any]]:
    """Alerts Alertmanager currently lists (resolved ones drop out)."""
    with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as resp:
        return list(json.loads(resp.read()))


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll until ``check`` holds; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_alert_reaches_alertmanager_then_resolves(
    worker: WorkerHandle,
    broker: Any,
    alertmanager: Alertmanager,
) -> None:
    """Eight over Rostov in an hour fire in Alertmanager, nine more escalate; a report days on closes it."""
    first = {
        "id": "am-1",
        "source": "mod",
        "published_at": "2026-02-01T05:00:00+00:00",
        "text": "Eight drones were shot down over the Rostov Region from 05:00 to 07:00 Moscow time "
        "on February 1, the Defence Ministry said.",
    }
    asyncio.run(produce(broker.bootstrap, worker.topics["reports"], [first], key="am-1"))

    def rostov() -> list[dict[str, Any]]:
        return [a for a in am_alerts(alertmanager.url) if a["labels"].get("code") == "RU-ROS"]

    wait_for(lambda: bool(rostov()), "the Rostov alert in Alertmanager")
    (alert, *_) = [a for a in rostov() if a["labels"]["window"] == "1h"]
    assert ("threshold", "warning", "Rostov Oblast") == (
        alert["labels"]["alertname"],
        alert["labels"]["severity"],
        alert["labels"]["region"],
    )
    assert "8" == alert["annotations"]["count"]
    assert "#" in alert["annotations"]["runbook_url"]

    # Another statement in the same hour takes Rostov to 17, past the critical level (15):
    # the alert escalates, and Alertmanager lists it as critical with the new count.
    more = {
        "id": "am-3",
        "source": "governor",
        "published_at": "2026-02-01T04:00:00+00:00",
        "text": "Nine drones were shot down over the Rostov Region from 05:30 to 06:30 Moscow time "
        "on February 1, the governor said.",
    }
    asyncio.run(produce(broker.bootstrap, worker.topics["reports"], [more], key="am-3"))

    def critical_1h() -> list[dict[str, Any]]:
        hourly = [a for a in rostov() if a["labels"]["window"] == "1h"]
        return [a for a in hourly if a["labels"]["severity"] == "critical"]

    wait_for(lambda: bool(critical_1h()), "the Rostov alert escalated to critical")
    [critical] = [a for a in rostov() if a["labels"]["window"] == "1h"]
    assert "17" == critical["annotations"]["count"]

    # Days later a report about another region only: Rostov's own partition may hear nothing
    # more, but the stream time reaches it (the leader's tick) and its windows close.
    later = {
        "id": "am-2",
        "source": "mod",
        "published_at": "2026-02-04T12:00:00+00:00",
        "text": "One drone was destroyed over the Kaluga Region from 11:00 to 12:00 Moscow time "
        "on February 4, the Defence Ministry said.",
    }
    asyncio.run(produce(broker.bootstrap, worker.topics["reports"], [later], key="am-2"))
    wait_for(
        lambda: not [a for a in rostov() if a["labels"]["window_start"].startswith("2026-02-01")],
        "the February 1 Rostov alerts to resolve",
    )
    assert 0.0 == worker.metric("skytally_alert_delivery_failures_total", {"target": "alertmanager"})
