"""Glue between the region stage and the pure alert engine (:mod:`service.alerting`).

The alert-state table holds, per ``window|window_start|code``::

    {"engine": <engine state>, "last": <last AlertEvent as JSON>, "partition": p,
     "window": ..., "window_start": ..., "window_end": ..., "code": ..., "region": ...}

so ``/api/alerts`` can list active alerts after a restart, and window closing only touches
alerts of the partition whose stream time advanced (their changelog partition).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from service.alerting.engine import WindowCount, close_window, evaluate
from service.alerting.rules import RuleSet, load_rules
from service.models import AlertEvent, AlertEvidence, RegionCount


@lru_cache(maxsize=4)
def rules_for(path: str | None, runbook_base_url: str | None = None) -> RuleSet:
    """The rule set of a rules file (or the bundled defaults), loaded once."""
    return load_rules(Path(path) if path else None, runbook_base_url=runbook_base_url)


def rules_of(runtime: Any) -> RuleSet:
    """The runtime's rule set (SKYTALLY_RULES, else the bundled defaults)."""
    rules = runtime.extra.get("rules")
    if rules is None:
        path = runtime.settings.rules
        rules = rules_for(str(path) if path else None, runtime.settings.runbook_base_url)
        runtime.extra["rules"] = rules
    return rules  # type: ignore[no-any-return]


def on_count(
    alerts: MutableMapping[str, Any],
    runtime: Any,
    count: RegionCount,
    evidence: tuple[AlertEvidence, ...],
    now: datetime,
    partition: int,
) -> list[AlertEvent]:
    """Evaluate the rules on a window's new count; store the new state; return events."""
    key = f"{count.window}|{count.window_start.isoformat()}|{count.code}"
    stored = alerts.get(key) or {}
    wc = WindowCount(
        window=count.window,
        window_start=count.window_start,
        window_end=count.window_end,
        region=count.region,
        code=count.code,
        count=count.count,
        evidence=evidence,
        confidence=min((e.confidence for e in evidence), default=1.0),
    )
    state, events = evaluate(rules_of(runtime), stored.get("engine"), wc, now)
    if state is None and not stored:
        return events
    if state != stored.get("engine") or events:
        alerts[key] = {
            "engine": state,
            "last": events[-1].model_dump(mode="json") if events else stored.get("last"),
            "partition": partition,
            "window": count.window,
            "window_start": count.window_start.isoformat(),
            "window_end": count.window_end.isoformat(),
            "code": count.code,
            "region": count.region,
            "count": count.count,
        }
    return events


def on_stream_time(
    alerts: MutableMapping[str, Any],
    runtime: Any,
    closed_before: datetime,
    now: datetime,
    partition: int,
) -> list[AlertEvent]:
    """Resolve the alerts of windows of this partition that ended before ``closed_before``."""
    events: list[AlertEvent] = []
    for key, stored in list(alerts.items()):
        if not stored or stored.get("partition") != partition or stored.get("engine") is None:
            continue
        end = datetime.fromisoformat(stored["window_end"])
        if end >= closed_before:
            continue
        wc = WindowCount(
            window=stored["window"],
            window_start=datetime.fromisoformat(stored["window_start"]),
            window_end=end,
            region=stored["region"],
            code=stored["code"],
            count=stored["count"],
        )
        state, closing = close_window(rules_of(runtime), stored["engine"], wc, now)
        events.extend(closing)
        alerts[key] = {
            **stored,
            "engine": state,
            "last": closing[-1].model_dump(mode="json") if closing else stored["last"],
        }
    return events
