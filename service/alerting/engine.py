"""The alert engine, pure: window counts in, alert lifecycle events out.

No faust, no I/O, no clock: ``now`` is passed in and the state is a plain JSON-serialisable
dict the caller keeps (a faust Table value), one per ``(window, window_start, code)`` and
shared by every rule. ``None`` means nothing is active.

Lifecycle of one alert (identity ``rule|window|window_start|code``)::

    (none) --count >= level--> firing --count >= critical--> escalated
       ^                          |                              |
       +---- resolved <-----------+---- count < resolve, or window closed

* A higher count at the same severity emits nothing (receivers are not spammed on every
  report); :func:`due_renotify` re-sends firing alerts on their rule's interval instead.
* A firing critical alert stays critical until it resolves (no de-escalation: a revised
  figure between the levels does not flap the severity).
* ``resolve`` is below ``warning`` (validated), so a count oscillating between the two
  thresholds neither resolves nor re-fires.

State layout (all strings are ISO-8601 or plain values)::

    {"window", "window_start", "window_end", "region", "code", "count", "confidence",
     "evidence": [AlertEvidence as JSON, ...],
     "episode_start": <rolling windows only: the start of the window the alert fired in,
                       which keeps its identity while the rolling count moves on>,
     "alerts": {rule: {"severity", "status", "starts_at", "notified_at", "threshold",
                       "resolve", "detail"}}}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from service.alerting.rules import Levels, RuleSet
from service.alerting.text import (
    baseline_summary,
    closed_summary,
    first_activity_summary,
    resolved_summary,
    threshold_summary,
)
from service.models import AlertEvent, AlertEvidence, Severity

State = dict[str, Any]
Status = Literal["firing", "escalated", "resolved"]

#: Evidence entries kept in state and events (largest figure first, as the caller sorts).
MAX_EVIDENCE = 10

RUNBOOK_ANCHORS = {
    "threshold": "threshold",
    "baseline": "baseline",
    "first_activity": "first-activity",
    "source_silent": "source-silent",
}


@dataclass(frozen=True)
class WindowCount:
    """The current count of one region in one window, with the statements behind it."""

    window: str
    window_start: datetime
    window_end: datetime
    region: str
    code: str
    count: int
    #: ``AlertEvidence`` models or the same as JSON dicts (what the region stage passes: it
    #: evaluates every window count, and only events need the models).
    evidence: tuple[AlertEvidence | dict[str, Any], ...] = ()
    confidence: float = 1.0


@dataclass(frozen=True)
class History:
    """What the history-based rules need to know about a region (see ``history.py``).

    ``baseline_mean``: mean count of this window kind over the rule's trailing days, None
    while the history is shorter than that. ``quiet_days``: whole days without activity
    before this window, None when unknown (history shorter than the rule asks).
    """

    baseline_mean: float | None = None
    quiet_days: float | None = None


def alert_id(rule: str, window: str, window_start: datetime, code: str) -> str:
    """The stable identity receivers deduplicate on."""
    return f"{rule}|{window}|{window_start.isoformat()}|{code}"


def evaluate(
    rules: RuleSet,
    state: State | None,
    wc: WindowCount,
    now: datetime,
    *,
    history: History | None = None,
) -> tuple[State | None, list[AlertEvent]]:
    """New count for one region-window: fire, escalate or resolve; returns (state, events).

    ``history`` feeds the baseline and first-activity rules; without it only the threshold
    rule runs (the others need state across windows that the caller keeps).
    """
    st = _with_count(state, wc)
    alerts: dict[str, Any] = st["alerts"]
    events: list[AlertEvent] = []
    rule = rules.threshold.get(wc.window)
    if rule is not None:
        levels = rule.levels_for(wc.region, wc.code)
        if levels is not None:
            events.extend(_step_threshold(rules, st, alerts, levels, now))
    baseline = rules.baseline.get(wc.window)
    if baseline is not None and history is not None and history.baseline_mean is not None:
        events.extend(_step_baseline(rules, st, alerts, history.baseline_mean, now))
    first = rules.first_activity
    if (
        first is not None
        and first.window == wc.window
        and history is not None
        and history.quiet_days is not None
        and "first_activity" not in alerts
        and history.quiet_days >= first.quiet_days
        and wc.count >= first.min_count
    ):
        _open(
            alerts, "first_activity", first.severity, threshold=first.min_count, resolve=0,
            now=now,
        )
        alerts["first_activity"]["detail"] = {"quiet_days": first.quiet_days}
        summary = first_activity_summary(st, first.quiet_days)
        events.append(_event(rules, st, "first_activity", "firing", summary=summary, now=now))
    return (st if alerts else None), events


def close_window(
    rules: RuleSet, state: State | None, wc: WindowCount, now: datetime
) -> tuple[State | None, list[AlertEvent]]:
    """The window rolled past (watermark beyond end + grace): resolve whatever is firing."""
    if not state or not state.get("alerts"):
        return None, []
    st = _with_count(state, wc, keep_evidence=not wc.evidence)
    events = []
    for rule in sorted(st["alerts"]):
        summary = closed_summary(st)
        events.append(_event(rules, st, rule, "resolved", summary=summary, now=now, ends_at=now))
    return None, events


def due_renotify(
    rules: RuleSet, state: State | None, now: datetime
) -> tuple[State | None, list[AlertEvent]]:
    """Re-send firing alerts whose rule's re-notify interval has elapsed since the last send."""
    if not state or not state.get("alerts"):
        return state, []
    st = _copy(state)
    events = []
    for rule, alert in sorted(st["alerts"].items()):
        interval = rules.renotify_for(rule, st["window"])
        if interval is None:
            continue
        if now - datetime.fromisoformat(alert["notified_at"]) < interval:
            continue
        alert["notified_at"] = now.isoformat()
        summary = _firing_summary(rule, st, alert) + " (still firing)"
        events.append(_event(rules, st, rule, "firing", summary=summary, now=now))
    return st, events


def active_alerts(state: State | None) -> dict[str, Severity]:
    """The rules firing in a state and their severities (for the active-alerts gauge)."""
    if not state:
        return {}
    return {rule: a["severity"] for rule, a in state.get("alerts", {}).items()}


# --- rule steps --------------------------------------------------------------------------------


def _step_threshold(
    rules: RuleSet, st: State, alerts: dict[str, Any], levels: Levels, now: datetime
) -> list[AlertEvent]:
    count = st["count"]
    target = levels.severity_for(count)
    active = alerts.get("threshold")
    if active is None:
        if target is None:
            return []
        _open(
            alerts, "threshold", target, threshold=levels.threshold_of(target),
            resolve=levels.resolve, now=now,
        )
        summary = threshold_summary(st, target, levels.threshold_of(target))
        return [_event(rules, st, "threshold", "firing", summary=summary, now=now)]
    active["resolve"] = levels.resolve
    if active["severity"] == "warning" and target == "critical":
        active.update(
            severity="critical", status="escalated", threshold=levels.threshold_of("critical"),
            notified_at=now.isoformat(),
        )
        summary = threshold_summary(st, "critical", active["threshold"], escalated=True)
        return [_event(rules, st, "threshold", "escalated", summary=summary, now=now)]
    if count < levels.resolve:
        summary = resolved_summary(st, levels.resolve)
        event = _event(rules, st, "threshold", "resolved", summary=summary, now=now, ends_at=now)
        del alerts["threshold"]
        return [event]
    return []


def _step_baseline(
    rules: RuleSet, st: State, alerts: dict[str, Any], mean: float, now: datetime
) -> list[AlertEvent]:
    rule = rules.baseline[st["window"]]
    count = st["count"]
    active = alerts.get("baseline")
    if active is None:
        level = max(rule.min_count, _ceil(rule.factor * mean))
        if count < level:
            return []
        resolve = _ceil(rule.effective_resolve_factor * mean)
        _open(
            alerts, "baseline", rule.severity, threshold=level, resolve=min(resolve, level - 1),
            now=now,
        )
        alerts["baseline"]["detail"] = {"mean": round(mean, 3), "days": rule.days}
        summary = baseline_summary(st, rule.severity, mean, rule.days)
        return [_event(rules, st, "baseline", "firing", summary=summary, now=now)]
    if count < active["resolve"]:
        summary = resolved_summary(st, active["resolve"])
        event = _event(rules, st, "baseline", "resolved", summary=summary, now=now, ends_at=now)
        del alerts["baseline"]
        return [event]
    return []


# --- helpers -----------------------------------------------------------------------------------


def _ceil(x: float) -> int:
    n = int(x)
    return n if n >= x else n + 1


def _copy(state: State) -> State:
    st = dict(state)
    st["alerts"] = {rule: dict(a) for rule, a in state.get("alerts", {}).items()}
    return st


def _with_count(state: State | None, wc: WindowCount, *, keep_evidence: bool = False) -> State:
    """A fresh copy of the state carrying the window's latest count (inputs never mutate)."""
    st = _copy(state) if state else {"alerts": {}}
    st.update(
        window=wc.window,
        window_start=wc.window_start.isoformat(),
        window_end=wc.window_end.isoformat(),
        region=wc.region,
        code=wc.code,
        count=wc.count,
        confidence=wc.confidence,
    )
    if not keep_evidence or "evidence" not in st:
        st["evidence"] = [
            e.model_dump(mode="json") if isinstance(e, AlertEvidence) else e
            for e in wc.evidence[:MAX_EVIDENCE]
        ]
    return st


def _open(
    alerts: dict[str, Any], rule: str, severity: Severity, *, threshold: int, resolve: int,
    now: datetime,
) -> None:
    alerts[rule] = {
        "severity": severity,
        "status": "firing",
        "starts_at": now.isoformat(),
        "notified_at": now.isoformat(),
        "threshold": threshold,
        "resolve": resolve,
    }


def _firing_summary(rule: str, st: State, alert: dict[str, Any]) -> str:
    detail = alert.get("detail") or {}
    if rule == "baseline":
        mean, days = detail.get("mean", 0.0), detail.get("days", 7)
        return baseline_summary(st, alert["severity"], mean, days)
    if rule == "first_activity":
        return first_activity_summary(st, detail.get("quiet_days", 0))
    return threshold_summary(st, alert["severity"], alert["threshold"])


def _event(
    rules: RuleSet,
    st: State,
    rule: str,
    status: Status,
    *,
    summary: str,
    now: datetime,
    ends_at: datetime | None = None,
) -> AlertEvent:
    alert = st["alerts"][rule]
    start = datetime.fromisoformat(st["window_start"])
    below = status == "resolved" and st["count"] < alert["resolve"]
    threshold = alert["resolve"] if below else alert["threshold"]
    # A rolling window's alert keeps the identity of the window it first fired in, however
    # far the rolling count moves on (see service.alert_flow.on_rolling).
    episode = datetime.fromisoformat(st["episode_start"]) if st.get("episode_start") else start
    return AlertEvent(
        alert_id=alert_id(rule, st["window"], episode, st["code"]),
        status=status,
        severity=alert["severity"],
        rule=rule,
        region=st["region"],
        code=st["code"],
        window=st["window"],
        window_start=start,
        window_end=datetime.fromisoformat(st["window_end"]),
        count=st["count"],
        threshold=threshold,
        summary=summary,
        runbook_url=rules.runbook_url(RUNBOOK_ANCHORS.get(rule, rule)),
        evidence=[AlertEvidence.model_validate(e) for e in st.get("evidence", [])],
        starts_at=datetime.fromisoformat(alert["starts_at"]),
        ends_at=ends_at,
    )

