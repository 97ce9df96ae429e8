"""A safe event-time line for deleting state: the slowest upstream channel's progress, pure.

Stage 1 stamps each result with the stream time of the reports partition it read it from
(:class:`service.pipeline.SourceClock`). Along one *channel* (a reports partition, through one
statement partition, into one region partition) messages keep their order, so the stamps
seen on a channel only grow. Across channels they do not: in a fast backfill one statement
partition can be days of event time ahead of another. State may only be deleted behind the
*slowest* channel, or a statement still on its way would find its hour gone.

A channel that has been quiet for ``idle`` (wall clock) stops holding the line back, as a
live feed's quiet sources would otherwise stop expiry for good; and nothing is deleted until
every expected channel (each reports partition through each statement partition) was seen.
The channel map lives in memory: a worker that takes a partition over starts without it and
deletes nothing until its channels are seen again (never too early). How far state *was*
deleted is persisted by the callers in their tables, so every owner drops statements for
deleted hours alike.

Work not yet committed holds deletion back too (:meth:`ChannelWatermark.hold`): a message
processed but not committed comes again after a crash, and its state must still be there
to re-send what it produced (the crash may have lost that). In a fast backfill the commit
interval covers days of event time, more than the retention, so the channels alone could
move the line past it (the fault suite caught this: a restarted worker dropped re-read
statements as expired whose counts had died with the killed one).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

#: A channel quiet for this long no longer holds the deletion line back.
IDLE = timedelta(minutes=5)


class ChannelWatermark:
    """The newest stamp per (partition, channel), and the minimum over a partition's live channels."""

    def __init__(self, idle: timedelta = IDLE) -> None:
        self.idle = idle
        self._seen: dict[int, dict[str, tuple[datetime, datetime]]] = {}
        #: Per partition, (offset, oldest hour the message needs) of processed messages not yet
        #: committed, as a monotonic queue: the front holds the minimum.
        self._pending: dict[int, deque[tuple[int, datetime]]] = {}

    def note(self, partition: int, channel: str, stamp: datetime, now: datetime) -> None:
        """A message stamped ``stamp`` came through ``channel`` into ``partition`` at wall time ``now``."""
        channels = self._seen.setdefault(partition, {})
        previous = channels.get(channel)
        newest = stamp if previous is None or stamp > previous[0] else previous[0]
        channels[channel] = (newest, now)

    def line(
        self, partition: int, now: datetime, required: set[str] | frozenset[str] = frozenset()
    ) -> datetime | None:
        """The oldest newest-stamp among ``partition``'s channels heard from within ``idle``.

        None until every ``required`` channel has been heard from at least once: before that a
        channel not yet seen may be far behind the ones seen.
        """
        channels = self._seen.get(partition, {})
        if not required <= channels.keys():
            return None
        cutoff = now - self.idle
        return min((stamp for stamp, seen in channels.values() if seen > cutoff), default=None)

    def forget(self, partition: int) -> None:
        """Drop a partition's channels (it moved to another worker)."""
        self._seen.pop(partition, None)

    def hold(self, partition: int, offset: int, needs: datetime, committed: int | None) -> None:
        """Message ``offset`` of ``partition`` needs state from ``needs`` on until it is committed.

        ``committed``: the partition's committed offset (the next offset a restarted consumer
        reads; None before the first commit): messages before it are released.
        """
        pending = self._pending.setdefault(partition, deque())
        if committed is not None:
            while pending and pending[0][0] < committed:
                pending.popleft()
        while pending and pending[-1][1] >= needs:
            pending.pop()  # released no later than this message, and needs no older state
        pending.append((offset, needs))

    def held(self, partition: int, line: datetime) -> datetime:
        """``line``, or the oldest hour uncommitted work still needs when that is older."""
        pending = self._pending.get(partition)
        return min(line, pending[0][1]) if pending else line

    def holding(self, partition: int) -> int:
        """How many messages of ``partition`` hold deletion back (for tests and diagnostics)."""
        return len(self._pending.get(partition, ()))
