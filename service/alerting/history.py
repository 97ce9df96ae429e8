"""Per-region count history for the baseline and first-activity rules, pure.

One JSON-serialisable dict per region code (a faust Table value)::

    {"since": "<ISO: first window start recorded>",
     "counts": {"<window>": {"<window_start ISO>": count, ...}, ...}}

Only non-zero counts are kept (absence means zero) and entries older than ``keep`` are
trimmed, so a quiet region costs nothing and a busy one at most one entry per window.
Call :func:`history_for` *before* :func:`note_count` for the same window, so the window
does not count towards its own baseline.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from service.alerting.engine import History, WindowCount
from service.alerting.rules import RuleSet

HistoryState = dict[str, Any]
DAY = timedelta(days=1)


def _key(t: datetime) -> str:
    """A window start as stored: ISO 8601 in UTC. Keys of one format sort as their instants do,
    so the history is filtered by comparing strings instead of parsing every key each time."""
    return t.astimezone(UTC).isoformat()


def keep_for(rules: RuleSet) -> timedelta:
    """How much history the rules need (the longest baseline or quiet period)."""
    days = [b.days for b in rules.baseline.values()]
    if rules.first_activity is not None:
        days.append(rules.first_activity.quiet_days)
    return timedelta(days=max(days, default=0) + 1)


def note_count(history: HistoryState | None, wc: WindowCount, *, keep: timedelta) -> HistoryState:
    """Record a window's latest count; returns a new dict trimmed to ``keep``."""
    start = _key(wc.window_start)
    out: HistoryState = {
        "since": history["since"] if history else start,
        "counts": {w: dict(c) for w, c in (history or {}).get("counts", {}).items()},
    }
    if datetime.fromisoformat(out["since"]) > wc.window_start:
        out["since"] = start
    window = out["counts"].setdefault(wc.window, {})
    if wc.count > 0:
        window[start] = wc.count
    else:
        window.pop(start, None)
    horizon = _key(wc.window_start - keep)
    for name in list(out["counts"]):
        counts = out["counts"][name]
        for key in [k for k in counts if k < horizon]:
            del counts[key]
        if not counts:
            del out["counts"][name]
    return out


def history_for(
    rules: RuleSet, history: HistoryState | None, wc: WindowCount, *, step: timedelta
) -> History:
    """What the baseline and first-activity rules need for ``wc`` (``step``: the window's step).

    The baseline mean is the sum of this window kind's counts starting in the trailing
    ``days`` before ``wc.window_start``, divided by the number of such windows. Either
    value is None while the history does not reach back far enough to be meaningful.
    """
    if not history:
        return History()
    since = datetime.fromisoformat(history["since"])
    start = wc.window_start
    start_key = _key(start)
    mean: float | None = None
    baseline = rules.baseline.get(wc.window)
    if baseline is not None and since <= start - baseline.days * DAY:
        lower = _key(start - baseline.days * DAY)
        counts = history.get("counts", {}).get(wc.window, {})
        total = sum(n for k, n in counts.items() if lower <= k < start_key)
        mean = total / max(1, (baseline.days * DAY) // step)
    quiet: float | None = None
    if rules.first_activity is not None:
        earlier = [k for counts in history.get("counts", {}).values() for k in counts if k < start_key]
        last = datetime.fromisoformat(max(earlier)) if earlier else since
        quiet = (start - last) / DAY
        if not earlier and since > start - rules.first_activity.quiet_days * DAY:
            quiet = None  # no activity seen, but not watched for long enough to say so
    return History(baseline_mean=mean, quiet_days=quiet)
