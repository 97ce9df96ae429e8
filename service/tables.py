"""faust Tables as the plain mappings the pure stage functions expect, with cheaper reads.

A read through a faust ``Table`` checks the key and then fetches it (two store lookups: two
RocksDB reads with the production store) and calls every sensor (faust's own and the
Prometheus one) on the way; the region stage reads some forty buckets per update. Reads here
go straight to the table's store, once; writes and deletes still go through the table, so
each one is written to its changelog as before.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, ItemsView, Iterator, KeysView, MutableMapping
from contextlib import contextmanager
from typing import Any

from faust.streams import _current_event  # faust keeps no public setter


class StoreReads(MutableMapping[str, Any]):
    """A faust Table read from its store and written through the table (changelogged)."""

    __slots__ = ("_plain", "table")

    def __init__(self, table: Any) -> None:
        self.table = table
        self._plain: dict[Any, Any] | None = None

    def _dict(self) -> dict[Any, Any] | None:
        """The memory store's own dict (a miss is then a plain ``dict.get``, not a KeyError)."""
        plain = self._plain
        if plain is None:
            inner = getattr(self.table.data, "data", None)
            if type(inner) is dict:
                plain = self._plain = inner
        return plain

    @property
    def name(self) -> str:
        """The table's name (for metrics)."""
        return str(self.table.name)

    def get(self, key: str, default: Any = None) -> Any:
        """The stored value, or ``default`` (tables here store no None values)."""
        plain = self._plain if self._plain is not None else self._dict()
        if plain is not None:
            return plain.get(key, default)
        try:
            return self.table.data[key]
        except KeyError:
            return default

    def __getitem__(self, key: str) -> Any:
        return self.table.data[key]

    def __contains__(self, key: object) -> bool:
        return key in self.table.data

    def __setitem__(self, key: str, value: Any) -> None:
        self.table[key] = value

    def __delitem__(self, key: str) -> None:
        del self.table[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)

    def keys(self) -> KeysView[str]:
        return self.table.keys()  # type: ignore[no-any-return]

    def items(self) -> ItemsView[str, Any]:
        return self.table.items()  # type: ignore[no-any-return]


@contextmanager
def acting_for(event: Any) -> Iterator[None]:
    """Run the block as if faust were iterating ``event``: table reads and writes use its partition.

    faust picks a table write's changelog partition (and, with RocksDB, the store partition
    it reads and writes) from the stream's current event, a context variable set in the task
    that iterates the stream. ``stream.take_events`` iterates in a background task, so the
    agent's own task has no current event: the stages set it per message with this.
    """
    token = _current_event.set(weakref.ref(event) if event is not None else None)
    try:
        yield
    finally:
        _current_event.reset(token)


def write_for(event: Any, apply: Callable[[], None]) -> None:
    """:meth:`service.batching.Overlay.flush`'s writer: one table write as ``event``'s."""
    with acting_for(event):
        apply()
