"""The guard that keeps faust from committing messages of an old consumer generation."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from faust.transport.consumer import Consumer

from service import faust_guards


class _Flow:
    def __init__(self, active: bool) -> None:
        self.active = active

    def is_active(self) -> bool:
        return self.active


def test_stale_generation_ack_is_refused_and_not_recorded() -> None:
    """A message fetched before a rebalance is let go of but its offset is never marked done."""
    faust_guards.install()
    message = SimpleNamespace(generation_id=1, acked=False, tp="reports:2", offset=59)
    unacked = {id(message)}
    consumer = SimpleNamespace(
        app=SimpleNamespace(consumer_generation_id=2, flow_control=_Flow(active=True)),
        _unacked_messages=SimpleNamespace(discard=lambda m: unacked.discard(id(m))),
        _acked={},
    )
    assert Consumer.ack(consumer, message) is False  # type: ignore[arg-type]
    assert message.acked is True
    assert set() == unacked
    assert {} == consumer._acked


def test_staleness_needs_both_generations() -> None:
    """Only a known, different generation is stale; unknown generations are left to faust."""
    assert faust_guards.is_stale(SimpleNamespace(generation_id=3), 4)
    assert not faust_guards.is_stale(SimpleNamespace(generation_id=4), 4)
    assert not faust_guards.is_stale(SimpleNamespace(generation_id=None), 4)
    assert not faust_guards.is_stale(SimpleNamespace(generation_id=3), None)


def test_install_is_idempotent() -> None:
    """Installing twice keeps one wrapper (the original ack is called once per message)."""
    faust_guards.install()
    first = Consumer.ack
    faust_guards.install()
    assert first is Consumer.ack


async def test_partitions_never_committed_are_sought_to_the_beginning() -> None:
    """Where aiokafka would not seek (no committed offset, or 0), the guard seeks to the start."""
    sought: list[object] = []

    class FakeConsumer:
        async def seek_to_committed(self) -> dict[str, int | None]:
            return {"p0": 42, "p1": None, "p2": 0}

        async def seek_to_beginning(self, *tps: object) -> None:
            sought.extend(tps)

    committed = await faust_guards.seek_committed_or_beginning(FakeConsumer())
    assert {"p0": 42, "p1": None, "p2": 0} == committed
    assert ["p1", "p2"] == sought


async def test_acked_offsets_are_committed_before_revocation_drops_them() -> None:
    """The revocation handler commits acked work before faust forgets it."""
    faust_guards.install()
    calls: list[str] = []

    async def commit() -> None:
        calls.append("commit")

    consumer = SimpleNamespace(_acked={"reports:1": [5, 6, 7]}, commit=commit)
    original = faust_guards._ORIGINAL_REVOKED

    async def fake_original(self: object, revoked: set[str]) -> None:
        calls.append("revoke")

    faust_guards._ORIGINAL_REVOKED = fake_original  # type: ignore[assignment]
    try:
        await Consumer.on_partitions_revoked(consumer, {"reports:1"})  # type: ignore[arg-type]
    finally:
        faust_guards._ORIGINAL_REVOKED = original
    assert ["commit", "revoke"] == calls


async def test_flush_waits_for_every_buffered_table_write() -> None:
    """The flush before a commit returns only once the buffer is empty, however slow the sender."""
    import asyncio

    class SlowBuffer:
        state = "running"

        def __init__(self) -> None:
            self.items = [1, 2, 3]
            self.message_sent = asyncio.Event()

        @property
        def size(self) -> int:
            return len(self.items)

    buffer = SlowBuffer()

    async def send_slowly() -> None:
        while buffer.items:
            await asyncio.sleep(0.15)  # slower than faust's 0.1 s give-up
            buffer.items.pop()
            buffer.message_sent.set()

    sender = asyncio.create_task(send_slowly())
    await faust_guards.flush_completely(buffer)  # type: ignore[arg-type]
    assert 0 == buffer.size
    await sender


async def test_worker_consumer_fetches_wait_at_most_100_ms() -> None:
    """faust hard-codes a 1.5 s fetch wait; the worker's consumer is built with 100 ms."""
    from service.app import app

    faust_guards.install()
    consumer = app.consumer._thread._create_worker_consumer(app.transport)
    try:
        assert 100 == consumer._fetch_max_wait_ms
    finally:
        await consumer.stop()


class _CommittingConsumer:
    """Just enough of a faust Consumer for its own ``_commit_offsets`` to run."""

    in_transaction = False

    def __init__(self, accept: bool) -> None:
        from collections import defaultdict

        self.accept = accept
        self._committed_offset: defaultdict[str, int | None] = defaultdict(lambda: None)
        self.sent: list[dict[str, int]] = []
        self.log = SimpleNamespace(dev=lambda *a, **k: None, info=lambda *a, **k: None)

        async def flush() -> None:
            return None

        self.app = SimpleNamespace(
            producer=SimpleNamespace(flush=flush),
            tables=SimpleNamespace(on_commit=lambda offsets: None),
            monitor=SimpleNamespace(on_tp_commit=lambda offsets: None),
        )

    def assignment(self) -> set[str]:
        return {"updates:3"}

    async def _commit(self, offsets: dict[str, int]) -> bool:
        self.sent.append(dict(offsets))
        return self.accept  # False: aiokafka's "already rebalanced"


@pytest.mark.parametrize(("accepted", "recorded"), [(True, 120), (False, 80)])
async def test_a_refused_commit_is_not_recorded_as_committed(accepted: bool, recorded: int) -> None:
    """What skytally reads as committed (service.agents.committed_offset) is what Kafka has."""
    faust_guards.install()
    consumer = _CommittingConsumer(accept=accepted)
    consumer._committed_offset["updates:3"] = 80
    did = await Consumer._commit_offsets(consumer, {"updates:3": 120})  # type: ignore[arg-type]
    assert (accepted, [{"updates:3": 120}]) == (did, consumer.sent)
    assert recorded == consumer._committed_offset["updates:3"]


async def test_a_refused_first_commit_leaves_no_committed_offset() -> None:
    faust_guards.install()
    consumer = _CommittingConsumer(accept=False)
    assert not await Consumer._commit_offsets(consumer, {"updates:3": 7})  # type: ignore[arg-type]
    assert "updates:3" not in consumer._committed_offset


@pytest.mark.parametrize(("active", "recorded"), [(True, [41]), (False, [])])
def test_no_ack_is_recorded_while_a_rebalance_is_under_way(active: bool, recorded: list[int]) -> None:
    """faust skips held messages during a rebalance and acks them with the still-current
    generation; recorded, those offsets would let a later commit skip unprocessed messages."""
    from collections import defaultdict

    faust_guards.install()
    message = SimpleNamespace(
        generation_id=7, acked=False, tp="interceptions:1", offset=41, topic="interceptions"
    )
    unacked = {id(message)}
    consumer = SimpleNamespace(
        app=SimpleNamespace(
            consumer_generation_id=7,
            flow_control=_Flow(active=active),
            topics=SimpleNamespace(acks_enabled_for=lambda topic: True),
        ),
        _unacked_messages=SimpleNamespace(discard=lambda m: unacked.discard(id(m))),
        _committed_offset=defaultdict(lambda: None),  # dropped at revocation
        _acked_index=defaultdict(set),
        _acked=defaultdict(list),
        _n_acked=0,
        _waiting_for_ack=None,
    )
    Consumer.ack(consumer, message)  # type: ignore[arg-type]
    assert message.acked is True
    assert set() == unacked
    assert recorded == consumer._acked["interceptions:1"]


def _acking_consumer(committed: int | None, acked: list[int], gaps: tuple[int, ...] = ()) -> Any:
    from collections import defaultdict

    from intervaltree import IntervalTree

    sought: list[tuple[str, int]] = []

    async def seek(tp: str, offset: int) -> None:
        sought.append((tp, offset))

    consumer = SimpleNamespace(
        sought=sought,
        seek=seek,
        assignment=lambda: {"updates:3"},
        _acked=defaultdict(list, {"updates:3": list(acked)}),
        _acked_index=defaultdict(set, {"updates:3": set(acked)}),
        _committed_offset=defaultdict(lambda: None, {"updates:3": committed}),
        _gap=defaultdict(IntervalTree),
    )
    for gap in gaps:
        consumer._gap["updates:3"].addi(gap, gap + 1)
    return consumer


@pytest.mark.parametrize(
    ("committed", "acked", "gaps", "new"),
    [
        (100, [100, 101, 102], (), 103),  # the head is done: commit after the run
        (100, [101, 102], (), None),  # message 100 never acked: faust would commit 103
        (100, [101, 102], (100,), 103),  # 100 is a known gap (no record there)
        (None, [5, 6], (), 7),  # nothing committed yet: faust's own rules
    ],
)
async def test_nothing_is_committed_past_an_unacked_message_at_the_committed_offset(
    committed: int | None, acked: list[int], gaps: tuple[int, ...], new: int | None
) -> None:
    faust_guards.install()
    faust_guards._HELD.clear()
    consumer = _acking_consumer(committed, acked, gaps)
    assert new == Consumer._new_offset(consumer, "updates:3")  # type: ignore[arg-type]


async def test_a_held_commit_reads_the_partition_again_from_the_unacked_message() -> None:
    """The skipped messages are fetched again (once per offset), so the commit can move on."""
    import asyncio

    faust_guards.install()
    faust_guards._HELD.clear()
    consumer = _acking_consumer(200, [205, 206])
    assert Consumer._new_offset(consumer, "updates:3") is None  # type: ignore[arg-type]
    assert Consumer._new_offset(consumer, "updates:3") is None  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert [("updates:3", 200)] == consumer.sought


def _drain(consumer: Any, batches: list[list[int]], seek_at: dict[int, int]) -> list[int]:
    """faust's ``Consumer._drain_messages`` read-offset rule over ``getmany`` batches.

    A message is handed to the streams when its offset is at or after the partition's read
    offset, which then becomes that offset; ``seek_at``: after handing out offset K, a seek to
    V happens (faust's ``perform_seek`` sets the read offset to V).
    """
    import asyncio

    async def batch_of(offsets: list[int]) -> Any:
        for offset in offsets:
            yield "updates:0", SimpleNamespace(offset=offset)

    delivered: list[int] = []

    async def run() -> None:
        for offsets in batches:
            faust_guards_original = faust_guards._ORIGINAL_GETMANY
            faust_guards._ORIGINAL_GETMANY = lambda self, timeout, o=offsets: batch_of(o)  # type: ignore[assignment]
            try:
                async for tp, message in faust_guards._getmany_keeping_refetches(consumer, 1.0):
                    read = consumer._read_offset.get(tp)
                    if read is None or message.offset >= read:
                        delivered.append(message.offset)
                        consumer._read_offset[tp] = message.offset
                    if message.offset in seek_at:
                        consumer._read_offset[tp] = seek_at[message.offset]
            finally:
                faust_guards._ORIGINAL_GETMANY = faust_guards_original

    asyncio.run(run())
    return delivered


def _reading_consumer() -> Any:
    faust_guards._LAST_YIELDED.clear()
    return SimpleNamespace(
        _read_offset={}, _committed_offset={}, app=SimpleNamespace(consumer_generation_id=3)
    )


def test_messages_fetched_again_after_a_seek_back_are_handed_out() -> None:
    """Measured: a new owner got 290-302 before faust sought it back to the committed 91; the
    rest of that batch moved faust's read offset to 302, so 91-301 fetched again were dropped
    and never processed. The guard hands out what is fetched again after a seek back."""
    consumer = _reading_consumer()
    delivered = _drain(consumer, [list(range(290, 303)), list(range(91, 320))], seek_at={295: 91})
    assert list(range(91, 290)) == [o for o in delivered if o < 290]  # the skipped range, in order
    assert set(range(91, 320)) == set(delivered)


def test_messages_below_a_forward_seek_are_still_dropped() -> None:
    """A batch fetched before a seek *forward* keeps faust's rule: nothing below the target."""
    consumer = _reading_consumer()
    batches = [list(range(10, 20)), list(range(20, 30)), list(range(50, 55))]
    delivered = _drain(consumer, batches, seek_at={12: 50})
    assert [10, 11, 12, *range(50, 55)] == delivered
