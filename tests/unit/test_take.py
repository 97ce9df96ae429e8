"""Batches that fill while a backlog waits (service.take), over a stream that behaves as faust's.

What a user would notice: worked through a backlog, a stage takes full batches (fewer table
writes and window counts per report); at a trickle a batch still goes after the short wait,
and every event is acked once, after its batch was processed.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from service.take import behind_in_kafka, keep_waiting, take_batches


@dataclass(frozen=True)
class Message:
    tp: str
    offset: int


@dataclass(frozen=True)
class Event:
    message: Message


@dataclass
class FakeStream:
    """The parts of ``faust.Stream`` a take generator uses; events arrive every ``gap`` seconds."""

    events: list[Event]
    gap: float
    loop: Any = None
    enable_acks: bool = True
    should_stop: bool = False
    current_event: Event | None = None
    acked: list[Event] = field(default_factory=list)
    _processors: list[Any] = field(default_factory=list)
    _active_agens: set[Any] = field(default_factory=set)

    def add_processor(self, fun: Any) -> None:
        self._processors.append(fun)

    def _enable_passive(self, channel_it: Any) -> None:
        self.loop = asyncio.get_running_loop()
        self._feeder = self.loop.create_task(self._feed())

    async def _feed(self) -> None:
        for event in self.events:
            await asyncio.sleep(self.gap)
            self.current_event = event
            for fun in list(self._processors):
                await fun(event)

    async def wait_for_stopped(self, event: asyncio.Event, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def wait(self, event: asyncio.Event) -> None:
        await event.wait()

    async def ack(self, event: Event) -> None:
        self.acked.append(event)

    @property
    def channel(self) -> Any:
        return self

    def __aiter__(self) -> Any:
        return self

    async def __anext__(self) -> Any:  # the channel iterator (only handed to _enable_passive)
        raise StopAsyncIteration


def _events(n: int, tp: str = "t-0") -> list[Event]:
    return [Event(Message(tp, i)) for i in range(n)]


async def _take_all(
    stream: FakeStream, most: int, within: float, longest: float, highwater: int
) -> list[int]:
    sizes: list[int] = []
    taken = 0
    batches = take_batches(stream, most, within, longest, behind_in_kafka(lambda tp: highwater))
    async for batch in batches:
        assert not set(batch) & set(stream.acked)  # acked only after the batch was processed
        sizes.append(len(batch))
        taken += len(batch)
        if taken == len(stream.events):
            break
    await batches.aclose()  # type: ignore[attr-defined]  # (as the stream's stop does)
    return sizes


async def test_backlog_batches_are_full() -> None:
    """Kafka holds 200 messages more: batches fill to 50 although the short wait is 1 ms."""
    stream = FakeStream(_events(200), gap=0.0005)
    sizes = await _take_all(stream, most=50, within=0.001, longest=5.0, highwater=200)
    assert [50, 50, 50, 50] == sizes
    assert stream.events == stream.acked  # each once, in order


async def test_trickle_goes_after_the_short_wait() -> None:
    """Nothing waiting in Kafka (high-water mark at the last buffered offset): small batches."""
    stream = FakeStream(_events(6), gap=0.02)
    sizes = await _take_all(stream, most=50, within=0.005, longest=5.0, highwater=0)
    assert len(sizes) >= 3
    assert sum(sizes) == 6
    assert stream.events == stream.acked


def test_keep_waiting_only_while_the_batch_can_fill() -> None:
    assert keep_waiting(buffered=10, most=50, behind=40, waited=0.02, longest=0.25)
    assert not keep_waiting(buffered=10, most=50, behind=39, waited=0.02, longest=0.25)
    assert not keep_waiting(buffered=10, most=50, behind=1000, waited=0.25, longest=0.25)
    assert not keep_waiting(buffered=0, most=50, behind=1000, waited=0.02, longest=0.25)
    assert not keep_waiting(buffered=50, most=50, behind=1000, waited=0.02, longest=0.25)


def test_behind_counts_past_the_last_buffered_offset_of_each_partition() -> None:
    events = [Event(Message("a", 3)), Event(Message("a", 7)), Event(Message("b", 1))]
    highwaters = {"a": 10, "b": 2}
    assert 2 + 0 == behind_in_kafka(highwaters.get)(events)
    assert 0 == behind_in_kafka(lambda tp: None)(events)
