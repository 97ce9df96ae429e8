"""Batched stages (service.batching): a batch run through an Overlay ends exactly where the
same messages one at a time would, with each changed key written once.

What a user would notice if this broke: counts or alert states differ from an unbatched
run, or the changelog carries a record per assignment again (the throughput it buys).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from service import pipeline
from service.aggregate import RegionUpdate
from service.batching import Coalesced, Overlay, group_by_partition
from service.metrics import Metrics
from service.partitioner import CachedPartitioner
from service.settings import Settings
from service.synthetic import generate
from service.watermark import ChannelWatermark
from service.windows import parse_windows


class CountingTable(dict[str, Any]):
    """A dict that counts reads, assignments and deletions (what faust would changelog)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.writes: Counter[str] = Counter()
        self.reads = 0

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.reads += 1
        return super().get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes[key] += 1
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.writes[key] += 1
        super().__delitem__(key)


class ScopedTable(MutableMapping[str, Any]):
    """A table kept per partition, read like faust's RocksDB store: a lookup during a message
    sees that message's partition only; iteration sees every partition."""

    def __init__(self, partitions: int) -> None:
        self.parts: list[dict[str, Any]] = [{} for _ in range(partitions)]
        self.current: int | None = None
        self.writes = 0

    def _scoped(self) -> list[dict[str, Any]]:
        return self.parts if self.current is None else [self.parts[self.current]]

    def __getitem__(self, key: str) -> Any:
        for part in self._scoped():
            if key in part:
                return part[key]
        raise KeyError(key)

    def __setitem__(self, key: str, value: Any) -> None:
        assert self.current is not None, "a write outside of a message"
        self.writes += 1
        self.parts[self.current][key] = value

    def __delitem__(self, key: str) -> None:
        assert self.current is not None, "a delete outside of a message"
        self.writes += 1
        del self.parts[self.current][key]

    def __iter__(self) -> Iterator[str]:
        return (key for part in self.parts for key in list(part))

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)

    def items(self) -> Any:  # type: ignore[override]  # as the store: every partition's items
        return [(key, value) for part in self.parts for key, value in part.items()]

    def acting(self, partition: int) -> Any:
        table = self

        class _Acting:
            def __enter__(self) -> None:
                table.current = partition

            def __exit__(self, *exc: object) -> None:
                table.current = None

        return _Acting()

    def writer(self) -> Callable[[Any, Callable[[], None]], None]:
        def write(tag: Any, apply: Callable[[], None]) -> None:
            with self.acting(tag):
                apply()

        return write


def test_overlay_over_a_partitioned_store_reads_and_writes_each_key_in_its_partition() -> None:
    """Reads during a message see its partition; iteration sees all; each write lands in the
    partition of the message that made it (what the RocksDB store needs)."""
    table = ScopedTable(2)
    table.parts[0]["a"] = 1
    table.parts[1]["b"] = 2
    overlay = Overlay(table)
    overlay.use(0, 0)
    with table.acting(0):
        assert sorted(overlay.items()) == [("a", 1), ("b", 2)]  # a full scan, from any message
        assert (overlay.get("a"), overlay.get("b")) == (1, None)  # the store's scoped reads
        del overlay["a"]
        overlay["c"] = 3
    overlay.use(1, 1)
    with table.acting(1):
        assert overlay.get("b") == 2  # not the scope-0 miss remembered
        overlay["b"] = 20
        assert sorted(overlay) == ["b", "c"]
    overlay.flush(table.writer())
    assert table.parts == [{"c": 3}, {"b": 20}]


def test_overlay_reads_its_own_writes_and_leaves_the_table_alone_until_flushed() -> None:
    table = CountingTable({"a": 1, "b": 2})
    overlay = Overlay(table)
    overlay["a"] = 10
    overlay["c"] = 3
    del overlay["b"]
    assert (overlay.get("a"), overlay.get("b"), overlay["c"]) == (10, None, 3)
    assert "b" not in overlay and "c" in overlay
    assert sorted(overlay) == ["a", "c"] and len(overlay) == 2
    assert table == {"a": 1, "b": 2}  # nothing written yet
    assert overlay.pending == 3
    assert overlay.flush() == 3
    assert table == {"a": 10, "c": 3}
    assert overlay.pending == 0


def test_each_key_is_written_once_per_batch_however_often_it_changed() -> None:
    table = CountingTable()
    overlay = Overlay(table)
    for i in range(50):
        overlay["stream-time"] = i
        overlay[f"bucket|{i % 3}"] = i
    overlay.flush()
    assert table["stream-time"] == 49
    assert dict(table.writes) == {"stream-time": 1, "bucket|0": 1, "bucket|1": 1, "bucket|2": 1}


def test_a_key_created_and_deleted_in_one_batch_never_reaches_the_table() -> None:
    table = CountingTable()
    overlay = Overlay(table)
    overlay["tmp"] = 1
    del overlay["tmp"]
    overlay.flush()
    assert not table.writes
    with pytest.raises(KeyError):
        del overlay["tmp"]


def test_reads_are_remembered_for_the_batch_only() -> None:
    table = CountingTable({"hour": 5})
    overlay = Overlay(table)
    for _ in range(10):
        assert overlay.get("hour") == 5
        assert overlay.get("missing") is None
    assert table.reads == 2
    overlay.flush()
    table["hour"] = 6  # written by someone else between batches
    assert overlay.get("hour") == 6


def test_flush_writes_each_key_in_the_context_of_the_message_that_wrote_it_last() -> None:
    table = CountingTable()
    overlay = Overlay(table)
    seen: list[tuple[Any, str]] = []
    overlay.tag = "event-1"
    overlay["x"] = 1
    overlay["y"] = 1
    overlay.tag = "event-2"
    overlay["x"] = 2

    def write(tag: Any, apply: Any) -> None:
        before = dict(table)
        apply()
        [changed] = [k for k in table if before.get(k) != table[k]]
        seen.append((tag, changed))

    overlay.flush(write)
    assert sorted(seen) == [("event-1", "y"), ("event-2", "x")]


ops = st.lists(
    st.tuples(st.sampled_from(["set", "del"]), st.sampled_from(list("abcde")), st.integers(0, 9)),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(
    start=st.dictionaries(st.sampled_from(list("abcde")), st.integers(0, 9)), ops=ops, cut=st.integers(1, 10)
)
def test_batched_writes_end_where_direct_writes_end(start: dict[str, int], ops: list[Any], cut: int) -> None:
    """Property: any mix of writes and deletes, flushed every ``cut`` operations, leaves the
    table as the same operations applied directly, with at most one write per key per batch."""
    direct = dict(start)
    table = CountingTable(start)
    overlay = Overlay(table)
    batches = 0
    for i, (op, key, value) in enumerate(ops):
        if op == "set":
            direct[key] = value
            overlay[key] = value
        elif key in direct:
            del direct[key]
            del overlay[key]
        assert dict(overlay.items()) == direct
        if (i + 1) % cut == 0:
            overlay.flush()
            batches += 1
    overlay.flush()
    assert table == direct
    assert all(n <= batches + 1 for n in table.writes.values())


def test_coalesced_keeps_the_last_value_per_key_in_first_write_order() -> None:
    out: Coalesced[str] = Coalesced()
    for key, value in [("1h|RU-KRS", "a"), ("24h|RU-KRS", "b"), ("1h|RU-KRS", "c")]:
        out.put(key, value)
    assert (len(out), out.superseded) == (2, 1)
    assert out.drain() == ["c", "b"]
    assert len(out) == 0


def test_group_by_partition_keeps_order_within_a_partition() -> None:
    groups = group_by_partition([5, 2, 7, 4, 1], lambda n: n % 2)
    assert groups == {1: [5, 7, 1], 0: [2, 4]}


def _update(code: str, n: int) -> RegionUpdate:
    return RegionUpdate(
        fingerprint=f"f{n}", code=code, region=code, count=n, event_time="2026-11-20T03:00:00+00:00",
        report_id=f"r{n}", source="mod", url=None, claimed_total=None, evidence="", confidence=1.0,
        outlets=1,
    )


def test_update_messages_put_every_update_on_its_regions_partition_in_order() -> None:
    partitioner = CachedPartitioner()
    partitions = [0, 1, 2, 3]
    codes = ["RU-KRS", "RU-BEL", "RU-ROS", "RU-KRS", "RU-TUL", "RU-BEL"] * 30
    updates = [_update(code, i) for i, code in enumerate(codes)]
    messages = pipeline.update_messages(
        updates, lambda code: partitioner(code.encode(), partitions, partitions), per_message=50
    )
    received = []
    for partition, key, value in messages:
        assert len(value["updates"]) <= 50
        for item in pipeline.region_items(value):
            assert partitioner(item["code"].encode(), partitions, partitions) == partition
            received.append(item)
        assert key == value["updates"][0]["code"].encode()
    assert sorted(u["report_id"] for u in received) == sorted(u.report_id for u in updates)
    for code in set(codes):  # per region, the order they were made in
        assert [u["report_id"] for u in received if u["code"] == code] == [
            u.report_id for u in updates if u.code == code
        ]


def test_region_items_reads_ticks_single_updates_and_batches() -> None:
    single = _update("RU-KRS", 1).to_dict()
    tick = {"tick": "2026-11-20T03:00:00+00:00"}
    assert pipeline.region_items(tick) == [tick]
    assert pipeline.region_items(single) == [single]
    assert pipeline.region_items({"updates": [single, single]}) == [single, single]
    assert pipeline.region_items("garbage") == ["garbage"]


def _runtime() -> SimpleNamespace:
    settings_ = Settings(windows="1h,24h/1h,night", grace_hours=24)
    return SimpleNamespace(
        settings=settings_,
        metrics=Metrics(CollectorRegistry()),
        windows=parse_windows(settings_.windows),
        extra={},
    )


def _stream_updates(statements_n: int = 120) -> list[RegionUpdate]:
    """Region updates of a synthetic stream (outlets, revisions, late reports) through stages 1-2."""
    reports, _ = generate(statements_n, seed=11)
    runtime = _runtime()
    clock = pipeline.SourceClock()
    statements: dict[str, Any] = {}
    watermark = ChannelWatermark()
    now = datetime.now(UTC)
    out: list[RegionUpdate] = []
    for offset, report in enumerate(reports):
        result = pipeline.read_message(json.dumps(report).encode(), max_bytes=1 << 20, message_time=now)
        clock.stamp(result, 0)
        value = json.loads(result.model_dump_json())
        keep = pipeline.keep_for(runtime)
        out += pipeline.merge_result(statements, value, 0, keep, watermark, 1, offset, offset) or []
    return out


def _final(events: list[tuple[str, str, str]]) -> dict[str, str]:
    """How an operator's alert list ends: each window alert's last status, and for rolling
    windows (alerts per region and episode) which regions' rolling alerts are still firing.

    Severity and episodes may differ between batch sizes: a count that escalates and falls
    back within one batch, or a revision (its old figure withdrawn, the new one added: two
    updates) that briefly drops a rolling count, makes events one update at a time that a
    batch, seeing only the settled count, does not make.
    """
    out: dict[str, str] = {}
    for alert_id, status, _ in events:
        rule, window, _, code = alert_id.split("|")
        key = f"{rule}|{window}|{code}" if "/" in window else alert_id
        out[key] = "resolved" if status == "resolved" else "firing"
    return out


def _same_alert_outcome(batched: list[tuple[str, str, str]], single: list[tuple[str, str, str]]) -> None:
    """Every alert the batches made ends as it does one update at a time; an alert only one
    update at a time makes is one that rose and fell back within a batch (it ends resolved)."""
    got, want = _final(batched), _final(single)
    assert got.keys() <= want.keys()
    assert {k: want[k] for k in got} == got
    assert all(want[k] == "resolved" for k in want.keys() - got.keys())


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_region_stage_in_batches_ends_with_the_counts_and_alerts_of_one_at_a_time(batch: int) -> None:
    """The synthetic stream's region updates, one at a time on plain tables and in batches on
    overlays (windows settled once per batch): same buckets, same last count per window, every
    alert ending in the same state."""
    updates = _stream_updates()
    assert len(updates) > 100

    def run(size: int | None) -> tuple[dict[str, Any], dict[str, int], list[tuple[str, str, str]], CountingTable]:  # noqa: E501
        runtime = _runtime()
        buckets, alerts = CountingTable(), CountingTable()
        b, a = Overlay(buckets), Overlay(alerts)
        last: dict[str, int] = {}
        events: list[tuple[str, str, str]] = []
        step = size or 1
        for start in range(0, len(updates), step):
            sink = pipeline.RegionOutcome()
            owed = pipeline.Owed(b, a, runtime, sink) if size else None
            out = pipeline.RegionBatch()
            for offset, update in enumerate(updates[start : start + step], start):
                item = json.loads(json.dumps(update.to_dict()))
                result = pipeline.apply_region_item(b, a, runtime, item, 0, offset, offset, owed)
                if owed is None:
                    out.add(result)
            if owed is not None:
                owed.settle()
                out.add(sink)
            b.flush()
            a.flush()
            for message in out.counts.drain():
                last[message.key] = message.count.count
            events += [(e.alert_id, e.status, e.severity) for e in out.alerts]
        return dict(buckets), last, events, buckets

    one_buckets, one_last, one_events, one_table = run(None)
    got_buckets, got_last, got_events, got_table = run(batch)
    assert got_buckets == one_buckets
    assert got_last == one_last
    _same_alert_outcome(got_events, one_events)
    assert one_events  # the stream fires alerts
    if batch == 1:
        assert sorted(got_events) == sorted(one_events)  # a batch of one makes the same events
    else:  # a batch writes rewritten keys fewer times and makes no more alert events
        assert any(n > 1 for n in one_table.writes.values())
        assert sum(got_table.writes.values()) < sum(one_table.writes.values())
        assert len(got_events) <= len(one_events)


def test_region_stage_batches_over_partitioned_stores_match_one_at_a_time() -> None:
    """Four region partitions whose messages interleave in each batch, on stores that answer
    reads per partition (as RocksDB does): the same buckets, last counts and alert events as
    plain per-partition tables fed one update at a time."""
    updates = _stream_updates()
    partitioner = CachedPartitioner()
    parts = [0, 1, 2, 3]

    def partition_of(code: str) -> int:
        return int(partitioner(code.encode(), parts, parts))

    runtime = _runtime()
    plain_b: list[dict[str, Any]] = [{} for _ in parts]
    plain_a: list[dict[str, Any]] = [{} for _ in parts]
    one_last: dict[str, int] = {}
    one_events: list[tuple[str, str, str]] = []
    for offset, update in enumerate(updates):
        p = partition_of(update.code)
        out = pipeline.apply_region_update(plain_b[p], plain_a[p], runtime, update, p, offset, offset)
        one_last.update((m.key, m.count.count) for m in out.counts)
        one_events += [(e.alert_id, e.status, e.severity) for e in out.alerts]

    runtime = _runtime()
    buckets, alerts = ScopedTable(4), ScopedTable(4)
    b, a = Overlay(buckets), Overlay(alerts)
    got_last: dict[str, int] = {}
    got_events: list[tuple[str, str, str]] = []
    current: list[int] = []

    @contextmanager
    def enter(partition: int) -> Iterator[None]:  # as the agent: that partition's context, then back
        saved = buckets.current, alerts.current, b.scope, a.scope
        buckets.current = alerts.current = partition
        b.use(partition, partition)
        a.use(partition, partition)
        try:
            yield
        finally:
            buckets.current, alerts.current = saved[0], saved[1]
            b.use(saved[2], saved[2])
            a.use(saved[3], saved[3])

    for start in range(0, len(updates), 40):
        sink = pipeline.RegionOutcome()
        owed = pipeline.Owed(b, a, runtime, sink, enter=enter)
        for offset, update in enumerate(updates[start : start + 40], start):
            p = partition_of(update.code)
            current.append(p)
            b.use(p, p)
            a.use(p, p)
            with buckets.acting(p), alerts.acting(p):
                pipeline.apply_region_item(b, a, runtime, update.to_dict(), p, offset, offset, owed)
        owed.settle()
        b.flush(buckets.writer())
        a.flush(alerts.writer())
        out = pipeline.RegionBatch()
        out.add(sink)
        got_last.update((m.key, m.count.count) for m in out.counts.drain())
        got_events += [(e.alert_id, e.status, e.severity) for e in out.alerts]
    assert buckets.parts == plain_b
    assert got_last == one_last
    _same_alert_outcome(got_events, one_events)
    assert len(set(current)) > 1
    # every alert state lives in its region's partition
    for p, part in enumerate(alerts.parts):
        for key, value in part.items():
            if not key.startswith("~") and isinstance(value, dict) and "code" in value:
                assert partition_of(value["code"]) == p, key
