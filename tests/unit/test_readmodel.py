"""The API views built from the output topics: latest value per key, open windows, active alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from service.readmodel import AlertsView, RegionCountsView

GRACE = timedelta(hours=24)


def count(window: str, start: str, end: str, code: str, n: int) -> dict[str, Any]:
    """A region-counts record."""
    return {
        "window": window,
        "window_start": start,
        "window_end": end,
        "region": f"Region {code}",
        "code": code,
        "count": n,
        "statements": 1,
        "outlets": 1,
        "updated_at": end,
    }


def test_latest_value_per_key_wins() -> None:
    """A later record for the same window and region replaces the earlier one."""
    view = RegionCountsView()
    view.apply(count("1h", "2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", "RU-BEL", 4))
    view.apply(count("1h", "2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", "RU-BEL", 9))
    rows = view.render(set(), GRACE)["windows"]["1h"]
    assert [("RU-BEL", 9)] == [(r["code"], r["count"]) for r in rows]


def test_closed_windows_are_hidden_unless_asked() -> None:
    """Windows older than the grace period behind the newest window are left out by default."""
    view = RegionCountsView()
    view.apply(count("1h", "2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", "RU-BEL", 4))
    view.apply(count("1h", "2026-01-03T10:00:00Z", "2026-01-03T11:00:00Z", "RU-KRS", 2))
    assert ["RU-KRS"] == [r["code"] for r in view.render(set(), GRACE)["windows"]["1h"]]
    assert {"RU-BEL", "RU-KRS"} == {r["code"] for r in view.render(set(), GRACE, True)["windows"]["1h"]}


def test_hopping_window_shows_each_regions_latest() -> None:
    """For a rolling window only each region's newest window is shown."""
    view = RegionCountsView()
    view.apply(count("24h/1h", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "RU-BEL", 4))
    view.apply(count("24h/1h", "2026-01-01T01:00:00Z", "2026-01-02T01:00:00Z", "RU-BEL", 6))
    rows = view.render({"24h/1h"}, GRACE)["windows"]["24h/1h"]
    assert [6] == [r["count"] for r in rows]


def alert(alert_id: str, status: str, severity: str = "warning", n: int = 8) -> dict[str, Any]:
    """An alert event."""
    return {"alert_id": alert_id, "status": status, "severity": severity, "count": n}


def test_active_alerts_follow_the_latest_event() -> None:
    """Resolved alerts leave the active list; critical ones sort first."""
    view = AlertsView()
    view.apply(alert("a", "firing"))
    view.apply(alert("b", "firing"))
    view.apply(alert("b", "escalated", "critical", 20))
    view.apply(alert("a", "resolved"))
    assert [("b", "critical")] == [(a["alert_id"], a["severity"]) for a in view.active()]
    assert 4 == len(view.recent)


def test_the_api_forgets_windows_older_than_its_history() -> None:
    """A worker running for months keeps the last ``history`` of windows, not all of them."""
    view = RegionCountsView(history=timedelta(days=30))
    view.PRUNE_EVERY = 1
    view.apply(count("1h", "2026-01-01T00:00:00+00:00", "2026-01-01T01:00:00+00:00", "RU-ROS", 3))
    view.apply(count("1h", "2026-01-20T00:00:00+00:00", "2026-01-20T01:00:00+00:00", "RU-ROS", 4))
    kept = view.render(set(), GRACE, include_closed=True)["windows"]["1h"]
    assert [3, 4] == sorted(r["count"] for r in kept)
    view.apply(count("1h", "2026-02-15T00:00:00+00:00", "2026-02-15T01:00:00+00:00", "RU-KRS", 5))
    kept = view.render(set(), GRACE, include_closed=True)["windows"]["1h"]
    assert [("RU-KRS", 5), ("RU-ROS", 4)] == sorted((r["code"], r["count"]) for r in kept)


def test_resolved_alerts_are_not_kept_beyond_the_recent_list() -> None:
    """Only active alerts stay in the per-id map; the recent list is bounded."""
    view = AlertsView(keep_recent=3)
    for i in range(10):
        view.apply(alert(f"a{i}", "firing"))
        view.apply(alert(f"a{i}", "resolved"))
    assert ({}, 3) == (view.latest, len(view.recent))


def test_reports_per_minute_counts_the_last_sixty_seconds_in_fixed_memory() -> None:
    """The dashboard's rate: older seconds drop out, the ring never grows."""
    from service.metrics import PerSecond

    rate = PerSecond()
    for i in range(600):  # a minute at 10 reports/s
        rate.add(1000.0 + i / 10)
    assert 600 == rate.last_minute(1059.95)
    assert 10 * 30 == rate.last_minute(1089.95)
    assert 60 == len(rate._slots)
