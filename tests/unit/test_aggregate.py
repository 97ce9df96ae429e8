"""One count per statement: republication, redelivery and arrival order never inflate counts."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from service.aggregate import (
    RegionUpdate,
    bucket_count,
    merge_bucket,
    merge_statement,
    statement_fingerprint,
)
from service.models import ExtractionResult, Interception

T = datetime(2026, 11, 20, 20, 59, tzinfo=UTC)


def result(
    report_id: str, counts: dict[str, int], *, source: str = "mod", total: int | None = None
) -> ExtractionResult:
    """An extraction result with the given region counts."""
    return ExtractionResult(
        id=report_id,
        source=source,
        url=f"https://example.org/{report_id}",
        interceptions=[Interception(region=f"Region {c}", code=c, count=n) for c, n in counts.items()],
        claimed_total=total,
        weapon="drone",
        reporting_side="RU",
        period_end=T,
        published_at=T,
    )


def test_fingerprint_ignores_outlet_and_wording() -> None:
    """Two outlets carrying the same statement share its fingerprint."""
    a = result("a", {"RU-BEL": 9, "RU-KRS": 5}, source="mod", total=14)
    b = result("b", {"RU-KRS": 5, "RU-BEL": 9}, source="wire", total=14)
    assert statement_fingerprint(a) == statement_fingerprint(b)


def test_fingerprint_differs_for_another_period() -> None:
    """The same figures for another period are another statement."""
    a = result("a", {"RU-BEL": 9})
    b = result("b", {"RU-BEL": 9}).model_copy(update={"period_end": datetime(2026, 11, 21, tzinfo=UTC)})
    assert statement_fingerprint(a) != statement_fingerprint(b)


def test_republication_adds_corroboration_not_count() -> None:
    """A second outlet raises the outlet count but not the region figure."""
    state, first = merge_statement(None, result("a", {"RU-BEL": 9}), T)
    state, second = merge_statement(state, result("b", {"RU-BEL": 9}, source="wire"), T)
    assert [9] == [u.count for u in second]
    assert [1, 2] == [first[0].outlets, second[0].outlets]


def test_redelivery_changes_nothing_but_sends_the_figures_again() -> None:
    """A report merged twice leaves the statement as it was and re-sends the same figures.

    After a crash the table may have been saved while the updates were lost: re-sending them
    is what lets the region stage catch up; it ignores them when it already has them.
    """
    state, first = merge_statement(None, result("a", {"RU-BEL": 9}), T)
    again, updates = merge_statement(state, result("a", {"RU-BEL": 9}), T)
    assert first == updates
    assert state == again


def test_more_detail_raises_to_the_maximum() -> None:
    """A later report with a higher figure raises the region to the maximum, never the sum."""
    state, _ = merge_statement(None, result("a", {"RU-BEL": 7}), T)
    _, updates = merge_statement(state, result("b", {"RU-BEL": 9}), T)
    assert [9] == [u.count for u in updates]


def update(fp: str, count: int, outlets: int = 1) -> RegionUpdate:
    """A region update of statement ``fp``."""
    return RegionUpdate(
        fingerprint=fp,
        code="RU-BEL",
        region="Belgorod Oblast",
        count=count,
        event_time=T.isoformat(),
        report_id=fp,
        source=None,
        url=None,
        claimed_total=None,
        evidence="",
        confidence=1.0,
        outlets=outlets,
    )


def test_bucket_sums_distinct_statements() -> None:
    """Different statements in one hour add up; the same statement counts once."""
    state, _ = merge_bucket(None, update("s1", 4))
    state, _ = merge_bucket(state, update("s2", 3))
    state, changed = merge_bucket(state, update("s1", 4))
    assert 7 == bucket_count(state)
    assert changed is False


updates = st.lists(
    st.tuples(st.sampled_from(["s1", "s2", "s3"]), st.integers(0, 50), st.integers(1, 5)),
    max_size=30,
)


@given(updates, st.randoms())
def test_arrival_order_and_duplicates_do_not_change_the_count(items, rnd) -> None:  # type: ignore[no-untyped-def]
    """Any order, with any duplicates, gives the sum of each statement's maximum."""
    expected = {}
    for fp, count, _ in items:
        expected[fp] = max(expected.get(fp, 0), count)
    shuffled = list(items) + list(items)
    rnd.shuffle(shuffled)
    state = None
    for fp, count, outlets in shuffled:
        state, _ = merge_bucket(state, update(fp, count, outlets))
    assert sum(expected.values()) == bucket_count(state)
