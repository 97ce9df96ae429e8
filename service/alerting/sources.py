"""The ``source_silent`` rule, pure: a named source published nothing for too long.

Called periodically (a timer) with when each source was last seen and ``now``. The state is
one JSON-serialisable dict for all sources::

    {"alerts": {"<source, casefolded>": {"severity", "starts_at", "notified_at", "since"}}}

An alert's identity is ``source_silent|silence|<last seen ISO>|<source>``: a new silence
after the source came back is a new alert. The event's ``region`` is the source name,
``code`` ``SOURCE``, ``window`` ``silence`` from the last report to now, ``count`` 0 and
``threshold`` the hours of silence allowed (see the proposal to give AlertEvent a subject).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from service.alerting.rules import RuleSet, SourceSilentRule
from service.alerting.text import silent_summary
from service.models import AlertEvent

SourceState = dict[str, Any]
#: Stands for "never seen" in alert ids, so a source silent from the start has one identity.
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def evaluate_sources(
    rules: RuleSet,
    state: SourceState | None,
    last_seen: Mapping[str, datetime],
    now: datetime,
    *,
    started_at: datetime,
) -> tuple[SourceState | None, list[AlertEvent]]:
    """Fire, re-notify or resolve ``source_silent`` alerts; ``last_seen`` keys match case-free.

    ``started_at`` (when the worker began watching) stands in for a source never seen, so a
    fresh start does not page at once about every source.
    """
    seen = {name.casefold(): t for name, t in last_seen.items()}
    alerts: dict[str, Any] = {k: dict(v) for k, v in (state or {}).get("alerts", {}).items()}
    events: list[AlertEvent] = []
    for rule in rules.source_silent:
        key = rule.source.casefold()
        last = seen.get(key)
        quiet_since = last or started_at
        active = alerts.get(key)
        silent = now - quiet_since >= timedelta(hours=rule.hours)
        if active is not None and not silent:
            events.append(_event(rules, rule, active, last, now, status="resolved"))
            del alerts[key]
        elif active is None and silent:
            active = alerts[key] = {
                "severity": rule.severity, "starts_at": now.isoformat(),
                "notified_at": now.isoformat(), "since": (last or NEVER).isoformat(),
            }
            events.append(_event(rules, rule, active, last, now, status="firing"))
        elif active is not None and now - datetime.fromisoformat(active["notified_at"]) >= rule.renotify:
            active["notified_at"] = now.isoformat()
            events.append(_event(rules, rule, active, last, now, status="firing"))
    return ({"alerts": alerts} if alerts else None), events


def _event(
    rules: RuleSet,
    rule: SourceSilentRule,
    active: dict[str, Any],
    last: datetime | None,
    now: datetime,
    *,
    status: Literal["firing", "resolved"],
) -> AlertEvent:
    since = datetime.fromisoformat(active["since"])
    if status == "resolved":
        when = f"{last.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if last else "unknown"
        summary = f"{rule.source}: reporting again (last report {when})"
    else:
        summary = silent_summary(rule.source, rule.hours, None if since == NEVER else since)
    return AlertEvent(
        alert_id=f"source_silent|silence|{since.isoformat()}|{rule.source}",
        status=status,
        severity=active["severity"],
        rule="source_silent",
        region=rule.source,
        code="SOURCE",
        window="silence",
        window_start=since,
        window_end=now,
        count=0,
        threshold=math.ceil(rule.hours),
        summary=summary,
        runbook_url=rules.runbook_url("source-silent"),
        starts_at=datetime.fromisoformat(active["starts_at"]),
        ends_at=now if status == "resolved" else None,
    )
