"""Glue between the region stage and the pure alert engine (:mod:`service.alerting`).

The alert-state table holds, per ``window|window_start|code``::

    {"engine": <engine state>, "last": <last AlertEvent as JSON>, "partition": p,
     "window": ..., "window_start": ..., "window_end": ..., "code": ..., "region": ...}

so ``/api/alerts`` can list active alerts after a restart, and window closing only touches
alerts of the partition whose stream time advanced (their changelog partition).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from service.alerting.engine import (
    History,
    WindowCount,
    active_alerts,
    close_window,
    due_renotify,
    evaluate,
)
from service.alerting.history import history_for, keep_for, note_count
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


def closing_key(partition: int, hour: datetime) -> str:
    """The index of a partition's alert states whose window closes at ``hour`` (its end)."""
    return f"~closing|{partition}|{hour.isoformat()}"


def _index_for_closing(alerts: MutableMapping[str, Any], key: str, end: datetime, partition: int) -> None:
    index_key = closing_key(partition, end)
    index = alerts.get(index_key) or {"keys": []}
    if key not in index["keys"]:
        alerts[index_key] = {"keys": [*index["keys"], key]}


def on_count(
    alerts: MutableMapping[str, Any],
    runtime: Any,
    count: RegionCount,
    evidence: tuple[AlertEvidence | dict[str, Any], ...],
    now: datetime,
    partition: int,
    closing_line: datetime | None = None,
) -> list[AlertEvent]:
    """Evaluate the rules on a window's new count; store the new state; return events.

    ``closing_line``: windows of this partition that end before it are closed (stream time
    minus grace); a state kept for an open alert is indexed under the hour its window closes.
    A window already behind the line (a statement from a reports partition slower than the
    one that moved the line; not late by its own partition's time, so counted and evaluated)
    is closed at once: its alerts resolve in the same step, as the line may never move again
    (a quiet feed), and an alert of a closed window must not stay firing.
    """
    key = f"{count.window}|{count.window_start.isoformat()}|{count.code}"
    stored = alerts.get(key) or {}
    wc = _window_count(count, evidence)
    rules = rules_of(runtime)
    history = _history(alerts, runtime, rules, wc)
    if stored.get("closed"):
        return []  # closed, its alerts resolved: a later statement corrects the count, raises nothing
    state, events = evaluate(rules, stored.get("engine"), wc, now, history=history)
    if state is None and not stored:
        return events
    if state != stored.get("engine") or events:
        alerts[key] = _stored_state(count, state, events, stored, partition)
        if state is not None and closing_line is not None and count.window_end < closing_line:
            events = [*events, *_close(alerts, runtime, [key], closing_line, now)]
        elif state is not None:
            _index_for_closing(alerts, key, count.window_end, partition)
    return events


def evidence_confidence(evidence: AlertEvidence | dict[str, Any]) -> float:
    """The confidence of one piece of evidence (a model or its JSON dict)."""
    if isinstance(evidence, AlertEvidence):
        return evidence.confidence
    return float(evidence.get("confidence", 0.0))


def _window_count(count: RegionCount, evidence: tuple[AlertEvidence | dict[str, Any], ...]) -> WindowCount:
    """What the alert engine sees of a window count."""
    return WindowCount(
        window=count.window,
        window_start=count.window_start,
        window_end=count.window_end,
        region=count.region,
        code=count.code,
        count=count.count,
        evidence=evidence,
        confidence=min((evidence_confidence(e) for e in evidence), default=1.0),
    )


def _stored_state(
    count: RegionCount,
    state: dict[str, Any] | None,
    events: list[AlertEvent],
    stored: dict[str, Any],
    partition: int,
) -> dict[str, Any]:
    """The alert-state table value: the engine state, the last event and the window it is for."""
    return {
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


def rolling_key(window: str, code: str) -> str:
    """Where a region's alert state for a rolling window is kept (one per region, not per window)."""
    return f"{window}|rolling|{code}"


def rolling_index_key(partition: int) -> str:
    """The regions of a partition with a rolling-window alert state (re-evaluated as time moves)."""
    return f"~rolling|{partition}"


def on_rolling(
    alerts: MutableMapping[str, Any],
    runtime: Any,
    count: RegionCount,
    evidence: tuple[AlertEvidence | dict[str, Any], ...],
    now: datetime,
    partition: int,
) -> list[AlertEvent]:
    """Evaluate the rules on a region's rolling count (``count``: the trailing window).

    A hopping window ("24h/1h") is a rolling count: the instances overlap, and one burst is
    in 24 of them. Its alert is therefore kept per region, not per instance: it fires when the
    rolling count reaches a level, keeps the identity of the window it fired in while the count
    stays up, and resolves when the count (re-evaluated at every hour the stream time crosses,
    see :func:`rolling_codes`) falls below the resolve level. Threshold rules only: the
    baseline and first-activity rules compare windows of their own kind.
    """
    key = rolling_key(count.window, count.code)
    stored = alerts.get(key) or {}
    engine = stored.get("engine")
    wc = _window_count(count, evidence)
    state, events = evaluate(rules_of(runtime), engine, wc, now)
    if state is not None and not state.get("episode_start"):
        state["episode_start"] = count.window_start.isoformat()
    if state is None and not stored:
        return events
    if state != engine or events:
        alerts[key] = {**_stored_state(count, state, events, stored, partition), "rolling": True}
    codes = rolling_codes(alerts, partition)
    if state is not None and count.code not in codes:
        alerts[rolling_index_key(partition)] = {"codes": sorted([*codes, count.code])}
    elif state is None and count.code in codes:
        alerts[rolling_index_key(partition)] = {"codes": [c for c in codes if c != count.code]}
    return events


def rolling_codes(alerts: MutableMapping[str, Any], partition: int) -> list[str]:
    """Regions of a partition whose rolling count may still be alerting."""
    return list((alerts.get(rolling_index_key(partition)) or {}).get("codes", []))


def _history(
    alerts: MutableMapping[str, Any], runtime: Any, rules: RuleSet, wc: WindowCount
) -> History | None:
    """The region's history for the baseline and first-activity rules, updated with ``wc``.

    Kept in the alert-state table under ``~history|window|code`` (same partition as the
    region), only for windows that such a rule watches.
    """
    first = rules.first_activity
    if wc.window not in rules.baseline and (first is None or first.window != wc.window):
        return None
    spec = next((w for w in runtime.windows if w.name == wc.window), None)
    if spec is None:
        return None
    key = f"~history|{wc.window}|{wc.code}"
    stored = alerts.get(key)
    history = history_for(rules, stored, wc, step=spec.step)
    noted = note_count(stored, wc, keep=keep_for(rules))
    if noted != stored:  # each write is a changelog record: skip repeats
        alerts[key] = noted
    return history


def on_stream_time(
    alerts: MutableMapping[str, Any],
    runtime: Any,
    closed_before: datetime,
    now: datetime,
    partition: int,
    since: datetime | None = None,
) -> list[AlertEvent]:
    """Resolve the alerts of windows of this partition that ended before ``closed_before``.

    ``since``: the previous closing line; the states to close are then found through the
    closing index of the hours in between (see :func:`closing_key`). Without it (a partition's
    first stream time), or after a jump of more than a year, the whole table is scanned once.
    """
    if since is None or closed_before - since > timedelta(days=366):
        mine = [k for k, v in list(alerts.items()) if v and v.get("partition") == partition]
        keys = [k for k in mine if not k.startswith("~")]
        events = _close(alerts, runtime, keys, closed_before, now)
        for index_key in [k for k in list(alerts.keys()) if k.startswith(f"~closing|{partition}|")]:
            if datetime.fromisoformat(index_key.rsplit("|", 1)[1]) < closed_before:
                del alerts[index_key]
        return events
    events = []
    hour = since.replace(minute=0, second=0, microsecond=0)
    while hour < closed_before:
        index_key = closing_key(partition, hour)
        index = alerts.get(index_key)
        if index is not None:
            events.extend(_close(alerts, runtime, index["keys"], closed_before, now))
            del alerts[index_key]
        hour += timedelta(hours=1)
    return events


def _close(
    alerts: MutableMapping[str, Any], runtime: Any, keys: list[str], closed_before: datetime, now: datetime
) -> list[AlertEvent]:
    events: list[AlertEvent] = []
    for key in keys:
        stored = alerts.get(key)
        if not stored or stored.get("engine") is None or stored.get("rolling"):
            continue  # (a rolling count's alert resolves by its level, not by a window closing)
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
            "closed": True,  # its alerts never fire again (see on_count)
        }
    return events


def housekeeping(
    alerts: MutableMapping[str, Any], runtime: Any, now: datetime, partitions: set[int] | None
) -> tuple[list[AlertEvent], dict[str, int]]:
    """Re-notify events due on this worker's partitions, and active alerts by severity.

    Called from a timer, where tables cannot be written: when each alert was last re-sent is
    kept in memory (after a restart, a due alert is re-sent once more, which receivers dedupe).
    """
    rules = rules_of(runtime)
    notified: dict[str, str] = runtime.extra.setdefault("renotified_at", {})
    events: list[AlertEvent] = []
    active: dict[str, int] = {"warning": 0, "critical": 0}
    for key, stored in list(alerts.items()):
        if not stored or stored.get("engine") is None or "partition" not in stored:
            continue
        if partitions is not None and stored["partition"] not in partitions:
            continue  # a standby copy: its active owner reports it
        for severity in active_alerts(stored["engine"]).values():
            active[severity] += 1
        engine = _with_renotified(stored["engine"], notified.get(key))
        _, due = due_renotify(rules, engine, now)
        if due:
            notified[key] = now.isoformat()
            events.extend(due)
    return events, active


def _with_renotified(engine: dict[str, Any], when: str | None) -> dict[str, Any]:
    if when is None:
        return engine
    alerts = {
        rule: {**a, "notified_at": max(a.get("notified_at", when), when)}
        for rule, a in engine.get("alerts", {}).items()
    }
    return {**engine, "alerts": alerts}
