"""The three stages on plain dict tables: counts per window, dedup across outlets, alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from service import pipeline
from service.aggregate import RegionUpdate
from service.alerting.engine import active_alerts
from service.errors import InputError
from service.metrics import Metrics
from service.models import ExtractionResult, Interception
from service.settings import Settings
from service.watermark import ChannelWatermark
from service.windows import parse_windows

END = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)


def _fresh_runtime() -> Any:
    config = Settings(windows="1h,24h,night", grace_hours=24)
    return SimpleNamespace(
        settings=config, metrics=Metrics(CollectorRegistry()), windows=parse_windows(config.windows), extra={}
    )


@pytest.fixture
def runtime() -> Any:
    """A runtime with fresh metrics and the default windows and rules."""
    return _fresh_runtime()


def result(
    report_id: str,
    counts: dict[str, int],
    *,
    end: datetime = END,
    source: str = "mod",
    read_at: tuple[int, datetime] | None = None,
) -> dict[str, Any]:
    """An extraction result as it travels on the interceptions topic."""
    res = ExtractionResult(
        id=report_id,
        source=source,
        url=f"https://example.org/{report_id}",
        interceptions=[
            Interception(region=f"Region {c}", code=c, count=n, evidence=f"{n} over {c}")
            for c, n in counts.items()
        ],
        weapon="drone",
        reporting_side="RU",
        period_start=end - timedelta(hours=3),
        period_end=end,
        event_time=end - timedelta(microseconds=1),
    )
    res.fingerprint = pipeline.statement_fingerprint(res)
    if read_at is not None:  # stage 1 read it from this reports partition at that stream time
        res.source_partition, res.source_time = read_at
    return res.model_dump(mode="json")


def run(tables: dict[str, dict[str, Any]], runtime: Any, value: dict[str, Any]) -> pipeline.RegionOutcome:
    """Stages 2 and 3 for one extraction result; returns everything published."""
    total = pipeline.RegionOutcome()
    for update in pipeline.merge_result(tables["statements"], value) or []:
        wire = RegionUpdate.from_dict(json.loads(json.dumps(update.to_dict())))
        out = pipeline.apply_region_update(tables["buckets"], tables["alerts"], runtime, wire)
        total.counts += out.counts
        total.alerts += out.alerts
    return total


@pytest.fixture
def tables() -> dict[str, dict[str, Any]]:
    """Empty statement, bucket and alert tables."""
    return {"statements": {}, "buckets": {}, "alerts": {}}


def latest_counts(outcome: pipeline.RegionOutcome) -> dict[tuple[str, str], int]:
    """(window, code) -> last published count."""
    return {(c.count.window, c.count.code): c.count.count for c in outcome.counts}


def test_counts_are_published_for_every_window(tables: dict[str, Any], runtime: Any) -> None:
    """One statement updates the region's 1 h, 24 h and night windows."""
    out = run(tables, runtime, result("a", {"RU-ROS": 8}))
    assert {("1h", "RU-ROS"): 8, ("24h", "RU-ROS"): 8, ("night", "RU-ROS"): 8} == latest_counts(out)


def test_republication_counts_once(tables: dict[str, Any], runtime: Any) -> None:
    """The same statement from a second outlet keeps the count and adds an outlet."""
    run(tables, runtime, result("a", {"RU-ROS": 8}))
    out = run(tables, runtime, result("b", {"RU-ROS": 8}, source="wire"))
    assert 8 == latest_counts(out)[("1h", "RU-ROS")]
    assert 2 == next(c.count.outlets for c in out.counts if c.count.window == "1h")


def test_every_outlets_url_reaches_the_window_count_and_the_alert_evidence(
    tables: dict[str, Any], runtime: Any
) -> None:
    """Corroboration: the URLs of all outlets carrying a statement, not only the first one."""
    first = run(tables, runtime, result("a", {"RU-ROS": 8}, source="mod"))
    second = run(tables, runtime, result("b", {"RU-ROS": 8}, source="wire"))
    urls = ["https://example.org/a", "https://example.org/b"]
    assert urls == next(c.count.urls for c in second.counts if c.count.window == "1h")
    assert urls == next(c.value["urls"] for c in second.counts if c.count.window == "1h")
    fired = [a for a in first.alerts if a.window == "1h" and a.status == "firing"]
    assert [["https://example.org/a"]] == [e.urls for e in fired[0].evidence]
    # the evidence of events after the second outlet (re-notify, resolve) carries both
    closed = run(tables, runtime, result("c", {"RU-KRS": 1}, end=END + timedelta(hours=40), source="x"))
    resolved = [a for a in closed.alerts if (a.code, a.window, a.status) == ("RU-ROS", "1h", "resolved")]
    assert [urls] == [e.urls for e in resolved[0].evidence]


def test_redelivered_report_republishes_the_same_counts_and_fires_nothing(
    tables: dict[str, Any], runtime: Any
) -> None:
    """A report processed twice (crash and replay) changes no count and fires nothing new.

    The counts are published again: after a crash the tables may be ahead of what reached the
    region-counts topic, and a compacted topic takes the repeat as a no-op.
    """
    first = run(tables, runtime, result("a", {"RU-ROS": 8}))
    again = run(tables, runtime, result("a", {"RU-ROS": 8}))
    assert latest_counts(first) == latest_counts(again)
    assert [] == [a for a in again.alerts if a.status == "firing" and a not in first.alerts]


def test_threshold_fires_once(tables: dict[str, Any], runtime: Any) -> None:
    """Crossing the 1 h warning level fires one alert; more reports do not re-fire it."""
    first = run(tables, runtime, result("a", {"RU-ROS": 8}))
    again = run(tables, runtime, result("b", {"RU-ROS": 9}, source="wire"))
    fired = [a for a in first.alerts if a.window == "1h"]
    assert [("firing", "warning")] == [(a.status, a.severity) for a in fired]
    assert "Rostov" in fired[0].summary or "RU-ROS" in fired[0].summary
    assert [] == [a for a in again.alerts if a.window == "1h" and a.status == "firing"]


def test_alert_resolves_when_the_window_closes(tables: dict[str, Any], runtime: Any) -> None:
    """Stream time beyond window end plus grace resolves the alert with ends_at."""
    run(tables, runtime, result("a", {"RU-ROS": 8}))
    out = run(tables, runtime, result("b", {"RU-KRS": 1}, end=END + timedelta(hours=40)))
    resolved = [a for a in out.alerts if a.status == "resolved" and a.code == "RU-ROS"]
    assert {"1h", "night"} <= {a.window for a in resolved}
    assert all(a.ends_at is not None for a in resolved)


def test_late_statement_is_counted_without_alerting_by_default(tables: dict[str, Any], runtime: Any) -> None:
    """Beyond grace, the default policy corrects the closed window's count but raises no alert."""
    run(tables, runtime, result("a", {"RU-ROS": 1}, end=END + timedelta(hours=48)))
    out = run(tables, runtime, result("b", {"RU-BRY": 20}, end=END))
    assert 20 == latest_counts(out)[("1h", "RU-BRY")]
    assert [] == out.alerts
    assert 1.0 <= runtime.metrics.registry.get_sample_value(
        "skytally_late_statements_total", {"window": "1h"}
    )


def test_lateness_is_judged_by_the_reports_partition_the_statement_came_from(
    tables: dict[str, Any], runtime: Any
) -> None:
    """A fast backfill: partition 0 is two days ahead of partition 1 when their figures meet here.

    The statement read on partition 1 is on time there, so it counts and alerts (and, its
    window being behind this partition's closing line already, resolves at once); one read on
    partition 0 for the same old window is late.
    """
    ahead = END + timedelta(hours=48)
    run(tables, runtime, result("a", {"RU-ROS": 1}, end=ahead, read_at=(0, ahead)))
    read_at = (1, END + timedelta(hours=1))
    on_time = run(tables, runtime, result("b", {"RU-BRY": 20}, end=END, read_at=read_at))
    assert 20 == latest_counts(on_time)[("1h", "RU-BRY")]
    bryansk_1h = [a.status for a in on_time.alerts if a.window == "1h" and a.code == "RU-BRY"]
    assert ["firing", "resolved"] == bryansk_1h
    late = run(tables, runtime, result("c", {"RU-KRS": 20}, end=END, read_at=(0, ahead)))
    assert 20 == latest_counts(late)[("1h", "RU-KRS")]
    assert [] == [a for a in late.alerts if a.code == "RU-KRS"]
    assert 1.0 <= runtime.metrics.registry.get_sample_value(
        "skytally_late_statements_total", {"window": "1h"}
    )


def test_a_later_report_of_the_same_partition_arriving_first_does_not_make_an_earlier_one_late(
    tables: dict[str, Any], runtime: Any
) -> None:
    """Stage 1 read the Jan report first; via different statement partitions the Mar one arrives
    first. The Jan statement is not late: it alerts, and its window, long closed here, resolves."""
    march = END + timedelta(days=60)
    run(tables, runtime, result("mar", {"RU-ROS": 1}, end=march, read_at=(0, march)))
    out = run(tables, runtime, result("jan", {"RU-BRY": 20}, end=END, read_at=(0, END)))
    statuses = [a.status for a in out.alerts if a.window == "1h" and a.code == "RU-BRY"]
    assert ["firing", "resolved"] == statuses


def test_alert_resolves_as_soon_as_the_closing_line_passes_the_window_end(
    tables: dict[str, Any], runtime: Any
) -> None:
    """With 24 h grace, the 20:00-21:00 window closes once stream time passes 21:00 next day."""
    run(tables, runtime, result("a", {"RU-ROS": 8}))
    at_end = run(tables, runtime, result("b", {"RU-KRS": 1}, end=END + timedelta(hours=24)))
    assert [] == [a for a in at_end.alerts if a.code == "RU-ROS" and a.window == "1h"]
    after = run(tables, runtime, result("c", {"RU-ORL": 1}, end=END + timedelta(hours=24, minutes=1)))
    assert ["resolved"] == [a.status for a in after.alerts if a.code == "RU-ROS" and a.window == "1h"]


def test_late_statement_is_dropped_with_the_drop_policy(tables: dict[str, Any], runtime: Any) -> None:
    """With SKYTALLY_LATE_POLICY=drop a late statement changes no window, and is still counted as late."""
    runtime.settings = runtime.settings.model_copy(update={"late_policy": "drop"})
    run(tables, runtime, result("a", {"RU-ROS": 1}, end=END + timedelta(hours=48)))
    out = run(tables, runtime, result("b", {"RU-BRY": 5}, end=END))
    assert [] == out.counts
    assert 1.0 <= runtime.metrics.registry.get_sample_value(
        "skytally_late_statements_total", {"window": "1h"}
    )


def test_unreadable_message_raises_input_error() -> None:
    """Stage 1 turns bad bytes into InputError for the dead-letter topic."""
    with pytest.raises(InputError):
        pipeline.read_message(b"\xff\xfe", max_bytes=1024, message_time=END)


def test_stage_one_fills_metadata_and_event_time() -> None:
    """Stage 1 carries source and url through and places the report at its publication time."""
    body = {
        "id": "r1",
        "source": "mod",
        "url": "https://example.org/r1",
        "published_at": "2026-11-20T10:00:00+00:00",
        "text": "Two drones were shot down over the Kursk Region.",
    }
    res = pipeline.read_message(json.dumps(body).encode(), max_bytes=4096, message_time=END)
    assert ("r1", "mod", "https://example.org/r1") == (res.id, res.source, res.url)
    assert res.fingerprint
    assert res.event_time is not None


def test_a_period_ending_after_publication_is_not_trusted_for_placement() -> None:
    """A misread date days ahead of publication would drag its partition's stream time along
    (everything after it would look late): the report is placed at its publication instead."""
    body = {
        "id": "r2",
        "published_at": "2026-11-20T10:00:00+00:00",
        "text": "From 20:00 to 23:00 Moscow time on November 25, air defences shot down three drones "
        "over the Kursk Region.",
    }
    res = pipeline.read_message(json.dumps(body).encode(), max_bytes=4096, message_time=END)
    assert res.period_end is not None and res.period_end.day == 25  # what the text says stays
    assert datetime(2026, 11, 20, 10, 0, tzinfo=UTC) == res.event_time
    assert "period_after_publication" in res.warnings


def test_baseline_rule_fires_on_a_region_far_above_its_usual_day(
    tables: dict[str, Any], runtime: Any
) -> None:
    """After a week of 2 a day, 12 in one day (below the fixed 24 h level) fires the baseline rule."""
    for day in range(9):
        run(tables, runtime, result(f"quiet-{day}", {"RU-LIP": 2}, end=END + timedelta(days=day)))
    out = run(tables, runtime, result("spike", {"RU-LIP": 12}, end=END + timedelta(days=9)))
    fired = {(a.rule, a.window) for a in out.alerts if a.status == "firing"}
    assert ("baseline", "24h") in fired
    assert ("threshold", "24h") not in fired


def test_stage_one_clock_keeps_each_partitions_newest_event_time() -> None:
    """An out-of-order report is stamped with its partition's newest time, not its own."""
    clock = pipeline.SourceClock()
    newer = ExtractionResult(id="n", event_time=END)
    older = ExtractionResult(id="o", event_time=END - timedelta(hours=30))
    other = ExtractionResult(id="x", event_time=END - timedelta(hours=40))
    clock.stamp(newer, 0)
    clock.stamp(older, 0)
    clock.stamp(other, 1)
    assert [(0, END), (0, END), (1, END - timedelta(hours=40))] == [
        (r.source_partition, r.source_time) for r in (newer, older, other)
    ]


def test_state_of_long_closed_windows_is_deleted(tables: dict[str, Any], runtime: Any) -> None:
    """Ten days of statements: only the hours still within grace + retention keep state."""
    runtime.settings = runtime.settings.model_copy(update={"partitions": 1})  # one channel to wait for
    for day in range(10):
        end = END + timedelta(days=day)
        run(tables, runtime, result(f"d{day}", {"RU-ROS": 1, "RU-KRS": 2}, end=end, read_at=(0, end)))
    hours = sorted(k.split("|")[1] for k in tables["buckets"] if not k.startswith("~"))
    newest = END + timedelta(days=9)
    horizon = newest - timedelta(hours=24 + 72 + 24)  # grace + retention + longest window
    assert hours, "the recent hours are kept"
    assert all(datetime.fromisoformat(h) >= horizon - timedelta(hours=1) for h in hours)
    assert len(set(hours)) <= 6  # one hour per recent day
    assert all(
        datetime.fromisoformat(v["window_end"]) >= horizon - timedelta(hours=24)
        for k, v in tables["alerts"].items()
        if not k.startswith("~")
    )


def test_nothing_is_deleted_before_every_channel_was_heard(tables: dict[str, Any], runtime: Any) -> None:
    """With four partitions, one fast channel alone cannot push the deletion line (a backfill's start)."""
    for day in range(10):
        end = END + timedelta(days=day)
        run(tables, runtime, result(f"d{day}", {"RU-ROS": 1}, end=end, read_at=(0, end)))
    assert 10 == len([k for k in tables["buckets"] if k.startswith("RU-ROS|")])


def test_statement_for_deleted_hours_is_dropped_and_counted(tables: dict[str, Any], runtime: Any) -> None:
    """Beyond grace and retention the windows are gone: the statement is dropped, not miscounted."""
    runtime.settings = runtime.settings.model_copy(update={"partitions": 1})
    newest = END + timedelta(days=10)
    run(tables, runtime, result("new", {"RU-ROS": 1}, end=newest, read_at=(0, newest)))
    out = run(tables, runtime, result("old", {"RU-BRY": 7}, end=END, read_at=(0, newest)))
    assert ([], []) == (out.counts, out.alerts)
    assert 1.0 == runtime.metrics.registry.get_sample_value(
        "skytally_late_statements_total", {"window": "expired"}
    )


def test_statement_state_is_deleted_once_its_hours_expire(runtime: Any) -> None:
    """Stage 2 keeps statements only within grace + retention + the longest window."""
    statements: dict[str, Any] = {}
    keep = pipeline.keep_for(runtime)
    watermark = ChannelWatermark()
    for day in range(10):
        end = END + timedelta(days=day)
        value = result(f"d{day}", {"RU-ROS": 1}, end=end, read_at=(0, end))
        assert pipeline.merge_result(statements, value, 0, keep, watermark, partitions=1)
    kept = [k for k in statements if not k.startswith("~")]
    assert 6 >= len(kept)  # the last five days (120 h) and the current one
    old = result("late", {"RU-BRY": 7}, end=END, read_at=(0, END + timedelta(days=9)))
    assert [] == pipeline.merge_result(statements, old, 0, keep, watermark, partitions=1)


def test_a_tick_closes_the_windows_of_a_quiet_partition(tables: dict[str, Any], runtime: Any) -> None:
    """Rostov's partition hears nothing more; the newest stream time from elsewhere resolves its alert."""
    fired = run(tables, runtime, result("a", {"RU-ROS": 8}))
    assert [a for a in fired.alerts if a.status == "firing"]
    elsewhere = {"buckets": {}, "alerts": {}, "statements": {}}
    run(elsewhere, runtime, result("b", {"RU-KRS": 1}, end=END + timedelta(days=3)))
    newest = pipeline.newest_stream_time(elsewhere["buckets"], 4)
    assert newest is not None
    out = pipeline.apply_tick(tables["buckets"], tables["alerts"], runtime, newest, 0)
    assert {"1h", "24h", "night"} >= {a.window for a in out.alerts if a.status == "resolved"} != set()
    again = pipeline.apply_tick(tables["buckets"], tables["alerts"], runtime, newest, 0)
    assert [] == again.alerts  # ticks are idempotent


def test_a_redelivery_into_a_partly_deleted_window_publishes_nothing(
    tables: dict[str, Any], runtime: Any
) -> None:
    """The day's first hours are gone: re-counting the 24 h window from what is left would undercount."""
    runtime.settings = runtime.settings.model_copy(update={"partitions": 1})
    day = datetime(2026, 11, 20, tzinfo=UTC)
    early, late = day + timedelta(hours=2), day + timedelta(hours=23)
    run(tables, runtime, result("early", {"RU-ROS": 5}, end=early, read_at=(0, early)))
    kept = result("late", {"RU-ROS": 3}, end=late, read_at=(0, late))
    run(tables, runtime, kept)
    # the stream moves on until the early hour is deleted but the late one is not yet
    cut = day + timedelta(hours=2) + pipeline.keep_for(runtime)
    run(tables, runtime, result("now", {"RU-KRS": 1}, end=cut, read_at=(0, cut)))
    assert f"RU-ROS|{(early - timedelta(hours=1)).isoformat()}" not in tables["buckets"]
    again = run(tables, runtime, kept)  # a redelivery of the late report
    assert [] == [c for c in again.counts if c.count.window == "24h"]


def _alert_history(
    runtime: Any, steps: list[tuple[int, str, int]], *, scan_always: bool
) -> list[list[tuple[str, str, str]]]:
    """Per step, the (alert id, status, window) of the alert events a statement or tick raises."""
    tables = {"statements": {}, "buckets": {}, "alerts": {}}
    events: list[list[tuple[str, str, str]]] = []
    for i, (hours, code, count) in enumerate(steps):
        if scan_always:
            runtime.extra.pop("closing_scanned", None)
        end = END + timedelta(hours=hours)
        if count == 0:  # a tick from another partition
            out = pipeline.apply_tick(tables["buckets"], tables["alerts"], runtime, end, 0)
        else:
            out = run(tables, runtime, result(f"r{i}", {code: count}, end=end, source=f"s{i}"))
        events.append(sorted((a.alert_id, a.status, a.window) for a in out.alerts))
    return events


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 80), st.sampled_from(["RU-ROS", "RU-KRS", "RU-BEL"]), st.integers(0, 30)),
        min_size=1,
        max_size=25,
    )
)
def test_the_closing_index_resolves_exactly_what_a_full_scan_would(steps: list[tuple[int, str, int]]) -> None:
    """Alerts close through the per-hour closing index; a full scan at each crossing gives the same."""
    indexed = _alert_history(_fresh_runtime(), steps, scan_always=False)
    scanned = _alert_history(_fresh_runtime(), steps, scan_always=True)
    assert scanned == indexed


def test_an_alert_stored_after_its_closing_line_resolves_at_once(
    tables: dict[str, Any], runtime: Any
) -> None:
    """A statement whose window the partition had already closed (not late by its own reports
    partition, so counted and evaluated) fires and resolves in the same step: the window is
    closed, and the stream time may never move again (a quiet feed, the demo's last report),
    so waiting for the next closing would leave the alert firing for good."""
    run(tables, runtime, result("a", {"RU-KRS": 1}, end=END + timedelta(hours=30), read_at=(0, END)))
    fired = run(tables, runtime, result("b", {"RU-ROS": 8}, end=END, read_at=(1, END)))
    rostov_1h = [a.status for a in fired.alerts if a.code == "RU-ROS" and a.window == "1h"]
    assert rostov_1h == ["firing", "resolved"]
    newest = pipeline.newest_stream_time(tables["buckets"], 4)
    assert newest is not None
    again = pipeline.apply_tick(tables["buckets"], tables["alerts"], runtime, newest, 0)
    later = pipeline.apply_tick(tables["buckets"], tables["alerts"], runtime, END + timedelta(hours=32), 0)
    assert [] == [a for a in again.alerts + later.alerts if a.code == "RU-ROS" and a.window == "1h"]
    states = {k: v for k, v in tables["alerts"].items() if not k.startswith("~")}
    rostov_1h_states = [v for v in states.values() if (v["code"], v["window"]) == ("RU-ROS", "1h")]
    assert rostov_1h_states  # the state is kept (the window's count may still be corrected)
    still_active = [v for v in rostov_1h_states if active_alerts(v["engine"])]
    assert [] == still_active  # the /api/alerts view and the active-alerts gauge read these


def test_a_closed_windows_alert_does_not_fire_again(tables: dict[str, Any], runtime: Any) -> None:
    """Once a window closed with its alert resolved, more statements for it (not late on their
    own reports partition) correct its count but raise no new alert: each alert fires once."""
    run(tables, runtime, result("a", {"RU-KRS": 1}, end=END + timedelta(hours=30), read_at=(0, END)))
    first = run(tables, runtime, result("b", {"RU-ROS": 8}, end=END, read_at=(1, END)))
    rostov_1h = [e.status for e in first.alerts if (e.code, e.window) == ("RU-ROS", "1h")]
    assert ["firing", "resolved"] == rostov_1h
    # another outlet's figure for the same statement: merged to the larger count, 30
    more = run(tables, runtime, result("c", {"RU-ROS": 30}, end=END, read_at=(2, END), source="other"))
    assert 30 == latest_counts(more)[("1h", "RU-ROS")]
    assert [] == [a for a in more.alerts if (a.code, a.window) == ("RU-ROS", "1h")]


def test_an_open_window_alert_still_waits_for_its_window_to_close(
    tables: dict[str, Any], runtime: Any
) -> None:
    """Only windows behind the closing line resolve at once: an alert of an open window stays firing."""
    fired = run(tables, runtime, result("b", {"RU-ROS": 8}, end=END, read_at=(1, END)))
    assert [a.status for a in fired.alerts if a.code == "RU-ROS" and a.window == "1h"] == ["firing"]


def test_uncommitted_statements_keep_their_state_for_a_redelivery(runtime: Any) -> None:
    """Ten days of statements in one commit interval: nothing a redelivery needs is deleted.

    A crash before the commit brings the first statements again; they must be re-sent (their
    figures may have died with the crashed worker), not dropped as expired.
    """
    statements: dict[str, Any] = {}
    keep = pipeline.keep_for(runtime)
    watermark = ChannelWatermark()
    values = [
        result(
            f"d{day}", {"RU-ROS": 1}, end=END + timedelta(days=day), read_at=(0, END + timedelta(days=day))
        )
        for day in range(10)
    ]
    for offset, value in enumerate(values):
        assert pipeline.merge_result(statements, value, 0, keep, watermark, 1, offset=offset, committed=None)
    again = pipeline.merge_result(statements, values[0], 0, keep, watermark, 1, offset=0, committed=None)
    assert again and [("RU-ROS", 1)] == [(u.code, u.count) for u in again]
    # Once offsets are committed past them, the old hours go like any others.
    late = result("next", {"RU-KRS": 2}, end=END + timedelta(days=10), read_at=(0, END + timedelta(days=10)))
    assert pipeline.merge_result(statements, late, 0, keep, watermark, 1, offset=10, committed=10)
    assert 7 >= len([k for k in statements if not k.startswith("~")])
    assert 1 == watermark.holding(0)


def test_uncommitted_region_updates_keep_their_windows_for_a_redelivery(
    tables: dict[str, Any], runtime: Any
) -> None:
    """Stage 3 alike: a redelivered update inside the commit interval republishes its counts."""
    runtime.settings = runtime.settings.model_copy(update={"partitions": 1})
    updates = []
    for day in range(10):
        end = END + timedelta(days=day)
        for update in (
            pipeline.merge_result(
                tables["statements"], result(f"d{day}", {"RU-ROS": 3}, end=end, read_at=(0, end))
            )
            or []
        ):
            updates.append(RegionUpdate.from_dict(json.loads(json.dumps(update.to_dict()))))
    for offset, update in enumerate(updates):
        pipeline.apply_region_update(tables["buckets"], tables["alerts"], runtime, update, 0, offset, None)
    again = pipeline.apply_region_update(tables["buckets"], tables["alerts"], runtime, updates[0], 0, 0, None)
    assert not again.late
    assert {"1h": 3, "24h": 3} == {
        c.count.window: c.count.count for c in again.counts if c.count.window != "night"
    }


def _rolling_runtime() -> Any:
    config = Settings(windows="1h,24h/1h", grace_hours=24)
    return SimpleNamespace(
        settings=config, metrics=Metrics(CollectorRegistry()), windows=parse_windows(config.windows), extra={}
    )


def test_a_burst_fires_one_rolling_alert_not_one_per_hopping_window(tables: dict[str, Any]) -> None:
    """20 over Rostov in one hour is inside 24 overlapping 24 h windows: one alert, kept while
    the rolling count stays up, resolved once the hour has left the last 24 hours."""
    runtime = _rolling_runtime()
    out = run(tables, runtime, result("a", {"RU-ROS": 20}, end=END))
    rolling = [a for a in out.alerts if a.window == "24h/1h"]
    assert [("firing", 20)] == [(a.status, a.count) for a in rolling]
    assert rolling[0].window_end - rolling[0].window_start == timedelta(hours=24)
    assert rolling[0].window_start <= END - timedelta(microseconds=1) < rolling[0].window_end
    assert 24 == len({c.key for c in out.counts if c.count.window == "24h/1h"})  # counts: every window
    # Ten hours later, more in the region: the rolling count rises, the alert is the same one.
    later = run(tables, runtime, result("b", {"RU-ROS": 30}, end=END + timedelta(hours=10)))
    again = [a for a in later.alerts if a.window == "24h/1h"]
    assert [("escalated", 50, rolling[0].alert_id)] == [(a.status, a.count, a.alert_id) for a in again]
    # A day after the first burst only the second is left (30, still above resolve); a day
    # after the second nothing is: resolved, once.
    events = []
    for hours in range(11, 40):
        tick = pipeline.apply_tick(
            tables["buckets"], tables["alerts"], runtime, END + timedelta(hours=hours), 0
        )
        events += [(a.status, a.count) for a in tick.alerts if a.window == "24h/1h"]
    assert [("resolved", 0)] == events


def test_a_new_burst_after_resolution_is_a_new_rolling_alert(tables: dict[str, Any]) -> None:
    runtime = _rolling_runtime()
    first = run(tables, runtime, result("a", {"RU-VOR": 20}, end=END))
    pipeline.apply_tick(tables["buckets"], tables["alerts"], runtime, END + timedelta(hours=30), 0)
    second = run(tables, runtime, result("b", {"RU-VOR": 20}, end=END + timedelta(hours=31)))
    ids = [
        a.alert_id
        for out in (first, second)
        for a in out.alerts
        if a.window == "24h/1h" and a.status == "firing"
    ]
    assert 2 == len(set(ids))


def test_a_statement_older_than_the_rolling_window_does_not_touch_its_alert(tables: dict[str, Any]) -> None:
    """A late statement (within grace) from before the last 24 hours corrects past windows' counts
    but not the rolling count as of now: no rolling alert fires for it."""
    runtime = _rolling_runtime()
    run(tables, runtime, result("now", {"RU-BRY": 1}, end=END + timedelta(hours=30)))
    late = run(tables, runtime, result("old", {"RU-BRY": 40}, end=END + timedelta(hours=2)))
    assert [] == [a for a in late.alerts if a.window == "24h/1h"]
    assert any(c.count.count == 40 for c in late.counts if c.count.window == "24h/1h")


@settings(max_examples=60, deadline=None)
@given(
    windows=st.sampled_from(["1h,24h,night", "1h,24h/1h", "3h/1h,night,24h"]),
    first=st.integers(0, 200),
    span=st.integers(1, 60),
)
def test_expire_drops_exactly_the_states_of_windows_ending_in_the_range(
    windows: str, first: int, span: int
) -> None:
    """Buckets of hours in [old, new) and alert states of windows over them ending by ``new``."""
    config = Settings(windows=windows, grace_hours=24)
    rt = SimpleNamespace(settings=config, windows=parse_windows(config.windows))
    base = datetime(2026, 3, 1, tzinfo=UTC)
    hours = [base + timedelta(hours=h) for h in range(300)]
    codes = ["RU-KRS", "RU-BEL"]
    buckets: dict[str, Any] = {pipeline.codes_key(0): codes}
    alerts: dict[str, Any] = {}
    for code in codes:
        for hour in hours:
            buckets[f"{code}|{hour.isoformat()}"] = {}
            for spec in rt.windows:
                for start, _ in spec.containing(hour):
                    alerts[f"{spec.name}|{start.isoformat()}|{code}"] = {}
    old, new = hours[first], hours[first] + timedelta(hours=span)
    doomed_alerts = {
        f"{spec.name}|{start.isoformat()}|{code}"
        for code in codes
        for hour in hours
        if old <= hour < new
        for spec in rt.windows
        for start, end in spec.containing(hour)
        if end <= new
    }
    kept_buckets = {
        k for k in buckets if k.startswith("~") or not old <= datetime.fromisoformat(k.split("|")[1]) < new
    }
    kept_alerts = set(alerts) - doomed_alerts
    pipeline.expire(buckets, alerts, rt, 0, old, new)
    assert kept_buckets == set(buckets)
    assert kept_alerts == set(alerts)


def _channel_update(fp: str, count: int, event_time: datetime, source: int, source_time: datetime) -> Any:
    return RegionUpdate(
        fingerprint=fp, code="RU-ROS", region="Rostov Oblast", count=count,
        event_time=event_time.isoformat(), report_id=fp, source="mod", url=None, claimed_total=None,
        evidence=f"{count} over Rostov", confidence=0.9, outlets=1,
        source_time=source_time.isoformat(), source_partition=source, via_partition=0,
    )


def test_windows_close_behind_the_slowest_channel_and_fire_once() -> None:
    """A backlog: one reports partition is days of event time ahead of the other.

    The 1 h window of the slow channel's statement must stay open (its alert firing) while
    the slow channel is still behind it, however far the fast one has run; a second statement
    for it from the slow channel then raises the count without a second 'firing'. Once the
    slow channel passes the window's end plus grace, the alert resolves, once.
    """
    config = Settings(windows="1h", grace_hours=2, partitions=2)  # 2 reports x 2 statement partitions
    rt = SimpleNamespace(
        settings=config, metrics=Metrics(CollectorRegistry()), windows=parse_windows("1h"), extra={}
    )
    buckets: dict[str, Any] = {}
    alerts: dict[str, Any] = {}
    t0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    events: list[Any] = []
    offset = 0

    def apply(update: Any) -> None:
        nonlocal offset
        out = pipeline.apply_region_update(buckets, alerts, rt, update, 0, offset, offset + 1)
        offset += 1
        events.extend(out.alerts)

    # every channel heard from (via 0 and 1 from both sources), the slow one at 10:xx
    for via in (0, 1):
        for source in (0, 1):
            u = _channel_update(f"seed-{via}-{source}", 0, t0, source, t0)
            apply(RegionUpdate(**{**u.to_dict(), "via_partition": via, "urls": ()}))
    apply(_channel_update("slow-1", 6, t0 + timedelta(minutes=30), 1, t0 + timedelta(minutes=30)))
    # the fast channel runs three days ahead
    for h in range(1, 72):
        at = t0 + timedelta(hours=h)
        apply(_channel_update(f"fast-{h}", 1, at + timedelta(minutes=30), 0, at))
    window = "threshold|1h|2026-03-01T10:00:00+00:00|RU-ROS"
    assert [("firing", 6)] == [(e.status, e.count) for e in events if e.alert_id == window]
    # the slow channel's second statement for the same hour: counted, no second firing
    apply(_channel_update("slow-2", 3, t0 + timedelta(minutes=40), 1, t0 + timedelta(minutes=40)))
    assert [("firing", 6)] == [(e.status, e.count) for e in events if e.alert_id == window]
    # every channel catches up: the window closes, its alert resolves once with the full count
    later = t0 + timedelta(hours=72)
    for via in (0, 1):
        for source in (0, 1):
            u = _channel_update(f"late-{via}-{source}", 1, later, source, later)
            apply(RegionUpdate(**{**u.to_dict(), "via_partition": via, "urls": ()}))
    assert [("firing", 6), ("resolved", 9)] == [(e.status, e.count) for e in events if e.alert_id == window]
