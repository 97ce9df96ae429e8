"""Guards against faust-streaming 0.15.3 behaviours that lose or stall work, measured on Kafka.

Found with tests/integration/test_fault_tolerance.py (two workers, four partitions, one
SIGKILLed mid-stream) on Apache Kafka 4.1: a worker that kept some partitions across a
rebalance stopped processing them, and later committed offsets past messages nobody processed.
Four faust/aiokafka behaviours combine; each has a guard here and a test in
tests/unit/test_faust_guards.py.

Acked offsets dropped at revocation
    ``Consumer.on_partitions_revoked`` pops the acked-offset bookkeeping of the revoked
    partitions *before* the app's revocation handler commits, so work acked since the last
    periodic commit is never committed. Guard: commit acked offsets first.

Commit before the table writes are sent
    Table writes wait in faust's ``ProducerBuffer`` until a background task hands them to the
    Kafka producer. Before committing offsets faust flushes that buffer, but
    ``ProducerBuffer.flush`` gives up as soon as one message takes longer than 0.1 s, so under
    load offsets are committed while changelog records are still queued; a SIGKILL then loses
    table state for work that will not be redone (measured: 3 statements missing in about one
    run in eight). Guard: the flush drains the buffer completely.

No seek when nothing was committed
    After a rebalance faust seeks every partition to its committed offset, but aiokafka's
    ``seek_to_committed`` does nothing for a partition with no committed offset (or offset 0),
    so the fetch position stays wherever the previous generation's prefetch left it: the
    messages between were fetched, dropped from the agent buffers at revocation, and are now
    skipped. Guard: such partitions are sought to the beginning (``auto_offset_reset=earliest``).

Fetches held for 1.5 s
    faust creates its consumer with ``fetch_max_wait_ms=1500`` (not configurable). A fetch
    that covers only partitions without new data (an internal topic, a quiet partition) is
    held that long by the broker, and data arriving meanwhile for the other partitions waits
    for it: up to 1.5 s per hop, three hops from report to alert. Guard: 100 ms.

Failed commits recorded as done
    ``Consumer._commit_offsets`` records the offsets in ``_committed_offset`` whether or not
    the commit succeeded, and the aiokafka driver answers a commit refused because the group
    "already rebalanced" with False (not an error), which is common around a SIGKILL. skytally
    reads ``_committed_offset`` to know which processed messages can no longer be redelivered
    (service.watermark: state they need is kept until then), so a refused commit released
    state early, and the worker that re-read those messages found their hours deleted
    (fault suite, RocksDB variant: 2 statements dropped as expired, 127 window counts wrong).
    Guard: a commit that did not happen leaves the recorded offsets as they were.

Acks while a rebalance is under way
    When a rebalance starts faust drops the acked-offset bookkeeping of the revoked partitions
    and suspends flow control; its streams then skip the messages they still hold and ack them,
    still with the current generation id, so ``Consumer.ack`` records their offsets again
    (the partition's committed offset was dropped too, so nothing stops it). If the partition
    comes back to this worker, those stale entries join the new generation's acks and a commit
    can move past messages that were never processed; a kill or another rebalance then loses
    them. Guard: no ack is recorded while flow control is suspended (the message is let go of,
    and redone after the rebalance).

A commit past the message at the committed offset
    ``Consumer._new_offset`` refuses to commit when the first acked offset is more than one
    past the committed offset (``min(acked) - committed > 1``), so when exactly the message
    *at* the committed offset was never acked (skipped by a new owner's stream at the moment
    flow control resumed, or refused by the guards here) and the next ones were, faust commits
    past it and nobody processes it again. Found with the fault suite's post-mortem dump: a
    statement processed by a worker killed before its commit was re-read by the next owner,
    which acked the messages after it but not it, and committed over it (its changelog writes
    and one region update were lost; a later revision of it was then counted twice). Guard:
    nothing is committed while the message at the committed offset is not acked, unless it
    is a known gap in the partition (compaction, transaction markers), and the partition is
    sought back to that offset so the skipped messages are fetched and processed (the ones
    after them again too, which the idempotent merges absorb).

Records fetched again after a seek, dropped
    ``Consumer._drain_messages`` hands a fetched record to the streams only when its offset is
    at or past the partition's read offset, and sets the read offset to each record it hands
    out. A seek (faust's ``perform_seek`` to the committed offsets after a rebalance, a
    recovery seek of a changelog, the rewind above) resets the read offset, but the rest of a
    batch fetched *before* the seek is still being handed out and moves it forward again, so
    the records fetched again from the seek target are dropped up to that point. Measured in
    the fault suite with the diagnostics below: a new owner's first fetch began at 290 (the
    committed offset aiokafka used when the partition was assigned) while faust's seek went
    to the committed 91; offsets 91-301 were fetched again and dropped, 91-289 never
    processed, and the rewind was dropped the same way. Changelog partitions re-read from 0
    by a recovery lost records the same way. Guard: a record whose offset is at or before the
    last one handed out for its partition comes from a fetch after a seek back (aiokafka
    discards buffered records at a seek), so the read offset is moved back to it and it is
    handed out (logged as ``refetched_messages_kept``; the records after it are processed
    again, which the idempotent merges absorb). aiokafka's seek is also run on the consumer
    thread's event loop instead of faust's.

Diagnostics (info logs, only when something unusual happens)
    ``partition_first_fetch`` (where each partition's first record of a generation starts),
    ``seek_to_committed`` (offsets faust seeks to after a rebalance), ``fetch_position_set``
    and ``fetch_discontinuity`` (aiokafka's fetch position moved, or records did not continue
    where the last ones ended), ``fetched_messages_dropped`` (what faust's drain loop dropped
    below its read offset), ``committed_before_revoke``.

Stale-generation acks (measured: tests/integration/test_fault_tolerance.py lost 22-111
reports of 617 in 3 of 6 runs on Apache Kafka 4.1 under CPU load, 0 with this guard)
    When a rebalance starts, messages already fetched for the old consumer generation can still
    sit in an agent's channel. faust's ``Stream`` skips such messages (their generation id is
    stale) but, in the same ``finally`` block, *acks* them (``faust/streams.py``: "We want to
    ack the filtered out message otherwise the lag would increase"). If the partition stays
    with this worker, the acks land after the new generation seeked to the committed offset,
    so ``Consumer.ack`` records those offsets as done and the next commit moves the group's
    offset past messages no agent processed: they are never seen again.

    The guard: ``Consumer.ack`` refuses a message whose generation id is not the consumer's
    current one. The message is marked acked (so faust's bookkeeping lets go of it) but its
    offset is not recorded, so it is not committed; the new generation fetches it again from
    the committed offset and processes it. Work finished after the generation changed is
    likewise not committed and is redone: at-least-once, which skytally's idempotent merges
    (report ids, statement fingerprints, max-merge) make exact.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiokafka.consumer.fetcher import Fetcher
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.producer import ProducerBuffer
from faust.types.tuples import ack_lock

log = structlog.get_logger("skytally.faust_guards")

#: How long the faust consumer's fetch may wait for data (faust hard-codes 1500 ms).
FETCH_MAX_WAIT_MS = 100

_ORIGINAL_ACK = Consumer.ack
_ORIGINAL_CREATE_CONSUMER = AIOKafkaConsumerThread._create_worker_consumer
_ORIGINAL_REVOKED = Consumer.on_partitions_revoked
_ORIGINAL_COMMIT_OFFSETS = Consumer._commit_offsets
_ORIGINAL_NEW_OFFSET = Consumer._new_offset
_ORIGINAL_GETMANY = Consumer.getmany
#: How often each guard acted since start.
counts = {"stale_generation_acks": 0, "commits_before_revoke": 0, "seeks_to_beginning": 0,
          "slow_flushes": 0, "failed_commits": 0, "acks_during_rebalance": 0,
          "commits_held_at_unacked_head": 0, "rewinds": 0, "refetches_kept": 0}


def is_stale(message: Any, current_generation: int | None) -> bool:
    """True when ``message`` was fetched in a consumer generation other than the current one."""
    generation = getattr(message, "generation_id", None)
    return generation is not None and current_generation is not None and generation != current_generation


def _ack_current_generation_only(self: Consumer, message: Any) -> bool:
    if not self.app.flow_control.is_active():
        # A rebalance is under way: faust skips the messages its streams still hold *and acks
        # them* with the generation that is still current, after it already dropped the
        # partitions' bookkeeping; those offsets come back with the next assignment and let a
        # commit jump past messages nobody processed. Work acked now is simply redone.
        with ack_lock:
            message.acked = True
            self._unacked_messages.discard(message)
        counts["acks_during_rebalance"] += 1
        log.info("ack_during_rebalance_not_recorded", tp=str(message.tp), offset=message.offset)
        return False
    if is_stale(message, self.app.consumer_generation_id):
        with ack_lock:
            message.acked = True
            self._unacked_messages.discard(message)
        counts["stale_generation_acks"] += 1
        log.debug(
            "stale_generation_ack_refused",
            tp=str(message.tp),
            offset=message.offset,
            message_generation=message.generation_id,
            current=self.app.consumer_generation_id,
        )
        return False
    return bool(_ORIGINAL_ACK(self, message))


async def _commit_then_revoke(self: Consumer, revoked: set[Any]) -> None:
    if self._acked and any(self._acked.get(tp) for tp in revoked):
        counts["commits_before_revoke"] += 1
        try:
            done = await self.commit()
        except Exception as exc:  # noqa: BLE001 - a failed commit only means redelivery (idempotent)
            log.warning("commit_before_revoke_failed", error=repr(exc)[:300])
        else:
            committed = getattr(self, "_committed_offset", {})
            log.info(
                "committed_before_revoke", done=bool(done),
                offsets={str(tp): committed.get(tp) for tp in revoked if tp in self._acked},
            )
    await _ORIGINAL_REVOKED(self, revoked)


async def _commit_offsets_if_committed(
    self: Consumer, offsets: Any, start_new_transaction: bool = True
) -> bool:
    before = {tp: self._committed_offset.get(tp) for tp in offsets}
    did_commit = await _ORIGINAL_COMMIT_OFFSETS(self, offsets, start_new_transaction=start_new_transaction)
    if not did_commit:
        for tp, offset in before.items():
            if offset is None:
                self._committed_offset.pop(tp, None)
            else:
                self._committed_offset[tp] = offset
        counts["failed_commits"] += 1
        log.info("commit_not_done", partitions=len(before))
    return bool(did_commit)


#: Per partition, the committed offset a commit was last held at (logged once each).
_HELD: dict[Any, int] = {}


def rewind(consumer: Any, tp: Any, offset: int) -> None:
    """Read ``tp`` again from ``offset`` (messages after it are processed again: idempotent).

    Measured in the fault suite: right after a worker took a partition over, a range of
    messages from the committed offset on never reached its stream while the ones after did;
    the commit guard holds the commit there, and this seek has them fetched again.
    """
    if tp not in consumer.assignment():
        return
    try:
        loop = asyncio.get_running_loop()  # faust commits from its event loop
    except RuntimeError:
        return
    counts["rewinds"] += 1
    task = loop.create_task(consumer.seek(tp, offset))
    _REWINDS.add(task)
    task.add_done_callback(_REWINDS.discard)


#: Rewind seeks in flight (a reference keeps each task alive until it is done).
_REWINDS: set[Any] = set()


def _new_offset_without_skipping(self: Consumer, tp: Any) -> int | None:
    acked = self._acked[tp]
    committed = self._committed_offset[tp]
    if acked and committed is not None and min(acked) > committed and not self._gap[tp].overlaps(committed):
        counts["commits_held_at_unacked_head"] += 1
        if _HELD.get(tp) != committed:  # once per partition and offset
            _HELD[tp] = committed
            log.warning(
                "commit_held_at_unacked_message", tp=str(tp), committed=committed, first_acked=min(acked),
                hint="that message was not processed: the partition is read again from it",
            )
            rewind(self, tp, committed)
        return None  # the message at the committed offset is not done: commit nothing yet
    result: int | None = _ORIGINAL_NEW_OFFSET(self, tp)
    return result


#: Per partition, the offset of the last message handed to faust's drain loop.
_LAST_YIELDED: dict[Any, int] = {}

#: Per partition, the consumer generation its first fetched message was logged for.
_FIRST_SEEN: dict[Any, int | None] = {}


async def _getmany_keeping_refetches(self: Consumer, timeout: float) -> Any:
    """faust's getmany, keeping records fetched again after a seek back (see above).

    Also logs what ``Consumer._drain_messages`` will drop below the partition's read offset
    and where each partition's first record of a generation starts.
    """
    read_offset = self._read_offset
    dropped: dict[Any, list[int]] = {}
    app = self.app
    last_yielded = _LAST_YIELDED
    async for tp, message in _ORIGINAL_GETMANY(self, timeout):
        offset = message.offset
        generation = app.consumer_generation_id
        current = read_offset.get(tp)  # .get: do not insert into faust's defaultdict
        last = last_yielded.get(tp)
        last_yielded[tp] = offset
        if last is not None and offset <= last and current is not None and offset < current:
            # Fetched again after a seek back (to the committed offset, or a rewind), while a
            # batch fetched before the seek had already moved the read offset past it.
            log.info("refetched_messages_kept", tp=str(tp), offset=offset, read_offset_was=current)
            read_offset[tp] = current = offset
            counts["refetches_kept"] += 1
        if current is not None and offset < current:
            span = dropped.get(tp)
            if span is None:
                dropped[tp] = [offset, offset, current]
            else:
                span[1] = offset
        elif _FIRST_SEEN.get(tp, -1) != generation:
            _FIRST_SEEN[tp] = generation
            log.info(
                "partition_first_fetch", tp=str(tp), offset=offset, read_offset=current,
                committed=self._committed_offset.get(tp), generation=generation,
            )
        yield tp, message
    for tp, (first, last, current) in dropped.items():
        log.info("fetched_messages_dropped", tp=str(tp), first=first, last=last, read_offset=current)


#: Per partition, the offset the fetcher should hand out next (consumer thread only).
_FETCH_NEXT: dict[Any, int] = {}
_ORIGINAL_SEEK_TO = Fetcher.seek_to
_ORIGINAL_FETCH_RECORDS = AIOKafkaConsumerThread._fetch_records


def _seek_in_consumer_thread(self: AIOKafkaConsumerThread, partition: Any, offset: int) -> None:
    """faust calls aiokafka's ``seek`` from its own event loop; run it on the consumer's loop."""
    self.thread_loop.call_soon_threadsafe(self._ensure_consumer().seek, partition, offset)


def _seek_to_noted(self: Fetcher, tp: Any, offset: int) -> None:
    log.info("fetch_position_set", tp=str(tp), offset=offset, next_expected=_FETCH_NEXT.get(tp))
    _FETCH_NEXT[tp] = offset
    _ORIGINAL_SEEK_TO(self, tp, offset)


async def _fetch_records_noting_jumps(self: AIOKafkaConsumerThread, *args: Any, **kwargs: Any) -> Any:
    """aiokafka's fetched records, logging where a partition's records do not continue."""
    records = await _ORIGINAL_FETCH_RECORDS(self, *args, **kwargs)
    for tp, batch in records.items():
        if not batch:
            continue
        expected = _FETCH_NEXT.get(tp)
        first = batch[0].offset
        if expected is not None and first != expected:
            log.info("fetch_discontinuity", tp=str(tp), expected=expected, got=first, last=batch[-1].offset)
        _FETCH_NEXT[tp] = batch[-1].offset + 1
    return records


async def seek_committed_or_beginning(consumer: Any) -> dict[Any, Any]:
    """aiokafka's seek_to_committed, plus a seek to the beginning where it would not seek."""
    committed: dict[Any, Any] = await consumer.seek_to_committed()
    log.info("seek_to_committed", offsets={str(tp): offset for tp, offset in committed.items()})
    unsought = [tp for tp, offset in committed.items() if not offset]
    if unsought:
        counts["seeks_to_beginning"] += len(unsought)
        await consumer.seek_to_beginning(*unsought)
    return committed


async def _seek_to_committed(self: AIOKafkaConsumerThread) -> Any:
    return await self.call_thread(seek_committed_or_beginning, self._ensure_consumer())


async def flush_completely(self: ProducerBuffer) -> None:
    """Wait until every buffered table write was handed to the Kafka producer."""
    waited = 0.0
    while self.size:
        if self.state != "running":
            raise RuntimeError("Cannot flush: Producer not Running")
        self.message_sent.clear()
        try:
            await asyncio.wait_for(self.message_sent.wait(), timeout=0.1)
        except TimeoutError:
            waited += 0.1
            if waited >= 5.0 and waited % 5.0 < 0.1:
                counts["slow_flushes"] += 1
                log.warning("producer_buffer_flush_slow", buffered=self.size, waited_s=round(waited, 1))


def _create_consumer_short_fetch_wait(self: AIOKafkaConsumerThread, transport: Any) -> Any:
    consumer = _ORIGINAL_CREATE_CONSUMER(self, transport)
    consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when the consumer starts its fetcher
    return consumer


def install() -> None:
    """Patch faust's consumer classes once (idempotent)."""
    if Consumer.ack is not _ack_current_generation_only:
        Consumer.ack = _ack_current_generation_only  # type: ignore[method-assign]
    if Consumer.on_partitions_revoked is not _commit_then_revoke:
        Consumer.on_partitions_revoked = _commit_then_revoke  # type: ignore[method-assign]
    if Consumer._new_offset is not _new_offset_without_skipping:
        Consumer._new_offset = _new_offset_without_skipping  # type: ignore[method-assign]
    if AIOKafkaConsumerThread.seek is not _seek_in_consumer_thread:
        AIOKafkaConsumerThread.seek = _seek_in_consumer_thread  # type: ignore[method-assign]
    if Fetcher.seek_to is not _seek_to_noted:
        Fetcher.seek_to = _seek_to_noted
    if AIOKafkaConsumerThread._fetch_records is not _fetch_records_noting_jumps:
        AIOKafkaConsumerThread._fetch_records = _fetch_records_noting_jumps  # type: ignore[method-assign]
    if Consumer.getmany is not _getmany_keeping_refetches:
        Consumer.getmany = _getmany_keeping_refetches  # type: ignore[method-assign]
    if Consumer._commit_offsets is not _commit_offsets_if_committed:
        Consumer._commit_offsets = _commit_offsets_if_committed  # type: ignore[method-assign]
    if ProducerBuffer.flush is not flush_completely:
        ProducerBuffer.flush = flush_completely  # type: ignore[method-assign]
    if AIOKafkaConsumerThread._create_worker_consumer is not _create_consumer_short_fetch_wait:
        AIOKafkaConsumerThread._create_worker_consumer = _create_consumer_short_fetch_wait  # type: ignore[method-assign]
    if AIOKafkaConsumerThread.seek_to_committed is not _seek_to_committed:
        AIOKafkaConsumerThread.seek_to_committed = _seek_to_committed  # type: ignore[method-assign]
