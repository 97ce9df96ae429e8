"""A real Prometheus scrapes the worker's /metrics; queries over the domain metrics give the counts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.kafka_io import produce
from tests.support.prometheus import Prometheus
from tests.support.skytally_worker import WorkerHandle, launch_worker

pytestmark = pytest.mark.integration

REPORT = (
    "Russian air defences destroyed 17 Ukrainian drones from 21:00 to 23:59 Moscow time on "
    "November 20: nine over the Belgorod Region, five over the Kursk Region and three over the "
    "Bryansk Region, the Defence Ministry said."
)


@pytest.fixture
def worker(broker: Any, tmp_path: Path) -> Iterator[WorkerHandle]:
    """A worker of its own."""
    handle = launch_worker(broker.bootstrap, tmp_path, "prom")
    yield handle
    handle.stop()


def test_prometheus_query_returns_the_reported_counts(
    worker: WorkerHandle, broker: Any, tmp_path: Path
) -> None:
    """After one report and a republication, Prometheus reads 9/5/3 interceptions, counted once."""
    prometheus = Prometheus(tmp_path / "prometheus", f"127.0.0.1:{worker.port}")
    prometheus.start()
    try:
        reports = [
            {"id": f"prom-{n}", "source": source, "published_at": "2026-11-20T21:10:00+00:00", "text": REPORT}
            for n, source in enumerate(["mod", "wire"])
        ]
        asyncio.run(produce(broker.bootstrap, worker.topics["reports"], reports))
        worker.wait_metric("skytally_interceptions_total", {"code": "RU-BRY"}, 3.0)
        deadline = time.monotonic() + 30
        values: dict[str, float] = {}
        while time.monotonic() < deadline:
            rows = prometheus.query('sum by (code) (skytally_interceptions_total{job="skytally"})')
            values = {r["metric"]["code"]: float(r["value"][1]) for r in rows}
            if values.get("RU-BRY") == 3.0:
                break
            time.sleep(0.5)
        assert {"RU-BEL": 9.0, "RU-KRS": 5.0, "RU-BRY": 3.0} == values
        (consumed,) = prometheus.query('skytally_reports_consumed_total{job="skytally"}')
        assert 2.0 == float(consumed["value"][1])
    finally:
        prometheus.stop()
