"""``skytally backtest``: an archive of reports through extraction and the alert rules, offline.

The same stage functions as the worker (:mod:`service.pipeline`) on in-memory tables, in
event-time order, so a rules file can be tuned against history before it goes live.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry

from service import pipeline
from service.aggregate import RegionUpdate
from service.alert_flow import rules_for
from service.errors import InputError
from service.feed import Payload, read_feed
from service.metrics import Metrics
from service.models import AlertEvent
from service.settings import Settings
from service.windows import parse_windows


@dataclass
class BacktestResult:
    """What the rules would have raised over the archive."""

    reports: int = 0
    unreadable: Counter[str] = field(default_factory=Counter)
    events: list[AlertEvent] = field(default_factory=list)

    def fired(self) -> Counter[tuple[str, str, str]]:
        """(rule, window, region) -> alerts raised (firing and escalations, not re-sends)."""
        return Counter(
            (e.rule, e.window, e.region) for e in self.events if e.status in ("firing", "escalated")
        )


#: Reports without a readable publication time sort last.
_UNKNOWN = datetime.max.replace(tzinfo=UTC)


def _published(payload: Payload) -> datetime:
    try:
        value = json.loads(payload.value).get("published_at")
        return datetime.fromisoformat(value).astimezone(UTC) if value else _UNKNOWN
    except (ValueError, TypeError, AttributeError):
        return _UNKNOWN


def run_backtest(
    payloads: Iterable[Payload], settings: Settings, on_progress: Callable[[int], None] | None = None
) -> BacktestResult:
    """Run reports (sorted by publication time) through the three stages and the rules."""
    runtime = SimpleNamespace(
        settings=settings,
        metrics=Metrics(CollectorRegistry()),
        windows=parse_windows(settings.windows),
        extra={},
    )
    runtime.extra["rules"] = rules_for(
        str(settings.rules) if settings.rules else None, settings.runbook_base_url
    )
    statements: dict[str, Any] = {}
    buckets: dict[str, Any] = {}
    alerts: dict[str, Any] = {}
    out = BacktestResult()
    ordered = sorted(((_published(p), p) for p in payloads), key=lambda pair: pair[0])
    for n, (published, payload) in enumerate(ordered, 1):
        out.reports += 1
        message_time = published if published is not _UNKNOWN else datetime.now(UTC)
        try:
            result = pipeline.read_message(
                payload.value, max_bytes=settings.max_report_bytes, message_time=message_time
            )
        except InputError as err:
            out.unreadable[err.reason] += 1
            continue
        for update in pipeline.merge_result(statements, result.model_dump(mode="json")) or []:
            wire = RegionUpdate.from_dict(update.to_dict())
            out.events.extend(pipeline.apply_region_update(buckets, alerts, runtime, wire).alerts)
        if on_progress is not None:
            on_progress(n)
    return out


def backtest_file(
    path: Path, settings: Settings, on_progress: Callable[[int], None] | None = None
) -> BacktestResult:
    """Backtest a feed file (JSONL reports; dev-corpus lines work too)."""
    return run_backtest(list(read_feed(path)), settings, on_progress)
