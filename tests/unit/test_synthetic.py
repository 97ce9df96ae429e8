"""The synthetic stream's truth is what the pipeline computes, whatever the arrival order."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry

from service import pipeline
from service.aggregate import RegionUpdate
from service.metrics import Metrics
from service.readmodel import RegionCountsView
from service.settings import Settings
from service.synthetic import generate, truth
from service.windows import parse_windows


def run_pipeline(reports: list[dict[str, Any]]) -> dict[str, int]:
    """Feed reports through the three stages on dict tables; return final window counts."""
    settings = Settings(windows="1h,24h,night", grace_hours=24)
    runtime = SimpleNamespace(
        settings=settings,
        metrics=Metrics(CollectorRegistry()),
        windows=parse_windows(settings.windows),
        extra={},
    )
    statements: dict[str, Any] = {}
    buckets: dict[str, Any] = {}
    alerts: dict[str, Any] = {}
    view = RegionCountsView()  # what the API serves: the region-counts records, latest per key
    for report in reports:
        result = pipeline.read_message(
            json.dumps(report).encode(), max_bytes=1 << 20, message_time=datetime.now(UTC)
        )
        value = result.model_dump(mode="json")
        for update in pipeline.merge_result(statements, value, 0, pipeline.keep_for(runtime)) or []:
            out = pipeline.apply_region_update(
                buckets, alerts, runtime, RegionUpdate.from_dict(update.to_dict())
            )
            for message in out.counts:
                view.apply(json.loads(json.dumps(message.value)))
    rendered = view.render(set(), timedelta(hours=24), include_closed=True)
    return {
        f"{w}|{datetime.fromisoformat(r['window_start']).isoformat()}|{r['code']}": r["count"]
        for w, rows in rendered["windows"].items()
        for r in rows
        if r["count"]
    }


def test_pipeline_final_counts_equal_the_generator_truth() -> None:
    """Republished, revised and late reports end in exactly the generator's expected counts."""
    reports, statements = generate(150, seed=11)
    expected = truth(statements, parse_windows("1h,24h,night"))
    assert expected == run_pipeline(reports)


def test_redelivery_and_shuffling_within_grace_do_not_change_counts() -> None:
    """Every report delivered twice, lightly shuffled, still gives the same counts."""
    reports, statements = generate(60, seed=5)
    doubled = [r for r in reports for _ in range(2)]
    rnd = random.Random(3)
    for i in range(len(doubled) - 1):  # local swaps: out of order by minutes, not beyond grace
        if rnd.random() < 0.3:
            doubled[i], doubled[i + 1] = doubled[i + 1], doubled[i]
    assert truth(statements, parse_windows("1h,24h,night")) == run_pipeline(doubled)
