"""Batches that stay full while a backlog waits: faust's ``take_events`` with one change.

faust's ``Stream.take_events(max_, within)`` hands over whatever arrived within ``within``
seconds. The stages share one event loop, so while a backlog waits in Kafka (a backfill, a
restart after downtime) those seconds go mostly to the other stage's batch, and a batch held
~18 messages where 256 were allowed (measured, session 7). Small batches coalesce little:
more table writes, more window counts, more alert evaluations per report, so a backlog was
worked through slower than a steady stream.

:func:`take_batches` waits again, up to ``longest`` seconds in all, while the partitions of
the buffered events hold at least as many more messages in Kafka (their high-water mark past
the buffered offsets) as the batch has room for. At a steady rate nothing is waiting and a
batch is handed over after ``within`` as before, so latency is unchanged; in a backlog the
batches fill. Acks, the full-buffer wait and the stop handling are faust's (0.15.3), copied.
"""

from __future__ import annotations

import asyncio
from asyncio import CancelledError
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from mode.utils.futures import notify

#: How many more messages Kafka holds for the partitions of a batch's events.
Behind = Callable[[Sequence[Any]], int]


def keep_waiting(buffered: int, most: int, behind: int, waited: float, longest: float) -> bool:
    """Wait longer for this batch? Only while it can still fill from what is waiting in Kafka."""
    return 0 < buffered < most and waited < longest and behind >= most - buffered


def behind_in_kafka(highwater: Callable[[Any], int | None]) -> Behind:
    """Messages after the last buffered offset of each partition, by its high-water mark."""

    def behind(events: Sequence[Any]) -> int:
        last: dict[Any, int] = {}
        for event in events:
            message = event.message
            last[message.tp] = max(last.get(message.tp, -1), message.offset)
        total = 0
        for tp, offset in last.items():
            hw = highwater(tp)
            if hw is not None:
                total += max(0, hw - offset - 1)
        return total

    return behind


def take_batches(
    stream: Any, most: int, within: float, longest: float, behind: Behind
) -> AsyncIterator[list[Any]]:
    """Lists of at most ``most`` events; acked when the loop body that got them is done.

    Registered with the stream as faust registers its own take generators, so the stream's
    stop closes it (acks, processor removed) on any interpreter.
    """
    agen = _take(stream, most, within, longest, behind)
    active = getattr(stream, "_active_agens", None)
    if active is not None:
        active.add(agen)
    return agen


class _Buffer:
    """The events taken so far; ``add`` is the stream processor that fills it."""

    def __init__(self, stream: Any, most: int) -> None:
        self.stream = stream
        self.most = most
        self.events: list[Any] = []
        self.full = asyncio.Event()
        self.consumed = asyncio.Event()
        self.consuming: asyncio.Future[Any] | None = None

    async def add(self, value: Any) -> Any:
        """Buffer the stream's current event (waits while a batch is processed or it is full)."""
        stream = self.stream
        try:
            if self.consuming is not None:
                try:
                    await self.consuming  # the batch before is being processed
                finally:
                    self.consuming = None
            event = stream.current_event
            if event is None:
                raise RuntimeError("take buffer found current_event is None")
            self.events.append(event)
            if len(self.events) >= self.most:
                self.full.set()
                self.consumed.clear()
                await stream.wait(self.consumed)  # never more than `most` in a batch
        except CancelledError:
            raise
        except Exception as exc:
            stream.log.exception("Error adding to take buffer: %r", exc)
            await stream.crash(exc)
        return value

    def should_wait(self, waited: float, longest: float, behind: Behind) -> bool:
        """Keep filling: not full, and Kafka holds enough for the room left."""
        if self.full.is_set() or not self.events:
            return False
        return keep_waiting(len(self.events), self.most, behind(self.events), waited, longest)


async def _take(
    stream: Any, most: int, within: float, longest: float, behind: Behind
) -> AsyncIterator[list[Any]]:
    buffer = _Buffer(stream, most)
    channel_it = aiter(stream.channel)
    enable_acks = stream.enable_acks
    stream.enable_acks = False  # acked below, once the batch was processed
    stream.add_processor(buffer.add)
    stream._enable_passive(channel_it)
    try:
        while not stream.should_stop:
            await stream.wait_for_stopped(buffer.full, timeout=within)
            waited = within
            while buffer.should_wait(waited, longest, behind):
                await stream.wait_for_stopped(buffer.full, timeout=within)
                waited += within
            if buffer.events:
                buffer.consuming = stream.loop.create_future()
                batch = list(buffer.events)
                try:
                    yield batch
                finally:
                    del buffer.events[: len(batch)]
                    for event in batch:
                        await stream.ack(event)
                    notify(buffer.consuming)
                    buffer.full.clear()
                    buffer.consumed.set()
    finally:
        stream.enable_acks = enable_acks
        stream._processors.remove(buffer.add)
