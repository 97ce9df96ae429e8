"""Alert engine: thresholds, hysteresis, escalation, no re-fire, close and re-notify."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from service.alerting.engine import (
    History,
    WindowCount,
    active_alerts,
    close_window,
    due_renotify,
    evaluate,
)
from service.alerting.rules import RuleSet, load_rules, parse_rules
from service.models import AlertEvent, AlertEvidence

T0 = datetime(2025, 11, 12, 3, 0, tzinfo=UTC)
NOW = datetime(2025, 11, 12, 4, 10, tzinfo=UTC)

RULES = parse_rules(
    """
runbook_base_url = "https://ops.example/runbook.md"
[threshold."1h"]
warning = 5
critical = 15
resolve = 3
renotify = "2h"
[threshold."1h".regions]
"RU-MOW" = { warning = 2, critical = 6, resolve = 1 }
[baseline."24h"]
factor = 3.0
min_count = 10
[first_activity]
quiet_days = 30
window = "24h"
"""
)

EVIDENCE = (
    AlertEvidence(report_id="r1", source="MoD", url="https://t.me/mod/1", count=8,
                  claimed_total=40, evidence="8 over Rostov Oblast", confidence=0.9),
)


def wc(count: int, *, window: str = "1h", code: str = "RU-ROS", region: str = "Rostov Oblast",
       evidence: tuple[AlertEvidence, ...] = ()) -> WindowCount:
    """A window count for the 03:00-04:00 hour (or the day for 24h)."""
    size = timedelta(hours=24) if window == "24h" else timedelta(hours=1)
    return WindowCount(window, T0, T0 + size, region, code, count, evidence)


def run(rules: RuleSet, counts: list[int], **kw: object) -> tuple[dict | None, list[AlertEvent]]:
    """Feed counts one after another; return the final state and every event."""
    state: dict | None = None
    events: list[AlertEvent] = []
    for n in counts:
        state, out = evaluate(rules, state, wc(n, **kw), NOW)  # type: ignore[arg-type]
        events.extend(out)
    return state, events


def test_below_warning_is_silent() -> None:
    """A count under the warning level emits nothing and keeps no state."""
    assert (None, []) == evaluate(RULES, None, wc(4), NOW)


def test_warning_fires_with_summary_and_identity() -> None:
    """Reaching warning fires once, with a stable id, a readable summary and the runbook link."""
    state, events = evaluate(RULES, None, wc(8, evidence=EVIDENCE), NOW)
    (event,) = events
    assert "threshold|1h|2025-11-12T03:00:00+00:00|RU-ROS" == event.alert_id
    assert ("firing", "warning") == (event.status, event.severity)
    assert (5, 8) == (event.threshold, event.count)
    assert (
        "Rostov Oblast: 8 interceptions in 1h window 2025-11-12 03:00–04:00 UTC (warning ≥ 5)"
        == event.summary
    )
    assert "https://ops.example/runbook.md#threshold" == event.runbook_url
    assert list(EVIDENCE) == event.evidence
    assert (NOW, None) == (event.starts_at, event.ends_at)
    assert {"threshold": "warning"} == active_alerts(state)


def test_state_is_json_serialisable() -> None:
    """The state round-trips through JSON unchanged (it lives in a faust table)."""
    state, _ = evaluate(RULES, None, wc(8, evidence=EVIDENCE), NOW)
    assert state == json.loads(json.dumps(state))


def test_region_override() -> None:
    """Moscow's override fires at 2 where the default would not."""
    _, events = evaluate(RULES, None, wc(2, code="RU-MOW", region="Moscow"), NOW)
    assert [("firing", "warning", 2)] == [(e.status, e.severity, e.threshold) for e in events]


def test_critical_fires_directly() -> None:
    """A first count above critical fires critical straight away."""
    _, events = evaluate(RULES, None, wc(20), NOW)
    assert [("firing", "critical", 15)] == [(e.status, e.severity, e.threshold) for e in events]


def test_no_refire_on_higher_count() -> None:
    """A higher count at the same severity emits nothing."""
    _, events = run(RULES, [5, 6, 9, 14])
    assert ["firing"] == [e.status for e in events]


def test_escalation_then_no_deescalation() -> None:
    """Warning escalates to critical once; a revised figure between levels keeps critical."""
    state, events = run(RULES, [6, 16, 20, 10])
    assert [("firing", "warning"), ("escalated", "critical")] == [
        (e.status, e.severity) for e in events
    ]
    assert {"threshold": "critical"} == active_alerts(state)


def test_escalation_keeps_start_time() -> None:
    """The escalated event carries the original start time."""
    state, _ = evaluate(RULES, None, wc(6), NOW)
    later = NOW + timedelta(minutes=5)
    _, (event,) = evaluate(RULES, state, wc(16), later)
    assert NOW == event.starts_at


def test_hysteresis_no_flapping() -> None:
    """A count oscillating between resolve and warning neither resolves nor re-fires."""
    _, events = run(RULES, [5, 3, 4, 5, 3, 6, 4])
    assert ["firing"] == [e.status for e in events]


def test_resolves_below_resolve_level() -> None:
    """A revised count below resolve resolves the alert and clears the state."""
    state, events = run(RULES, [6, 2])
    assert [("firing", None), ("resolved", NOW)] == [(e.status, e.ends_at) for e in events]
    assert None is state
    assert 3 == events[-1].threshold


def test_refires_after_resolution() -> None:
    """After a resolution a new rise fires again under the same id."""
    _, events = run(RULES, [6, 2, 7])
    assert ["firing", "resolved", "firing"] == [e.status for e in events]
    assert 1 == len({e.alert_id for e in events})


def test_close_window_resolves_and_keeps_evidence() -> None:
    """Closing a window resolves what fires, with the final count and the stored evidence."""
    state, _ = evaluate(RULES, None, wc(8, evidence=EVIDENCE), NOW)
    later = NOW + timedelta(hours=1)
    new_state, (event,) = close_window(RULES, state, wc(9), later)
    assert None is new_state
    assert ("resolved", later, 9) == (event.status, event.ends_at, event.count)
    assert list(EVIDENCE) == event.evidence
    assert event.summary.endswith("closed with 9 interceptions")


def test_close_window_without_state() -> None:
    """Closing a window with nothing active emits nothing."""
    assert (None, []) == close_window(RULES, None, wc(1), NOW)


def test_renotify_after_interval() -> None:
    """A firing alert is re-sent once its interval has elapsed, then not again until the next."""
    state, _ = evaluate(RULES, None, wc(8), NOW)
    assert [] == due_renotify(RULES, state, NOW + timedelta(hours=1))[1]
    state, events = due_renotify(RULES, state, NOW + timedelta(hours=2))
    assert [("firing", NOW)] == [(e.status, e.starts_at) for e in events]
    assert events[0].summary.endswith("(still firing)")
    assert [] == due_renotify(RULES, state, NOW + timedelta(hours=3))[1]
    assert 1 == len(due_renotify(RULES, state, NOW + timedelta(hours=4))[1])


def test_renotify_nothing_active() -> None:
    """No state, no re-notification."""
    assert (None, []) == due_renotify(RULES, None, NOW)


def test_unknown_window_is_ignored() -> None:
    """Counts of a window without rules emit nothing."""
    assert (None, []) == evaluate(RULES, None, wc(100, window="6h"), NOW)


def test_inputs_are_not_mutated() -> None:
    """evaluate() returns a new state and leaves the one passed in untouched."""
    state, _ = evaluate(RULES, None, wc(6), NOW)
    before = json.dumps(state, sort_keys=True)
    evaluate(RULES, state, wc(16), NOW)
    assert before == json.dumps(state, sort_keys=True)


@pytest.mark.parametrize(("mean", "count", "fires"), [(2.0, 9, False), (2.0, 10, True),
                                                       (5.0, 14, False), (5.0, 15, True)])
def test_baseline(mean: float, count: int, fires: bool) -> None:
    """Baseline fires at factor x mean, never under min_count."""
    rules = RULES.model_copy(update={"threshold": {}})
    _, events = evaluate(rules, None, wc(count, window="24h"), NOW,
                         history=History(baseline_mean=mean))
    assert fires == bool(events)


def test_baseline_resolves_below_half() -> None:
    """A firing baseline alert resolves below factor/2 x mean."""
    rules = RULES.model_copy(update={"threshold": {}})
    hist = History(baseline_mean=5.0)
    state, _ = evaluate(rules, None, wc(15, window="24h"), NOW, history=hist)
    state, held = evaluate(rules, state, wc(8, window="24h"), NOW, history=hist)
    state, events = evaluate(rules, state, wc(7, window="24h"), NOW, history=hist)
    assert ([], ["resolved"]) == (held, [e.status for e in events])


def test_first_activity_once() -> None:
    """First activity after the quiet period fires once; unknown history never fires."""
    rules = RULES.model_copy(update={"threshold": {}})
    quiet = History(quiet_days=45.0)
    assert [] == evaluate(rules, None, wc(1, window="24h"), NOW, history=History())[1]
    assert [] == evaluate(rules, None, wc(1, window="24h"), NOW, history=History(quiet_days=3))[1]
    state, events = evaluate(rules, None, wc(1, window="24h"), NOW, history=quiet)
    assert ["first_activity|24h|2025-11-12T03:00:00+00:00|RU-ROS"] == [e.alert_id for e in events]
    assert [] == evaluate(rules, state, wc(2, window="24h"), NOW, history=quiet)[1]
    assert [] == due_renotify(rules, state, NOW + timedelta(days=1))[1]


def test_defaults_alert_on_eight_in_one_night() -> None:
    """With the shipped rules, 8 in one night alerts in each window that sees them."""
    rules = load_rules(None)
    night_start = datetime(2025, 11, 11, 17, tzinfo=UTC)
    night = WindowCount("night", night_start, night_start + timedelta(hours=11),
                        "Rostov Oblast", "RU-ROS", 8)
    hour = WindowCount("1h", T0, T0 + timedelta(hours=1), "Rostov Oblast", "RU-ROS", 8)
    assert ["warning"] == [e.severity for e in evaluate(rules, None, night, NOW)[1]]
    assert ["warning"] == [e.severity for e in evaluate(rules, None, hour, NOW)[1]]
