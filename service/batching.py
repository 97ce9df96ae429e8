"""Batched table writes and coalesced outputs for the stateful stages, pure (no faust).

faust writes one changelog record per table assignment and the stages produce several
output records per input; at a few hundred microseconds of framework work per record, the
records, not the domain logic, were most of the cost (README, "Where the time goes"). The
statement and region stages therefore take their input in batches (faust's
``stream.take_events``) and run the same pure per-message functions against an
:class:`Overlay` of each table: reads see the batch's own writes, and at the end of the batch
every key that changed is written once. Window counts go to a compacted topic, so only the
last count per key in a batch is published (:class:`Coalesced`).

Crash safety is unchanged: faust acks a batch's events only after the agent finished the
batch (flushed tables, sent outputs), and commits only acked offsets after flushing the
producer; a crash before that redelivers the whole batch, which the idempotent merges absorb.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, MutableMapping
from typing import Any, Generic, TypeVar

#: A key deleted in the batch (distinct from any stored value).
_DELETED: Any = object()
#: A key read in the batch and found missing.
_MISSING: Any = object()

T = TypeVar("T")


class Overlay(MutableMapping[str, Any]):
    """A table seen through one batch: writes are kept and written once per key by :meth:`flush`.

    :meth:`use` is called before each message with its tag (the faust event) and scope (its
    partition). Every write remembers the tag current when it was made and :meth:`flush`
    hands it back, so the write is made in the context of the message that caused it (faust
    picks the changelog and store partition from it). Reads are remembered for the batch per
    scope (the RocksDB store answers a read from the current event's partition only; the
    region stage reads the same hour buckets for every window of every update).

    Iteration and :meth:`items` go over the whole table (every partition, as faust's own
    iteration does) with the batch's writes laid over it.
    """

    def __init__(self, table: MutableMapping[str, Any]) -> None:
        self.table = table
        self.tag: Any = None
        self.scope: Any = None
        self._writes: dict[str, tuple[Any, Any]] = {}
        self._reads: dict[tuple[Any, str], Any] = {}

    def use(self, tag: Any, scope: Any) -> None:
        """The message that the next reads and writes are for, and its scope (partition)."""
        self.tag = tag
        self.scope = scope

    # --- reads -------------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        """The batch's value of ``key``: its own write, else the table's."""
        write = self._writes.get(key)
        if write is not None:
            value = write[0]
            return default if value is _DELETED else value
        cached = (self.scope, key)
        value = self._reads.get(cached, _MISSING)
        if value is _MISSING and cached not in self._reads:
            value = self._reads[cached] = self.table.get(key, _MISSING)
        return default if value is _MISSING else value

    def __getitem__(self, key: str) -> Any:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key, _MISSING) is not _MISSING

    def _pairs(self) -> Iterator[tuple[str, Any]]:
        writes = dict(self._writes)
        for key, value in list(self.table.items()):
            write = writes.pop(key, None)
            if write is None:
                yield key, value
            elif write[0] is not _DELETED:
                yield key, write[0]
        for key, (value, _) in writes.items():  # new in this batch
            if value is not _DELETED:
                yield key, value

    def __iter__(self) -> Iterator[str]:
        for key, _ in self._pairs():
            yield key

    def items(self) -> ItemsView[str, Any]:
        """Every (key, value) of the table with the batch's writes laid over it."""
        return _OverlayItems(self)

    def __len__(self) -> int:
        return sum(1 for _ in self._pairs())

    # --- writes ------------------------------------------------------------------------------
    def __setitem__(self, key: str, value: Any) -> None:
        self._writes[key] = (value, self.tag)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._writes[key] = (_DELETED, self.tag)

    @property
    def pending(self) -> int:
        """Keys written or deleted in the batch and not flushed yet."""
        return len(self._writes)

    def _apply_for(self, key: str, value: Any) -> Callable[[], None]:
        table = self.table
        if value is _DELETED:

            def delete() -> None:
                if key in table:  # not when created and deleted within the batch
                    del table[key]

            return delete
        return lambda: table.__setitem__(key, value)

    def flush(self, write: Callable[[Any, Callable[[], None]], None] | None = None) -> int:
        """Write every changed key once to the table; returns how many keys were written.

        ``write(tag, apply)``: runs ``apply`` (one table assignment or deletion) in the context
        of the write's tag; by default ``apply`` is simply called. The overlay is empty
        afterwards and takes the next batch.
        """
        written = 0
        for key, (value, tag) in self._writes.items():
            apply = self._apply_for(key, value)
            if write is None:
                apply()
            else:
                write(tag, apply)
            written += 1
        self._writes.clear()
        self._reads.clear()
        return written


class _OverlayItems(ItemsView[str, Any]):
    """``Overlay.items()``: one pass over the table's items, not a read per key."""

    _mapping: Overlay

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return self._mapping._pairs()


class Coalesced(Generic[T]):
    """Records for a compacted topic: within a batch only the last value per key is kept.

    Keys keep the order they were first written in (a dashboard reading the topic sees the
    windows of a batch in the order they changed).
    """

    def __init__(self) -> None:
        self._latest: dict[str, T] = {}
        self.superseded = 0

    def put(self, key: str, value: T) -> None:
        """Keep ``value`` as ``key``'s record, replacing an earlier one of the batch."""
        if key in self._latest:
            self.superseded += 1
        self._latest[key] = value

    def drain(self) -> list[T]:
        """The kept records, emptied."""
        out = list(self._latest.values())
        self._latest.clear()
        return out

    def __len__(self) -> int:
        return len(self._latest)


def group_by_partition(
    items: list[T], partition_of: Callable[[T], int]
) -> dict[int, list[T]]:
    """``items`` grouped by destination partition, each group in the order given."""
    groups: dict[int, list[T]] = {}
    for item in items:
        groups.setdefault(partition_of(item), []).append(item)
    return groups
