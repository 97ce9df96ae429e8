"""source_silent wiring: sightings from every worker, and a leader that takes over cleanly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.alerting.rules import parse_rules
from service.alerting.sources import evaluate_sources
from service.source_watch import ActivityThrottle, SourcesView, state_from_alerts

RULES = parse_rules(
    """
[[source_silent]]
source = "MoD"
hours = 12
renotify = "6h"
"""
)
T0 = datetime(2025, 11, 1, tzinfo=UTC)


def test_a_source_is_published_once_per_interval() -> None:
    """First sight is published at once, then at most once a minute, whatever the spelling."""
    throttle = ActivityThrottle(timedelta(minutes=1))
    sent = [
        throttle.due(name, T0 + timedelta(seconds=s))
        for name, s in [("MoD", 0), ("mod ", 10), ("TASS", 20), ("MoD", 61)]
    ]
    assert [True, False, True, True] == sent


def test_the_latest_sighting_wins_in_any_order() -> None:
    """Workers publish independently; an older record read later does not move a source back."""
    view = SourcesView()
    for hours in (3, 1, 2):
        view.apply({"source": "MoD", "last_seen": (T0 + timedelta(hours=hours)).isoformat()})
    assert {"MoD": T0 + timedelta(hours=3)} == view.last_seen


def test_a_new_leader_continues_a_firing_alert_and_resolves_it() -> None:
    """State rebuilt from the alerts topic: no second firing, and the resolve still comes."""
    seen = {"MoD": T0}
    _, fired = evaluate_sources(RULES, None, seen, T0 + timedelta(hours=12), started_at=T0)
    on_topic = [e.model_dump(mode="json") for e in fired]

    state = state_from_alerts(on_topic)
    later = T0 + timedelta(hours=13)  # the new leader started watching just now
    _, again = evaluate_sources(RULES, state, seen, later, started_at=later)
    assert [] == again
    back = {"MoD": T0 + timedelta(hours=14)}
    _, resolved = evaluate_sources(RULES, state, back, T0 + timedelta(hours=14), started_at=T0)
    assert [("resolved", fired[0].alert_id)] == [(e.status, e.alert_id) for e in resolved]


def test_only_firing_source_alerts_make_state() -> None:
    """Resolved source alerts and region alerts leave the leader with nothing to carry on."""
    seen = {"MoD": T0}
    _, fired = evaluate_sources(RULES, None, seen, T0 + timedelta(hours=12), started_at=T0)
    _, resolved = evaluate_sources(
        RULES, state_from_alerts([fired[0].model_dump(mode="json")]), {"MoD": T0 + timedelta(hours=13)},
        T0 + timedelta(hours=13), started_at=T0,
    )
    region_alert = {**fired[0].model_dump(mode="json"), "rule": "threshold"}
    assert state_from_alerts([resolved[0].model_dump(mode="json"), region_alert]) is None
