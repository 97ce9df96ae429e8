"""A source that corrects its own figures for a period: the newest version counts, never the sum."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from service import pipeline
from service.aggregate import RegionUpdate, bucket_count, merge_bucket, settle_revisions
from service.metrics import Metrics
from service.models import ExtractionResult, Interception
from service.settings import Settings
from service.windows import parse_windows

END = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 07:00 Moscow time


def report(
    report_id: str,
    counts: dict[str, int],
    *,
    source: str = "ministry",
    minutes_after: int = 10,
    end: datetime = END,
) -> dict[str, Any]:
    """One outlet's report of a statement for the night ending at ``end``."""
    res = ExtractionResult(
        id=report_id,
        source=source,
        interceptions=[Interception(region=f"Region {c}", code=c, count=n) for c, n in counts.items()],
        claimed_total=sum(counts.values()),
        weapon="drone",
        reporting_side="RU",
        period_start=end - timedelta(hours=8),
        period_end=end,
        published_at=end + timedelta(minutes=minutes_after),
        event_time=end - timedelta(microseconds=1),
    )
    res.fingerprint = pipeline.statement_fingerprint(res)
    return res.model_dump(mode="json")


class Stream:
    """Stages 2 and 3 on dict tables; ``published`` is what the region-counts topic ends with."""

    def __init__(self) -> None:
        s = Settings(windows="1h", grace_hours=24)
        self.runtime = SimpleNamespace(
            settings=s, metrics=Metrics(CollectorRegistry()), windows=parse_windows(s.windows), extra={}
        )
        self.statements: dict[str, Any] = {}
        self.buckets: dict[str, Any] = {}
        self.alerts: dict[str, Any] = {}
        self.published: dict[str, int] = {}

    def feed(self, *values: dict[str, Any]) -> Stream:
        """Process the reports in this order."""
        for value in values:
            for update in pipeline.merge_result(self.statements, value) or []:
                wire = RegionUpdate.from_dict(json.loads(json.dumps(update.to_dict())))
                out = pipeline.apply_region_update(self.buckets, self.alerts, self.runtime, wire)
                for c in out.counts:
                    self.published[c.count.code] = c.count.count
        return self

    @property
    def counts(self) -> dict[str, int]:
        """Final count per region, as the API shows it (a withdrawn region's 0 is not a row)."""
        return {code: n for code, n in self.published.items() if n}


def test_a_correction_replaces_the_first_figures() -> None:
    """The ministry says 25 (12 over Belgorod), then corrects to 22 (9 over Belgorod): 22 count."""
    first = report("m1", {"RU-BEL": 12, "RU-KRS": 13}, minutes_after=5)
    fixed = report("m2", {"RU-BEL": 9, "RU-KRS": 13}, minutes_after=40)
    assert {"RU-BEL": 9, "RU-KRS": 13} == Stream().feed(first, fixed).counts


def test_a_correction_that_arrives_first_still_wins() -> None:
    """Delivered out of order, the older version never counts."""
    first = report("m1", {"RU-BEL": 12}, minutes_after=5)
    fixed = report("m2", {"RU-BEL": 9}, minutes_after=40)
    assert {"RU-BEL": 9} == Stream().feed(fixed, first).counts


def test_copies_of_the_withdrawn_figure_do_not_count_again() -> None:
    """A later republication of the superseded figure (a stale copy) changes nothing."""
    stream = Stream().feed(
        report("m1", {"RU-BEL": 12}, minutes_after=5), report("m2", {"RU-BEL": 9}, minutes_after=40)
    )
    stale_copy = report("m1", {"RU-BEL": 12}, minutes_after=5) | {"id": "m1-copy"}
    assert {"RU-BEL": 9} == stream.feed(stale_copy).counts


def test_another_outlet_with_other_figures_is_not_a_revision() -> None:
    """Revisions are a source's own: another outlet's different figures are another statement."""
    ministry = report("m1", {"RU-BEL": 12}, minutes_after=5)
    governor = report("g1", {"RU-BEL": 3}, source="governor", minutes_after=40)
    assert {"RU-BEL": 15} == Stream().feed(ministry, governor).counts


def test_same_source_same_period_disjoint_regions_are_two_statements() -> None:
    """Figures for other regions in the same period add up: nothing was corrected."""
    west = report("m1", {"RU-BEL": 4}, minutes_after=5)
    south = report("m2", {"RU-ROS": 6}, minutes_after=40)
    assert {"RU-BEL": 4, "RU-ROS": 6} == Stream().feed(west, south).counts


def test_redelivery_after_a_correction_changes_nothing() -> None:
    """At-least-once: replaying both versions again leaves the corrected count."""
    first = report("m1", {"RU-BEL": 12}, minutes_after=5)
    fixed = report("m2", {"RU-BEL": 9}, minutes_after=40)
    assert {"RU-BEL": 9} == Stream().feed(first, fixed, first, fixed, first).counts


def test_bucket_replaces_a_figure_from_a_newer_generation() -> None:
    """Within a generation figures max-merge; a newer generation (withdrawal) replaces them."""
    base = RegionUpdate(
        fingerprint="s1", code="RU-BEL", region="Belgorod Oblast", count=7, event_time=END.isoformat(),
        report_id="r", source=None, url=None, claimed_total=None, evidence="", confidence=1.0, outlets=1,
    )
    state, _ = merge_bucket(None, base)
    withdrawn = RegionUpdate(**{**base.to_dict(), "count": 0, "generation": 1, "retract": True})
    state, changed = merge_bucket(state, withdrawn)
    assert (True, 0) == (changed, bucket_count(state))
    state, changed = merge_bucket(state, base)  # a stale update of generation 0
    assert (False, 0) == (changed, bucket_count(state))


versions = st.lists(
    st.tuples(
        st.integers(0, 50),  # minutes after the period's end
        st.dictionaries(st.sampled_from(["RU-BEL", "RU-KRS", "RU-ROS"]), st.integers(1, 20), min_size=1),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=60, deadline=None)
@given(versions, st.randoms(use_true_random=False))
def test_any_arrival_order_ends_with_the_same_counts(items: list[Any], rnd: Any) -> None:
    """Whatever order a source's versions arrive in (with redeliveries), the final counts agree."""
    reports = [report(f"v{i}", counts, minutes_after=m) for i, (m, counts) in enumerate(items)]
    expected = Stream().feed(*reports).counts
    shuffled = reports + reports[: len(reports) // 2]
    rnd.shuffle(shuffled)
    assert expected == Stream().feed(*shuffled).counts


def test_newest_version_sharing_a_region_replaces_older_ones() -> None:
    """The slot bookkeeping: which versions lose and win as versions arrive."""
    slot, lost, won = settle_revisions(None, "a", ["2026-11-20T04:05:00+00:00", "a"], ["RU-BEL"])
    assert ({}, set()) == (lost, won)
    slot, lost, won = settle_revisions(slot, "b", ["2026-11-20T04:40:00+00:00", "b"], ["RU-BEL", "RU-KRS"])
    assert ({"a": "b"}, set()) == (lost, won)
    slot, lost, won = settle_revisions(slot, "c", ["2026-11-20T04:20:00+00:00", "c"], ["RU-KRS"])
    assert ({}, set()) == (lost, won)  # older than b, which shares RU-KRS: c is outdated on arrival


def test_a_correction_whose_updates_died_with_the_worker_is_completed_on_redelivery() -> None:
    """Crash after the statement table was saved but before the updates left: the replay sends them."""
    stream = Stream().feed(report("m1", {"RU-BEL": 12}, minutes_after=5))
    fixed = report("m2", {"RU-BEL": 9}, minutes_after=40)
    lost = pipeline.merge_result(stream.statements, fixed)  # saved; its updates never sent
    assert lost
    assert {"RU-BEL": 12} == stream.counts
    assert {"RU-BEL": 9} == stream.feed(fixed).counts
