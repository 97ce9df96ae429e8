"""The source_silent rule on a real worker: a quiet source fires (Alertmanager too); a report resolves it."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.alertmanager import Alertmanager
from tests.support.kafka_io import produce
from tests.support.skytally_worker import WorkerHandle, launch_worker

pytestmark = pytest.mark.integration

RULES = """
[[source_silent]]
source = "Ministry"
hours = 0.002   # 7.2 seconds, for the test
severity = "critical"
renotify = "1h"
"""


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll until ``check()`` returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def report(n: int) -> dict[str, Any]:
    """A report from the watched source (matched case-free)."""
    return {"id": f"silent-{n}", "source": "ministry", "text": "Two drones were shot down over Kursk."}


def test_quiet_source_fires_and_a_new_report_resolves_it(
    broker: Any, alertmanager: Alertmanager, tmp_path: Path
) -> None:
    """Quiet longer than the rule allows: a critical alert on the topic and in Alertmanager, then resolved."""
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    worker: WorkerHandle = launch_worker(
        broker.bootstrap,
        tmp_path,
        "silent",
        SKYTALLY_RULES=str(rules),
        SKYTALLY_SOURCE_CHECK_INTERVAL_S="1",
        SKYTALLY_ALERTMANAGER_URL=alertmanager.url,
    )
    try:
        asyncio.run(produce(broker.bootstrap, worker.topics["reports"], [report(1)]))
        wait_for(lambda: worker.get("/api/stats")["sources"].get("ministry"), "the source's first sighting")

        def firing() -> list[dict[str, Any]]:
            return [a for a in worker.get("/api/alerts")["active"] if a["rule"] == "source_silent"]

        [alert] = wait_for(firing, "a source_silent alert")
        assert ("firing", "critical", "Ministry") == (alert["status"], alert["severity"], alert["region"])
        assert "Ministry" in alert["summary"]

        def in_alertmanager() -> list[dict[str, Any]]:
            with urllib.request.urlopen(f"{alertmanager.url}/api/v2/alerts", timeout=5) as resp:
                listed = json.loads(resp.read())
            return [a for a in listed if a["labels"].get("alertname") == "source_silent"]

        [am] = wait_for(in_alertmanager, "the alert in Alertmanager")
        assert "critical" == am["labels"]["severity"]

        asyncio.run(produce(broker.bootstrap, worker.topics["reports"], [report(2)]))
        recent = wait_for(
            lambda: [
                a for a in worker.get("/api/alerts")["recent"]
                if a["alert_id"] == alert["alert_id"] and a["status"] == "resolved"
            ],
            "the alert resolved by a new report",
        )
        assert recent[0]["ends_at"] is not None
        assert [] == firing()
    finally:
        worker.stop()
