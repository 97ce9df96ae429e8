"""What a worker serves, in the shape the synthetic generator's ``truth()`` uses, and metric sums."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from tests.support.skytally_worker import WorkerHandle

Counts = dict[str, int]


def api_counts(worker: WorkerHandle) -> Counts:
    """Every window count ``/api/regions`` knows, closed windows included: ``window|start|code``."""
    body = worker.get("/api/regions?closed=1")
    return {
        f"{w}|{datetime.fromisoformat(r['window_start']).isoformat()}|{r['code']}": r["count"]
        for w, rows in body["windows"].items()
        for r in rows
    }


def wait_counts(
    worker: WorkerHandle, expected: Counts, timeout: float, keep: Callable[[str], bool] = lambda _: True
) -> Counts:
    """Poll until the served counts (keys passing ``keep``) equal ``expected``; return the last seen."""
    deadline = time.monotonic() + timeout
    seen: Counts = {}
    while time.monotonic() < deadline:
        seen = {k: v for k, v in api_counts(worker).items() if keep(k)}
        if seen == expected:
            break
        time.sleep(1.0)
    return seen


def describe_difference(expected: Counts, served: Counts) -> str:
    """A short account of how ``served`` differs from ``expected`` (empty when equal)."""
    wrong = {k: (v, served.get(k)) for k, v in expected.items() if served.get(k) != v}
    extra = {k: v for k, v in served.items() if k not in expected}
    if not wrong and not extra:
        return ""
    return (
        f"{len(wrong)} of {len(expected)} windows differ (expected, served), e.g. "
        f"{dict(list(wrong.items())[:8])}; {len(extra)} unexpected, e.g. {dict(list(extra.items())[:5])}"
    )


def metric_samples(worker: WorkerHandle, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample named ``name`` on /metrics, by its sorted label pairs."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(worker.get("/metrics")):
        for sample in family.samples:
            if sample.name == name:
                out[tuple(sorted(sample.labels.items()))] = float(sample.value)
    return out
