"""One-line human summaries of alerts, e.g.

    Rostov Oblast: 8 interceptions in 1h window 2025-11-12 03:00–04:00 UTC (warning ≥ 5)

They read from the engine's state dict (``region``, ``count``, ``window``, ``window_start``,
``window_end``) so the engine and re-notifications phrase alerts the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def window_span(start: datetime, end: datetime) -> str:
    """``2025-11-12 03:00–04:00 UTC``, or both dates when the window crosses midnight."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC"


def interceptions(n: int) -> str:
    """``1 interception`` / ``8 interceptions``."""
    return f"{n} interception" if n == 1 else f"{n} interceptions"


def _where(st: Mapping[str, Any]) -> str:
    span = window_span(
        datetime.fromisoformat(st["window_start"]), datetime.fromisoformat(st["window_end"])
    )
    return f"{st['window']} window {span}"


def threshold_summary(
    st: Mapping[str, Any], severity: str, threshold: int, *, escalated: bool = False
) -> str:
    """A region reached a threshold level."""
    level = f"escalated to {severity} ≥ {threshold}" if escalated else f"{severity} ≥ {threshold}"
    return f"{st['region']}: {interceptions(st['count'])} in {_where(st)} ({level})"


def baseline_summary(st: Mapping[str, Any], severity: str, mean: float, days: int) -> str:
    """A region's count is a multiple of its usual level."""
    ratio = f"{st['count'] / mean:.1f}× the" if mean > 0 else "against a"
    return (
        f"{st['region']}: {interceptions(st['count'])} in {_where(st)}"
        f" ({severity}: {ratio} {days}-day mean of {mean:.1f})"
    )


def first_activity_summary(st: Mapping[str, Any], quiet_days: int) -> str:
    """A region quiet for a long time is active again."""
    return (
        f"{st['region']}: {interceptions(st['count'])} in {_where(st)},"
        f" the first in at least {quiet_days} days"
    )


def resolved_summary(st: Mapping[str, Any], resolve: int) -> str:
    """The count fell below the resolve level (a source revised its figure)."""
    return (
        f"{st['region']}: resolved, {interceptions(st['count'])} in {_where(st)}"
        f" (below {resolve})"
    )


def closed_summary(st: Mapping[str, Any]) -> str:
    """The window is over; the alert resolves with its final count."""
    return f"{st['region']}: resolved, {_where(st)} closed with {interceptions(st['count'])}"


def silent_summary(source: str, hours: float, last_seen: datetime | None) -> str:
    """A source has published nothing for too long."""
    since = f"since {last_seen.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if last_seen else "yet"
    return f"{source}: no report {since} (silent ≥ {hours:g}h)"
