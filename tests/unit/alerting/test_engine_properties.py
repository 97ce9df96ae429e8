"""Property: whatever counts arrive, the emitted events form a valid alert lifecycle."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from service.alerting.engine import WindowCount, close_window, due_renotify, evaluate
from service.alerting.rules import parse_rules
from service.models import AlertEvent

RULES = parse_rules(
    """
[threshold."1h"]
warning = 5
critical = 15
resolve = 3
renotify = "1h"
"""
)
T0 = datetime(2025, 11, 12, 3, tzinfo=UTC)

# An action is a new count, or a re-notify tick (None).
actions = st.lists(st.one_of(st.integers(min_value=0, max_value=40), st.none()), max_size=40)


def check_lifecycle(events: list[AlertEvent]) -> None:
    """No resolve or escalation without a firing; one firing per id until it resolves."""
    firing: dict[str, str] = {}  # alert id -> severity
    for event in events:
        if event.status == "resolved":
            assert event.alert_id in firing
            assert firing.pop(event.alert_id) == event.severity
        elif event.status == "escalated":
            assert "warning" == firing.get(event.alert_id)
            firing[event.alert_id] = "critical"
        elif event.alert_id in firing:  # a firing event for an open alert: a re-notification
            assert event.summary.endswith("(still firing)")
            assert firing[event.alert_id] == event.severity
        else:
            firing[event.alert_id] = event.severity


@settings(max_examples=300, deadline=None)
@given(actions, st.booleans())
def test_events_form_a_valid_lifecycle(steps: list[int | None], close: bool) -> None:
    """For any sequence of counts and ticks, the events are a valid lifecycle."""
    state: dict | None = None
    events: list[AlertEvent] = []
    now = T0
    last = 0
    for step in steps:
        now += timedelta(minutes=20)
        if step is None:
            state, out = due_renotify(RULES, state, now)
        else:
            last = step
            wc = WindowCount("1h", T0, T0 + timedelta(hours=1), "Rostov Oblast", "RU-ROS", step)
            state, out = evaluate(RULES, state, wc, now)
        events.extend(out)
        assert state == json.loads(json.dumps(state))
    if close:
        wc = WindowCount("1h", T0, T0 + timedelta(hours=1), "Rostov Oblast", "RU-ROS", last)
        state, out = close_window(RULES, state, wc, now)
        events.extend(out)
        assert None is state
    check_lifecycle(events)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=3, max_value=14), min_size=1, max_size=30))
def test_between_resolve_and_critical_fires_at_most_once(counts: list[int]) -> None:
    """Counts that never leave the hysteresis band [resolve, critical) fire at most once."""
    state: dict | None = None
    events: list[AlertEvent] = []
    for n in counts:
        wc = WindowCount("1h", T0, T0 + timedelta(hours=1), "Rostov Oblast", "RU-ROS", n)
        state, out = evaluate(RULES, state, wc, T0)
        events.extend(out)
    assert [] == [e for e in events if e.status != "firing"]
    assert (1 if max(counts) >= 5 else 0) == len(events)
