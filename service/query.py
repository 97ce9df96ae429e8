"""Read models for the web API, pure: window counts and alerts from table contents."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from service.aggregate import bucket_count, bucket_statements
from service.windows import BUCKET, WindowSpec


def _parse_buckets(
    items: Iterable[tuple[str, Any]],
) -> tuple[dict[str, dict[datetime, Any]], datetime | None]:
    per_code: dict[str, dict[datetime, Any]] = defaultdict(dict)
    stream_time: datetime | None = None
    for key, value in items:
        if key.startswith("~stream-time|"):
            t = datetime.fromisoformat(value)
            stream_time = t if stream_time is None or t > stream_time else stream_time
            continue
        code, _, bucket = key.partition("|")
        if value:
            per_code[code][datetime.fromisoformat(bucket)] = value
    return per_code, stream_time


def region_windows(
    items: Iterable[tuple[str, Any]],
    windows: tuple[WindowSpec, ...],
    *,
    grace: timedelta,
    include_closed: bool = False,
) -> dict[str, Any]:
    """Per window kind, each region's windows with counts, largest count first.

    Tumbling and night windows: every window still open (its end plus the grace period is
    after the stream time), or all with ``include_closed``. Hopping windows: the latest
    window per region (the rolling figure as of the stream time).
    """
    per_code, stream_time = _parse_buckets(items)
    out: dict[str, list[dict[str, Any]]] = {}
    for spec in windows:
        rows: list[dict[str, Any]] = []
        for code, buckets in per_code.items():
            starts: set[tuple[datetime, datetime]] = set()
            if spec.step < spec.size and stream_time is not None:
                latest = spec.latest(stream_time)
                if latest:
                    starts.add(latest)
            else:
                for b in buckets:
                    starts.update(spec.containing(b))
            for start, end in starts:
                if not include_closed and stream_time is not None and end + grace < stream_time:
                    continue
                count = 0
                statements: dict[str, Any] = {}
                t = start
                while t < end:
                    state = buckets.get(t)
                    count += bucket_count(state)
                    statements.update(bucket_statements(state))
                    t += BUCKET
                if not statements:
                    continue
                region = next(iter(statements.values())).get("region", code)
                rows.append(
                    {
                        "region": region,
                        "code": code,
                        "window_start": start.isoformat(),
                        "window_end": end.isoformat(),
                        "count": count,
                        "statements": len(statements),
                        "outlets": sum(int(s.get("outlets", 1)) for s in statements.values()),
                    }
                )
        rows.sort(key=lambda r: (-r["count"], r["region"], r["window_start"]))
        out[spec.name] = rows
    return {
        "stream_time": stream_time.isoformat() if stream_time else None,
        "windows": out,
    }
