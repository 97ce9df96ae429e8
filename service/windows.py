"""Event-time windows, pure: which windows a statement falls in, built from hourly buckets.

Every window skytally keeps (1 h tumbling, rolling 24 h, the 20:00-07:00 Moscow "night")
is a union of whole UTC hours, so state is kept once per region and hour bucket and each
window's count is the sum of its buckets. One table write per region and statement,
whatever the number of windows, instead of one write per window (faust writes a changelog
record per table update, see ../shared/BROKERS.md).

A window is ``[anchor + k*step, anchor + k*step + size)`` for integer ``k``:
tumbling has ``step == size``, hopping ``step < size``, and the night ``step > size``
(a gap during the day).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from service.errors import ConfigError

BUCKET = timedelta(hours=1)
#: Hour buckets whose windows each WindowSpec remembers (about half a year of event time; a
#: backfill over years starts over rather than holding every hour it ever saw).
HOURS_REMEMBERED = 4_096
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_SPEC = re.compile(r"^(\d+)h(?:/(\d+)h)?$")


@dataclass(frozen=True)
class WindowSpec:
    """One kind of window: a name, its length, its step and its alignment to UTC."""

    name: str
    size: timedelta
    step: timedelta
    anchor: timedelta = timedelta(0)
    #: containing() per hour bucket (None when the spec is not made of whole hours).
    _by_hour: dict[datetime, tuple[tuple[datetime, datetime], ...]] | None = field(
        default=None, init=False, compare=False, hash=False, repr=False
    )

    def __post_init__(self) -> None:
        hourly = not (self.size % BUCKET or self.step % BUCKET or self.anchor % BUCKET)
        object.__setattr__(self, "_by_hour", {} if hourly else None)

    @property
    def hourly(self) -> bool:
        """Do its windows start and end on whole hours (every instant of an hour in the same ones)?"""
        return self._by_hour is not None

    def containing(self, t: datetime) -> tuple[tuple[datetime, datetime], ...]:
        """The windows of this kind that contain instant ``t`` (newest first).

        Windows start and end on whole hours, so every instant of an hour bucket is in the
        same windows: they are computed once per kind and hour (the region stage asks some
        thirty times per update).
        """
        cache = self._by_hour
        if cache is None:  # not whole hours: computed each time
            return tuple(self._containing(t))
        hour = t.replace(minute=0, second=0, microsecond=0) if t.tzinfo is UTC else bucket_of(t)
        windows = cache.get(hour)
        if windows is None:
            if len(cache) >= HOURS_REMEMBERED:
                cache.clear()
            windows = cache[hour] = tuple(self._containing(hour))
        return windows

    def _containing(self, t: datetime) -> Iterator[tuple[datetime, datetime]]:
        offset = t - EPOCH - self.anchor
        k = offset // self.step
        while True:
            start = EPOCH + self.anchor + k * self.step
            end = start + self.size
            if end <= t:
                return
            if start <= t:
                yield start, end
            k -= 1

    def latest(self, t: datetime) -> tuple[datetime, datetime] | None:
        """The newest window of this kind that contains ``t``, if any."""
        windows = self.containing(t)
        return windows[0] if windows else None

    @property
    def rolling(self) -> bool:
        """Hopping windows (step shorter than the size) are a rolling count: "the last 24 h"."""
        return self.step < self.size

    def trailing(self, t: datetime) -> tuple[datetime, datetime] | None:
        """The window containing ``t`` that ends first: the rolling count as of ``t``."""
        windows = self.containing(t)
        return windows[-1] if windows else None


#: The night as sources use it: 20:00-07:00 Moscow time (UTC+3 all year) = 17:00-04:00 UTC.
NIGHT = WindowSpec("night", size=timedelta(hours=11), step=timedelta(hours=24), anchor=timedelta(hours=17))


def parse_windows(text: str) -> tuple[WindowSpec, ...]:
    """Parse ``SKYTALLY_WINDOWS``: e.g. ``1h,24h/1h,night``.

    ``Nh`` is tumbling, ``Nh/Mh`` hopping with step M, ``night`` the 20:00-07:00 MSK night.
    """
    specs: list[WindowSpec] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        if item == "night":
            specs.append(NIGHT)
            continue
        match = _SPEC.match(item)
        if not match:
            raise ConfigError(
                f"window {item!r} is not understood: use 'Nh' (tumbling), 'Nh/Mh' (hopping) or 'night'"
            )
        size = timedelta(hours=int(match.group(1)))
        step = timedelta(hours=int(match.group(2))) if match.group(2) else size
        if size <= timedelta(0) or step <= timedelta(0) or step > size:
            raise ConfigError(f"window {item!r}: size and step must be positive and step <= size")
        specs.append(WindowSpec(item, size=size, step=step))
    if not specs:
        raise ConfigError("SKYTALLY_WINDOWS lists no window")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ConfigError(f"SKYTALLY_WINDOWS repeats a window: {names}")
    return tuple(specs)


def bucket_of(t: datetime) -> datetime:
    """The UTC hour bucket that contains ``t``."""
    return EPOCH + ((t - EPOCH) // BUCKET) * BUCKET


def buckets_in(start: datetime, end: datetime) -> list[datetime]:
    """Every hour bucket of the window ``[start, end)``."""
    out = []
    b = bucket_of(start)
    while b < end:
        out.append(b)
        b += BUCKET
    return out


def placement_time(period_end: datetime | None, published: datetime | None, fallback: datetime) -> datetime:
    """The instant a statement is counted at: period end, else publication, else message time.

    A period end is exclusive: "to 7:00" belongs to the window that ends at 7:00.
    """
    if period_end is not None:
        return to_utc(period_end) - timedelta(microseconds=1)
    if published is not None:
        return to_utc(published)
    return to_utc(fallback)


def to_utc(t: datetime) -> datetime:
    """Aware UTC datetime (naive values are taken as UTC)."""
    if t.tzinfo is None:
        return t.replace(tzinfo=UTC)
    return t.astimezone(UTC)
