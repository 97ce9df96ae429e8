"""History helpers (baseline, first activity) and the source-silent rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.alerting.engine import History, WindowCount, evaluate
from service.alerting.history import history_for, keep_for, note_count
from service.alerting.rules import parse_rules
from service.alerting.sources import evaluate_sources

RULES = parse_rules(
    """
[baseline."24h"]
factor = 3.0
min_count = 10
days = 7
[first_activity]
quiet_days = 30
window = "24h"
[[source_silent]]
source = "MoD"
hours = 12
renotify = "6h"
"""
)
DAY = timedelta(days=1)
T0 = datetime(2025, 11, 1, tzinfo=UTC)


def day(n: int, count: int) -> WindowCount:
    """The 24h window n days after T0."""
    return WindowCount("24h", T0 + n * DAY, T0 + (n + 1) * DAY, "Rostov Oblast", "RU-ROS", count)


def test_baseline_mean_needs_full_history() -> None:
    """The mean is unknown until `days` of history exist, then the trailing daily mean."""
    hist = None
    for n in range(7):
        assert None is history_for(RULES, hist, day(n, 2), step=DAY).baseline_mean
        hist = note_count(hist, day(n, 2), keep=keep_for(RULES))
    assert 2.0 == history_for(RULES, hist, day(7, 30), step=DAY).baseline_mean


def test_baseline_fires_from_history() -> None:
    """A day at 5x the trailing mean raises a baseline alert."""
    hist = None
    for n in range(7):
        hist = note_count(hist, day(n, 2), keep=keep_for(RULES))
    _, events = evaluate(RULES, None, day(7, 12), T0, history=history_for(RULES, hist, day(7, 12), step=DAY))
    assert ["baseline"] == [e.rule for e in events]


def test_quiet_days() -> None:
    """Quiet days count from the last active window; unknown while history is too short."""
    hist = note_count(None, day(0, 0), keep=keep_for(RULES))
    assert None is history_for(RULES, hist, day(5, 1), step=DAY).quiet_days
    assert 40.0 == history_for(RULES, hist, day(40, 1), step=DAY).quiet_days
    hist = note_count(hist, day(35, 3), keep=keep_for(RULES))
    assert 5.0 == history_for(RULES, hist, day(40, 1), step=DAY).quiet_days
    assert History(3 / 7, 5.0) == history_for(RULES, hist, day(40, 1), step=DAY)


def test_history_is_trimmed() -> None:
    """Entries older than keep are dropped and zero counts are not stored."""
    hist = note_count(None, day(0, 4), keep=keep_for(RULES))
    hist = note_count(hist, day(100, 0), keep=keep_for(RULES))
    assert {} == hist["counts"]


def test_source_silent_lifecycle() -> None:
    """A source silent for 12h fires, re-notifies after 6h and resolves when it reports."""
    seen = {"mod": T0}
    state, events = evaluate_sources(RULES, None, seen, T0 + timedelta(hours=11), started_at=T0)
    assert (None, []) == (state, events)
    state, events = evaluate_sources(RULES, state, seen, T0 + timedelta(hours=12), started_at=T0)
    assert [("firing", "source_silent|silence|2025-11-01T00:00:00+00:00|MoD")] == [
        (e.status, e.alert_id) for e in events
    ]
    state, events = evaluate_sources(RULES, state, seen, T0 + timedelta(hours=13), started_at=T0)
    assert [] == events
    state, events = evaluate_sources(RULES, state, seen, T0 + timedelta(hours=18), started_at=T0)
    assert ["firing"] == [e.status for e in events]
    back = {"MoD": T0 + timedelta(hours=19)}
    state, events = evaluate_sources(RULES, state, back, T0 + timedelta(hours=19), started_at=T0)
    assert (None, ["resolved"]) == (state, [e.status for e in events])
