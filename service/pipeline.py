"""What each agent does to one message, as plain functions over mapping-like tables.

The agents pass faust Tables; tests pass dicts. Nothing here imports faust or Kafka.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, MutableMapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

import structlog
from pydantic import ValidationError

from service.aggregate import (
    MAX_URLS,
    RegionUpdate,
    bucket_statements,
    live_versions,
    merge_bucket,
    merge_statement,
    region_updates,
    reinstate,
    replaced_by,
    revision_slot,
    settle_revisions,
    statement_fingerprint,
    supersede,
    version_of,
)
from service.batching import Coalesced, group_by_partition
from service.decode import decode_report
from service.errors import InputError
from service.extract import extract_report
from service.models import AlertEvent, ExtractionResult, RegionCount
from service.watermark import ChannelWatermark
from service.windows import BUCKET, WindowSpec, bucket_of, buckets_in, placement_time, to_utc

log = structlog.get_logger("skytally.pipeline")

Table = MutableMapping[str, Any]

#: Recent alert events kept in memory for /api/alerts and the dashboard.
RECENT_ALERTS = 200


class RuntimeLike(Protocol):
    """What the region stage needs from the process runtime."""

    windows: tuple[WindowSpec, ...]
    extra: dict[str, Any]

    @property
    def metrics(self) -> Any: ...

    @property
    def settings(self) -> Any: ...


def read_message(raw: bytes | None, *, max_bytes: int, message_time: datetime) -> ExtractionResult:
    """Stage 1: decode and extract one message; InputError for anything that cannot be read."""
    report = decode_report(raw, max_bytes=max_bytes, message_time=message_time)
    assert report.id is not None  # decode_report fills it
    published = report.published_at
    try:
        result = extract_report(
            report.text,
            report_id=report.id,
            published=published.date() if published else None,
            language=report.language,
        )
    except (ValueError, ArithmeticError, LookupError, TypeError, RecursionError) as exc:
        raise InputError("extraction_error", f"extractor failed: {exc!r}", stage="extract") from exc
    result.source = report.source
    result.url = report.url
    result.published_at = published
    result.language = result.language or report.language
    period_end = result.period_end
    reference = published or message_time
    if period_end is not None and to_utc(period_end) > to_utc(reference) + FUTURE_TOLERANCE:
        # A report cannot describe what happens after it was published: a misread date would
        # carry its partition's stream time far ahead and make everything after it late.
        result.warnings.append("period_after_publication")
        period_end = None
    result.event_time = placement_time(period_end, published, message_time)
    result.fingerprint = statement_fingerprint(result)
    return result


#: How far a stated period may end after the report's publication: a day (publication times
#: are often a date without a time, read as midnight) and three hours of clock and zone slack.
FUTURE_TOLERANCE = timedelta(hours=27)


def merge_result(
    statements: Table,
    value: dict[str, Any],
    partition: int = 0,
    keep: timedelta | None = None,
    watermark: ChannelWatermark | None = None,
    partitions: int = 1,
    offset: int | None = None,
    committed: int | None = None,
) -> list[RegionUpdate] | None:
    """Stage 2: merge an extraction result into its statement; None when nothing new.

    A report from the same source for the same stated period as an earlier statement with
    other figures is a revision: the newest version (by publication time) is counted, the
    others are withdrawn, whatever order they arrive in.

    ``keep`` and ``watermark``: statements whose hour is older than ``keep`` behind the slowest
    source channel are deleted (see :func:`keep_for`), and reports of them dropped as expired;
    ``partitions``: how many reports partitions feed the stage (each is a channel);
    ``offset`` and ``committed``: the message's offset and its partition's committed offset
    (state a redelivery would need is kept until it is committed).
    """
    try:
        result = ExtractionResult.model_validate(value)
    except ValidationError as exc:
        raise InputError("invalid_schema", f"not an extraction result: {exc}"[:1000], stage="merge") from exc
    if not result.interceptions or result.fingerprint is None:
        return []
    fingerprint = result.fingerprint
    event_time = result.event_time or result.published_at or datetime.now(UTC)
    if (
        keep is not None
        and watermark is not None
        and not _track_statement(
            statements, result, event_time, partition, keep, watermark, watermark_channels(partitions),
            (offset, committed),
        )
    ):
        return []
    withdrawn: list[RegionUpdate] = []
    slot = revision_slot(result)
    known = statements.get(fingerprint)
    if known is not None and result.id in known["reports"]:
        # Redelivered after a crash: the state may be ahead of the updates that reached the
        # region stage, so every version of the statement is sent again as it stands now
        # (the region stage ignores repeats).
        slot_state = statements.get(f"~revision|{slot}") if slot is not None else None
        versions = sorted(set((slot_state or {}).get("versions", {})) | {fingerprint})
        stored = [s for fp in versions if (s := statements.get(fp)) and s.get("regions")]
        again = [u for s in stored for u in region_updates(s)]
        return _stamped(again, result, partition) if again else None
    if slot is not None:
        slot_key = f"~revision|{slot}"
        regions = [row.code for row in result.interceptions]
        new_slot, lost, won = settle_revisions(
            statements.get(slot_key), fingerprint, version_of(result, event_time), regions
        )
        statements[slot_key] = new_slot
        for old, by in sorted(lost.items()):
            log.info("statement_revised", source=result.source, old=old, new=by)
            old_state, retract = supersede(statements.get(old), by, event_time)
            statements[old] = old_state
            withdrawn += retract
        for revived in sorted(won):  # an older version is the newest again (rare)
            state = reinstate(statements[revived])
            statements[revived] = state
            withdrawn += region_updates(state)
        if fingerprint not in live_versions(new_slot["versions"]):
            # An outdated version of what its source already revised: stored as withdrawn.
            # Its figures are kept (max-merged like any copy) in case it becomes the newest again.
            by = replaced_by(new_slot["versions"], fingerprint)
            state, _ = merge_statement(statements.get(fingerprint), result, event_time)
            state, retract = supersede(state, by, event_time)
            statements[fingerprint] = state
            withdrawn += retract
            return _stamped(withdrawn, result, partition) if withdrawn else None
        current = statements.get(fingerprint)
        if current is not None and current.get("superseded_by"):
            statements[fingerprint] = reinstate(current)
    state, updates = merge_statement(statements.get(fingerprint), result, event_time)
    if state is not statements.get(fingerprint):
        statements[fingerprint] = state
    if not updates and not withdrawn:
        return None
    return _stamped([*withdrawn, *updates], result, partition)


def keep_for(runtime: RuntimeLike) -> timedelta:
    """How long behind the stream time a statement's state is kept: grace, retention, longest window."""
    settings = runtime.settings
    longest = max((spec.size for spec in runtime.windows), default=timedelta(hours=1))
    return timedelta(hours=settings.grace_hours + settings.retention_hours) + longest


def expired_before_key(partition: int) -> str:
    """Where a partition's deletion line is kept: state of hours before it is gone."""
    return f"~expired-before|{partition}"


def _track_statement(
    statements: Table,
    result: ExtractionResult,
    event_time: datetime,
    partition: int,
    keep: timedelta,
    watermark: ChannelWatermark,
    required_sources: frozenset[str],
    position: tuple[int | None, int | None] = (None, None),
) -> bool:
    """Stage 2 state expiry; False when the statement's hour was already deleted (dropped).

    New statements are indexed by hour; hours behind the slowest source channel by more than
    ``keep`` are deleted (see :mod:`service.watermark`).
    """
    raw = statements.get(expired_before_key(partition))
    deleted_before = datetime.fromisoformat(raw) if raw else None
    hour = bucket_of(event_time)
    if deleted_before is not None and hour < deleted_before:
        log.warning(
            "expired_statement", stage="merge", report_id=result.id, event_time=event_time.isoformat()
        )
        return False
    assert result.fingerprint is not None
    slot = revision_slot(result)
    candidates = (result.fingerprint, f"~revision|{slot}" if slot else None)
    new_keys = [k for k in candidates if k and k not in statements]
    if new_keys:
        index_key = f"~expiry|{partition}|{hour.isoformat()}"
        statements[index_key] = [*(statements.get(index_key) or []), *new_keys]
    offset, committed = position
    if offset is not None:
        watermark.hold(partition, offset, hour, committed)
    if result.source_time is None or result.source_partition is None:
        return True
    now = datetime.now(UTC)
    watermark.note(partition, str(result.source_partition), result.source_time, now)
    line = watermark.line(partition, now, required_sources)
    if line is None:
        return True
    new_line = watermark.held(partition, bucket_of(line - keep))
    if deleted_before is not None and new_line <= deleted_before:
        return True
    # The first line of a partition deletes nothing older (a fresh table holds nothing older,
    # and an index older than a year of jump is left behind: both rare, both small).
    start = deleted_before if deleted_before is not None else new_line
    for gone in buckets_in(max(start, new_line - timedelta(days=366)), new_line):
        for key in statements.get(f"~expiry|{partition}|{gone.isoformat()}") or []:
            _drop(statements, key)
        _drop(statements, f"~expiry|{partition}|{gone.isoformat()}")
    statements[expired_before_key(partition)] = new_line.isoformat()
    return True


def _stamped(updates: list[RegionUpdate], result: ExtractionResult, partition: int) -> list[RegionUpdate]:
    """Carry stage 1's stamp (lateness is judged against it) and the channel each update takes."""
    if result.source_time is None:
        return updates
    source_time = result.source_time.isoformat()
    return [
        replace(u, source_time=source_time, source_partition=result.source_partition, via_partition=partition)
        for u in updates
    ]


class SourceClock:
    """Stream time per reports partition: the newest event time read there so far.

    Stage 1 stamps each result with it; the region stage judges lateness against the stream
    time of the partition the report came from, not against its own (which runs ahead of
    slower upstream partitions in a fast backfill). A partition that moves to another worker
    and back keeps an older value here: lateness is then judged leniently, never harshly.
    """

    def __init__(self) -> None:
        self._times: dict[int, datetime] = {}

    def stamp(self, result: ExtractionResult, partition: int) -> None:
        """Advance ``partition``'s stream time with ``result`` and record it on the result."""
        event_time = result.event_time
        current = self._times.get(partition)
        if event_time is not None and (current is None or event_time > current):
            current = self._times[partition] = event_time
        result.source_partition = partition
        result.source_time = current


@dataclass
class CountMessage:
    """One window count to publish on the region-counts topic."""

    key: str
    count: RegionCount
    _value: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def value(self) -> dict[str, Any]:
        """The message value (made when asked: a batch publishes only each window's last count)."""
        if self._value is None:
            self._value = self.count.model_dump(mode="json")
        return self._value


@dataclass
class RegionOutcome:
    """What stage 3 publishes for one update."""

    counts: list[CountMessage] = field(default_factory=list)
    alerts: list[AlertEvent] = field(default_factory=list)
    #: Alert events sent before, sent again after a redelivery (not counted again in metrics).
    resent: list[AlertEvent] = field(default_factory=list)
    late: bool = False


@dataclass
class RegionBatch:
    """What stage 3 publishes for a batch of messages: the last count per window, every alert.

    Counts go to a compacted topic keyed by window and region, so a count superseded within
    the batch is never sent; alert events are all sent, in order.
    """

    counts: Coalesced[CountMessage] = field(default_factory=Coalesced)
    alerts: list[AlertEvent] = field(default_factory=list)
    resent: list[AlertEvent] = field(default_factory=list)

    def add(self, outcome: RegionOutcome) -> None:
        """Fold one message's outcome in."""
        for message in outcome.counts:
            self.counts.put(message.key, message)
        self.alerts += outcome.alerts
        self.resent += outcome.resent


#: At most this many region updates per region-updates message (a message stays well under
#: Kafka's default 1 MB limit even with 20 outlet URLs per update).
UPDATES_PER_MESSAGE = 100


def region_items(value: Any) -> list[Any]:
    """The items of one region-updates message: a tick, one update, or a batch of updates.

    The statement stage sends ``{"updates": [...]}`` (one message per region partition and
    batch); single updates are what versions before batching sent.
    """
    if isinstance(value, dict) and isinstance(value.get("updates"), list):
        return list(value["updates"])
    return [value]


def apply_region_item(
    buckets: Table,
    alerts: Table,
    runtime: RuntimeLike,
    item: Any,
    partition: int,
    offset: int | None = None,
    committed: int | None = None,
    owed: Owed | None = None,
) -> RegionOutcome:
    """Stage 3 for one item of a region-updates message (see :func:`region_items`)."""
    if isinstance(item, dict) and "tick" in item:
        return apply_tick(buckets, alerts, runtime, datetime.fromisoformat(item["tick"]), partition, owed)
    if not isinstance(item, dict):
        raise InputError("invalid_schema", f"not a region update: {type(item).__name__}", stage="count")
    update = RegionUpdate.from_dict(item)
    return apply_region_update(buckets, alerts, runtime, update, partition, offset, committed, owed)


def update_messages(
    updates: list[RegionUpdate], partition_of: Any, per_message: int = UPDATES_PER_MESSAGE
) -> list[tuple[int, bytes, dict[str, Any]]]:
    """Stage 2's output for a batch: (partition, key, value) messages of up to ``per_message``
    updates each, every update on its region's partition, in the order they were made."""
    out: list[tuple[int, bytes, dict[str, Any]]] = []
    for partition, group in group_by_partition(updates, lambda u: int(partition_of(u.code))).items():
        for i in range(0, len(group), per_message):
            chunk = group[i : i + per_message]
            out.append((partition, chunk[0].code.encode(), {"updates": [u.to_dict() for u in chunk]}))
    return out


def window_count(buckets: Table, code: str, start: datetime, end: datetime) -> tuple[int, dict[str, Any]]:
    """A region's count over ``[start, end)`` and the statements behind it.

    The same as summing :func:`bucket_count` and merging :func:`bucket_statements` over the
    window's buckets, in one pass (stage 3 runs this for every window of every update).
    """
    total = 0
    statements: dict[str, Any] = {}
    for hour in _hours_iso(start, end):
        state = buckets.get(f"{code}|{hour}")
        if not state:
            continue
        for fp, entry in state["statements"].items():
            total += int(entry["count"])
            if not entry.get("retracted"):
                statements[fp] = entry
    return total, statements


_HOUR_ISO: dict[datetime, str] = {}


@lru_cache(maxsize=2_048)
def _hours_iso(start: datetime, end: datetime) -> tuple[str, ...]:
    """The ISO names of a window's hour buckets (the bucket keys' second half)."""
    return tuple(hour_iso(b) for b in buckets_in(start, end))


def hour_iso(hour: datetime) -> str:
    """``hour.isoformat()``, remembered: bucket keys name the same few hundred hours over and over."""
    text = _HOUR_ISO.get(hour)
    if text is None:
        if len(_HOUR_ISO) > 4_096:
            _HOUR_ISO.clear()
        text = _HOUR_ISO[hour] = hour.isoformat()
    return text


def region_count(
    buckets: Table, code: str, region: str, window: str, start: datetime, end: datetime, now: datetime
) -> tuple[RegionCount, dict[str, Any]]:
    """A region's count in one window, and the statements behind it."""
    total, statements = window_count(buckets, code, start, end)
    count = RegionCount(
        window=window,
        window_start=start,
        window_end=end,
        region=region,
        code=code,
        count=total,
        statements=len(statements),
        outlets=sum(int(s.get("outlets", 1)) for s in statements.values()),
        urls=_window_urls(statements),
        updated_at=now,
    )
    return count, statements


def _urls_of(entry: dict[str, Any]) -> Any:
    return entry.get("urls") or ((entry["url"],) if entry.get("url") else ())


def statement_urls(entry: dict[str, Any]) -> list[str]:
    """The outlet URLs of one stored statement (entries from before URL lists: its one URL)."""
    return list(_urls_of(entry))


def _largest_first(s: dict[str, Any]) -> int:
    return -int(s["count"])


def _first_urls(rows: Any) -> list[str]:
    out: dict[str, None] = {}  # (ordered, unique)
    for s in rows:
        for url in _urls_of(s):
            out[url] = None
            if len(out) == MAX_URLS:
                return list(out)
    return list(out)


def _window_urls(statements: dict[str, Any]) -> list[str]:
    """The outlet URLs of a window's statements, largest figure first, at most MAX_URLS.

    Every statement has at least one URL as a rule, so the MAX_URLS largest statements are
    enough; all of them are sorted only when those fall short.
    """
    values = statements.values()
    if len(values) > MAX_URLS:
        urls = _first_urls(heapq.nsmallest(MAX_URLS, values, key=_largest_first))
        if len(urls) == MAX_URLS:
            return urls
    return _first_urls(sorted(values, key=_largest_first))


def count_message(
    buckets: Table, update: RegionUpdate, window: str, start: datetime, end: datetime, now: datetime
) -> tuple[CountMessage, dict[str, Any]]:
    """The region-counts record of one window of the update's region, and its statements."""
    count, statements = region_count(buckets, update.code, update.region, window, start, end, now)
    key = f"{window}|{start.isoformat()}|{update.code}"
    return CountMessage(key, count), statements


def rolling_alerts(
    buckets: Table,
    alerts: Table,
    runtime: RuntimeLike,
    code: str,
    region: str,
    at: datetime,
    now: datetime,
    partition: int,
) -> list[AlertEvent]:
    """Evaluate the rolling windows' alerts of one region on its rolling count as of ``at``."""
    events: list[AlertEvent] = []
    for spec in rolling_specs(runtime):
        events += rolling_alert(buckets, alerts, runtime, spec, code, region, at, now, partition)
    return events


def rolling_alert(
    buckets: Table,
    alerts: Table,
    runtime: RuntimeLike,
    spec: WindowSpec,
    code: str,
    region: str,
    at: datetime,
    now: datetime,
    partition: int,
) -> list[AlertEvent]:
    """Evaluate one rolling window's alert of one region on its rolling count as of ``at``."""
    from service import alert_flow  # late import: alert_flow imports this module's helpers

    window = spec.trailing(at)
    if window is None:
        return []
    count, statements = region_count(buckets, code, region, spec.name, window[0], window[1], now)
    return alert_flow.on_rolling(alerts, runtime, count, evidence_of(statements), now, partition)


def evidence_of(statements: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """Alert evidence from the statements of a window, largest figure first.

    Plain dicts shaped as ``AlertEvidence`` in JSON: stage 3 evaluates the rules on every
    window count, and an event (rare) is the only place that needs the models.
    """
    rows = heapq.nsmallest(10, statements.values(), key=lambda s: -int(s["count"]))
    return tuple(
        {
            "report_id": s["report_id"],
            "source": s.get("source"),
            "url": s.get("url"),
            "count": s["count"],
            "claimed_total": s.get("claimed_total"),
            "evidence": s.get("evidence", "")[:500],
            "confidence": s.get("confidence", 0.0),
            "outlets": s.get("outlets", 1),
            "urls": statement_urls(s),
        }
        for s in rows
    )


def stream_time_key(partition: int) -> str:
    """Where a partition's event-time high-water mark is kept in the buckets table."""
    return f"~stream-time|{partition}"


def _late_reference(update: RegionUpdate, stream_time: datetime) -> datetime:
    """The stream time an update's lateness is judged against.

    Updates stamped by stage 1 are judged against the stream time of the reports partition
    they came from *when stage 1 read them*: updates of one reports partition reach a region
    partition through different statement partitions, in any order, so this partition's own
    view of that source would run ahead. (A restarted stage 1 stamps lower times for a while:
    lenient, never harsh.) Unstamped updates are judged against this partition's stream time.
    """
    if update.source_time is None:
        return stream_time
    return datetime.fromisoformat(update.source_time).astimezone(UTC)


def _republish(
    buckets: Table, alerts: Table, runtime: RuntimeLike, update: RegionUpdate, event_time: datetime
) -> RegionOutcome:
    """A repeated update (a redelivery after a crash): publish the windows' counts and last alerts again.

    The tables may have been saved while the messages computed from them died with the process;
    repeating them is harmless (compacted topic, alert ids that receivers deduplicate).
    """
    outcome = RegionOutcome()
    now = datetime.now(UTC)
    for spec in runtime.windows:
        for start, end in spec.containing(event_time):
            message, statements = count_message(buckets, update, spec.name, start, end, now)
            if not statements and not message.count.count:
                continue
            outcome.counts.append(message)
            last = (alerts.get(message.key) or {}).get("last")
            if last:
                outcome.resent.append(AlertEvent.model_validate(last))
    return outcome


def expiry_line(stream_time: datetime, runtime: RuntimeLike) -> datetime:
    """Hour buckets before this line are deleted, and statements for them dropped as expired.

    Retention hours after the longest window containing an hour has closed (grace included).
    """
    settings = runtime.settings
    longest = max((spec.size for spec in runtime.windows), default=timedelta(hours=1))
    keep = timedelta(hours=settings.grace_hours + settings.retention_hours) + longest
    return bucket_of(stream_time - keep)


def _expired(
    buckets: Table, runtime: RuntimeLike, update: RegionUpdate, event_time: datetime, partition: int
) -> bool:
    """Does a window of the update's hour reach into deleted hours? (then it is dropped and counted)

    Recomputing such a window would sum what is left of it and publish a count too low, so a
    statement (or a redelivery) for any hour of a partly deleted window is dropped as expired.
    """
    raw = buckets.get(expired_before_key(partition))
    if raw is None:
        return False
    if _oldest_window_start(runtime, event_time) >= datetime.fromisoformat(raw):
        return False
    runtime.metrics.late_statements.labels(window="expired").inc()
    log.warning(
        "expired_statement",
        code=update.code,
        event_time=update.event_time,
        deleted_before=raw,
        retention_hours=runtime.settings.retention_hours,
    )
    return True


@lru_cache(maxsize=8)
def watermark_channels(partitions: int, via: int | None = None) -> frozenset[str]:
    """The channels a partition expects: every source partition, through every statement partition."""
    if via is None:
        return frozenset(str(src) for src in range(partitions))
    return frozenset(f"{q}|{src}" for q in range(via) for src in range(partitions))


def region_watermark(runtime: RuntimeLike) -> ChannelWatermark:
    """The region stage's channel watermark (in memory, per worker)."""
    wm: ChannelWatermark = runtime.extra.setdefault("region_watermark", ChannelWatermark())
    return wm


def _oldest_window_start(runtime: RuntimeLike, event_time: datetime) -> datetime:
    """The start of the oldest window containing ``event_time`` (the oldest hour it counts in)."""
    windows = tuple(runtime.windows)
    if _hourly(windows):  # every instant of an hour is in the same windows: once per hour
        return _oldest_start(windows, bucket_of(event_time))
    starts = [start for spec in windows for start, _ in spec.containing(event_time)]
    return min(starts, default=bucket_of(event_time))


@lru_cache(maxsize=8)
def _hourly(windows: tuple[WindowSpec, ...]) -> bool:
    return all(spec.hourly for spec in windows)


@lru_cache(maxsize=4096)
def _oldest_start(windows: tuple[WindowSpec, ...], hour: datetime) -> datetime:
    starts = [start for spec in windows for start, _ in spec.containing(hour)]
    return min(starts, default=hour)


def _slowest_channel(runtime: RuntimeLike, update: RegionUpdate | None, partition: int) -> datetime | None:
    """Note the update's channel (when stamped); the partition's slowest live channel's stamp
    (service.watermark), None until every channel was seen."""
    watermark = region_watermark(runtime)
    now = datetime.now(UTC)
    if update is not None and update.source_time is not None and update.source_partition is not None:
        channel = f"{update.via_partition}|{update.source_partition}"
        watermark.note(partition, channel, datetime.fromisoformat(update.source_time), now)
    partitions = runtime.settings.partitions
    return watermark.line(partition, now, watermark_channels(partitions, via=partitions))


def _expire_behind_channels(
    buckets: Table,
    alerts: Table,
    runtime: RuntimeLike,
    partition: int,
    line: datetime | None,
    owed: Owed | None = None,
) -> None:
    """Delete state behind the slowest channel (``line``, see service.watermark) and behind
    what uncommitted updates still need."""
    if line is None:
        return
    watermark = region_watermark(runtime)
    new_line = watermark.held(partition, expiry_line(line, runtime))
    raw = buckets.get(expired_before_key(partition))
    old_line = datetime.fromisoformat(raw) if raw else None
    if old_line is not None and new_line <= old_line:
        return
    if owed is not None:
        owed.before_expiry(partition, new_line)
    if old_line is None:
        codes = set(buckets.get(codes_key(partition)) or [])
        _expire_by_scan(buckets, alerts, codes, new_line)  # once per partition: nothing to skip
    else:
        expire(buckets, alerts, runtime, partition, old_line, new_line)
    buckets[expired_before_key(partition)] = new_line.isoformat()


def codes_key(partition: int) -> str:
    """Where the region codes seen by a region-stage partition are listed (to expire by key)."""
    return f"~codes|{partition}"


def _drop(table: Table, key: str) -> None:
    if key in table:
        del table[key]


def expire(
    buckets: Table, alerts: Table, runtime: RuntimeLike, partition: int, old: datetime, new: datetime
) -> None:
    """Delete the buckets and alert states of hours in ``[old, new)`` of this partition's regions.

    A jump of more than a year (data after a long gap) is handled by one pass over the keys.
    """
    codes = buckets.get(codes_key(partition)) or []
    if new - old > timedelta(days=366):
        _expire_by_scan(buckets, alerts, set(codes), new)
        return
    # Each window's alert state goes with its last hour (a 24 h hopping window contains 24
    # hours of the range, and is dropped once, not 24 times).
    ending = [
        (
            hour_iso(hour),
            [
                f"{spec.name}|{hour_iso(start)}|"
                for spec in runtime.windows
                for start, end in spec.containing(hour)
                if hour < end <= hour + BUCKET
            ],
        )
        for hour in buckets_in(old, new)
    ]
    for code in codes:
        for hour_key, windows in ending:
            _drop(buckets, f"{code}|{hour_key}")
            for window in windows:
                _drop(alerts, window + code)


def _expire_by_scan(buckets: Table, alerts: Table, codes: set[str], line: datetime) -> None:
    for key in [k for k in buckets if not k.startswith("~")]:
        code, _, hour = key.partition("|")
        if code in codes and datetime.fromisoformat(hour) < line:
            del buckets[key]
    for key in [k for k in alerts if not k.startswith("~")]:
        _, _, code = key.split("|", 2)
        stored = alerts.get(key) or {}
        end = stored.get("window_end")
        if code in codes and end is not None and datetime.fromisoformat(end) <= line:
            del alerts[key]


def _last_hour_before(t: datetime) -> datetime:
    """The last whole hour strictly before ``t`` (windows ending there or earlier are closed at ``t``)."""
    return bucket_of(t - timedelta(microseconds=1))


def _closed_windows(
    runtime: RuntimeLike, update: RegionUpdate, event_time: datetime, late_reference: datetime
) -> set[tuple[str, datetime]]:
    """The update's windows that closed (ended more than the grace period before the reference)."""
    grace = timedelta(hours=runtime.settings.grace_hours)
    closed: set[tuple[str, datetime]] = set()
    for spec in runtime.windows:
        for start, end in spec.containing(event_time):
            if end + grace < late_reference:
                closed.add((spec.name, start))
                runtime.metrics.late_statements.labels(window=spec.name).inc()
                log.warning(
                    "late_statement",
                    code=update.code,
                    window=spec.name,
                    window_end=end.isoformat(),
                    stream_time=late_reference.isoformat(),
                    policy=runtime.settings.late_policy,
                )
    return closed


class Owed:
    """The window counts and alert evaluations owed to the region updates folded so far.

    Folding an update into its bucket changes every window containing its hour; the window's
    count is then published and its alert rules evaluated. In a batch (see
    service.batching) many updates change the same windows, and only each window's last count
    is published, so the counts and rules are worked out once per window when the batch is
    *settled*: at its end, and before anything that reads or deletes alert state (the stream
    time crossing an hour that closes windows or moves the rolling windows, state expiry, a
    redelivery re-sending the last alerts). A window's rules run if any update found it open
    (a closed window's count is corrected but raises no new alert). A count that rises and
    falls back within one batch therefore raises no alert; one update at a time
    (:func:`apply_region_update` without ``owed``) settles after every update.
    """

    def __init__(
        self,
        buckets: Table,
        alerts: Table,
        runtime: RuntimeLike,
        sink: RegionOutcome,
        enter: Callable[[int], AbstractContextManager[Any]] | None = None,
        *,
        eager: bool = False,
    ) -> None:
        """``enter(partition)``: the context to read and write a partition's state in (the
        agent makes it that of the batch's last message from the partition); default none.
        ``eager``: settle everything at every barrier (one update at a time)."""
        self.eager = eager
        self.buckets = buckets
        self.alerts = alerts
        self.runtime = runtime
        self.sink = sink
        self._enter = enter
        #: partition -> count key -> [spec, start, end, code, region, partition, evaluate, closing_line]
        self._windows: dict[int, dict[str, list[Any]]] = {}
        #: partition -> [earliest start, earliest end] of its owed windows (bounds: a barrier
        #: that no owed window reaches returns without looking at them)
        self._floor: dict[int, list[datetime]] = {}
        #: (spec name, code) -> [spec, code, region, partition, at]
        self._rolling: dict[tuple[str, str], list[Any]] = {}

    def __bool__(self) -> bool:
        return bool(self._rolling) or any(self._windows.values())

    def window(
        self, spec: WindowSpec, start: datetime, end: datetime, update: RegionUpdate, partition: int,
        *, evaluate: bool, closing_line: datetime | None,
    ) -> None:
        """The window's count changed: publish it (and run its rules when ``evaluate``) at settling."""
        key = f"{spec.name}|{hour_iso(start)}|{update.code}"
        owed = self._windows.setdefault(partition, {})
        entry = owed.get(key)
        if entry is None:
            owed[key] = [spec, start, end, update.code, update.region, partition, evaluate, closing_line]
            floor = self._floor.get(partition)
            if floor is None:
                self._floor[partition] = [start, end]
            else:
                floor[0] = min(floor[0], start)
                floor[1] = min(floor[1], end)
            return
        entry[6] = entry[6] or evaluate
        if closing_line is not None and (entry[7] is None or closing_line > entry[7]):
            entry[7] = closing_line

    def rolling(self, spec: WindowSpec, code: str, region: str, partition: int, at: datetime) -> None:
        """The region's rolling count as of ``at`` may have changed: evaluate it at settling."""
        entry = self._rolling.get((spec.name, code))
        if entry is None:
            self._rolling[spec.name, code] = [spec, code, region, partition, at]
        elif at > entry[4]:
            entry[4] = at

    def settle(
        self,
        partition: int | None = None,
        windows: Callable[[datetime, datetime], bool] | None = None,
        rolling: bool = True,
    ) -> None:
        """Publish owed windows' counts and evaluate the owed rules, in the order owed (per
        partition, each in its ``enter`` context). Everything by default; else only
        ``partition``'s windows that ``windows(start, end)`` accepts, and its rolling windows
        when ``rolling``."""
        if not self:
            return
        now = datetime.now(UTC)
        chosen: dict[int, list[tuple[str, list[Any]]]] = {}
        if partition is None:
            chosen = {p: list(owed.items()) for p, owed in self._windows.items() if owed}
            self._windows = {}
            self._floor = {}
        elif windows is not None and self._windows.get(partition):
            owed = self._windows[partition]
            picked = [(key, entry) for key, entry in owed.items() if windows(entry[1], entry[2])]
            for key, _ in picked:
                del owed[key]
            if picked:
                chosen[partition] = picked
            if owed:
                self._floor[partition] = [min(e[1] for e in owed.values()), min(e[2] for e in owed.values())]
            else:
                self._floor.pop(partition, None)
        rolled: dict[int, list[list[Any]]] = {}
        for name, entry in list(self._rolling.items()):
            if partition is None or (entry[3] == partition and rolling):
                rolled.setdefault(entry[3], []).append(entry)
                del self._rolling[name]
        for p in [*chosen, *(p for p in rolled if p not in chosen)]:
            with self._enter(p) if self._enter is not None else nullcontext():
                for key, entry in chosen.get(p, ()):
                    self._settle_window(key, entry, now)
                for entry in rolled.get(p, ()):
                    self._settle_rolling(entry, now)

    def before_rolling(self, partition: int) -> None:
        """The partition's rolling windows move: each region's rolling count is re-evaluated,
        so the owed rolling evaluations are settled first. One update at a time (``eager``)
        settles everything, as before batches."""
        if self.eager:
            self.settle()
            return
        self.settle(partition, None, rolling=True)

    def before_close(self, partition: int, line: datetime) -> None:
        """Windows of the partition ending before ``line`` close: closing reads their alert
        states, so their owed counts and rules are settled first."""
        if self.eager:
            self.settle()
            return
        floor = self._floor.get(partition)
        if floor is not None and floor[1] <= line:
            self.settle(partition, lambda _start, end: end <= line, rolling=False)

    def before_expiry(self, partition: int, line: datetime) -> None:
        """State of the partition's hours before ``line`` is about to be deleted: settle the
        windows that reach into them (their counts would read deleted buckets)."""
        if self.eager:
            self.settle()
            return
        floor = self._floor.get(partition)
        if floor is not None and floor[0] < line:
            self.settle(partition, lambda start, _end: start < line, rolling=False)

    def _settle_window(self, key: str, entry: list[Any], now: datetime) -> None:
        from service import alert_flow  # late import: alert_flow imports this module's helpers

        spec, start, end, code, region, partition, evaluate, closing = entry
        count, statements = region_count(self.buckets, code, region, spec.name, start, end, now)
        self.sink.counts.append(CountMessage(key, count))
        if evaluate and not spec.rolling:
            self.sink.alerts += alert_flow.on_count(
                self.alerts, self.runtime, count, evidence_of(statements), now, partition, closing
            )

    def _settle_rolling(self, entry: list[Any], now: datetime) -> None:
        spec, code, region, partition, at = entry
        self.sink.alerts += rolling_alert(
            self.buckets, self.alerts, self.runtime, spec, code, region, at, now, partition
        )


def apply_region_update(
    buckets: Table,
    alerts: Table,
    runtime: RuntimeLike,
    update: RegionUpdate,
    partition: int = 0,
    offset: int | None = None,
    committed: int | None = None,
    owed: Owed | None = None,
) -> RegionOutcome:
    """Stage 3: fold one figure into its bucket, recompute its windows, evaluate alert rules.

    ``offset`` and ``committed``: the update's offset and its partition's committed offset
    (state a redelivery would need is kept until it is committed). ``owed``: the batch's
    :class:`Owed` (outputs go to its sink when it settles); without it the windows are
    settled before returning, and the outcome holds this update's outputs.
    """
    outcome = owed.sink if owed is not None else RegionOutcome()
    event_time = datetime.fromisoformat(update.event_time).astimezone(UTC)
    st_key = stream_time_key(partition)
    stream_time_raw = buckets.get(st_key)
    stream_time = datetime.fromisoformat(stream_time_raw) if stream_time_raw else event_time
    bucket_key = f"{update.code}|{hour_iso(bucket_of(event_time))}"
    if _expired(buckets, runtime, update, event_time, partition):
        outcome.late = True
        return outcome
    if offset is not None:  # until committed, a redelivery of this update needs its windows
        oldest = _oldest_window_start(runtime, event_time)
        region_watermark(runtime).hold(partition, offset, oldest, committed)
    codes = buckets.get(codes_key(partition)) or []
    if update.code not in codes:
        buckets[codes_key(partition)] = sorted([*codes, update.code])
    previous = bucket_statements(buckets.get(bucket_key)).get(update.fingerprint)
    state, changed = merge_bucket(buckets.get(bucket_key), update)
    if not changed:
        if owed is not None:
            owed.settle()  # the last alerts re-sent must be the settled ones
        again = _republish(buckets, alerts, runtime, update, event_time)
        outcome.counts += again.counts
        outcome.resent += again.resent
        return outcome
    closed = _closed_windows(runtime, update, event_time, _late_reference(update, stream_time))
    outcome.late = bool(closed)
    if outcome.late and runtime.settings.late_policy == "drop":
        return outcome
    buckets[bucket_key] = state
    added = update.count - (int(previous["count"]) if previous else 0)
    if added > 0:
        runtime.metrics.interceptions.labels(region=update.region, code=update.code).inc(added)
    mine = owed if owed is not None else Owed(buckets, alerts, runtime, outcome, eager=True)
    at = max(stream_time, event_time)
    _owe_windows(mine, runtime, update, event_time, at, partition, closed, closed_line(buckets, partition))
    if event_time > stream_time or stream_time_raw is None:
        previous_time = stream_time if stream_time_raw is not None else None
        if _rolling_moved(runtime, previous_time, event_time):
            mine.before_rolling(partition)
        outcome.alerts.extend(
            _advance(buckets, alerts, runtime, partition, previous_time, event_time, datetime.now(UTC))
        )
    slowest = _slowest_channel(runtime, update, partition)
    outcome.alerts.extend(_close_behind(buckets, alerts, runtime, partition, slowest, mine))
    _expire_behind_channels(buckets, alerts, runtime, partition, slowest, mine)
    if owed is None:
        mine.settle()
    return outcome


def _owe_windows(
    owed: Owed,
    runtime: RuntimeLike,
    update: RegionUpdate,
    event_time: datetime,
    at: datetime,
    partition: int,
    closed: set[tuple[str, datetime]],
    closing_line: datetime | None,
) -> None:
    """Every window the update's hour is in now owes its count (and its rules, unless closed:
    a closed window's count is corrected, but it raises no new alert); each rolling window
    whose count as of ``at`` (the stream time) includes the update owes its rules."""
    for spec in runtime.windows:
        for start, end in spec.containing(event_time):
            open_ = (spec.name, start) not in closed
            owed.window(spec, start, end, update, partition, evaluate=open_, closing_line=closing_line)
    for spec in rolling_specs(runtime):
        trailing = spec.trailing(at)
        if trailing is not None and event_time >= trailing[0]:
            owed.rolling(spec, update.code, update.region, partition, at)


def apply_tick(
    buckets: Table,
    alerts: Table,
    runtime: RuntimeLike,
    tick: datetime,
    partition: int,
    owed: Owed | None = None,
) -> RegionOutcome:
    """A stream-time tick: the newest event time anywhere in the stream reaches this partition.

    Without it a partition whose regions fall quiet would never close its windows, and their
    alerts would stay firing. Ticks only move stream time forward.
    """
    outcome = owed.sink if owed is not None else RegionOutcome()
    raw = buckets.get(stream_time_key(partition))
    current = datetime.fromisoformat(raw) if raw else None
    if current is not None and tick > current:
        if owed is not None and _rolling_moved(runtime, current, tick):
            owed.before_rolling(partition)
        outcome.alerts += _advance(buckets, alerts, runtime, partition, current, tick, datetime.now(UTC))
        slowest = _slowest_channel(runtime, None, partition)
        outcome.alerts += _close_behind(buckets, alerts, runtime, partition, slowest, owed)
    return outcome


def _rolling_moved(runtime: RuntimeLike, old: datetime | None, new: datetime) -> bool:
    """Does a rolling window's trailing instance change between stream times ``old`` and ``new``?"""
    if old is None:
        return False
    return any(spec.trailing(new) != spec.trailing(old) for spec in rolling_specs(runtime))


def closed_line_key(partition: int) -> str:
    """Where a partition's closing line is kept: windows ending before it are closed."""
    return f"~closed-before|{partition}"


def closed_line(buckets: Table, partition: int) -> datetime | None:
    """The partition's closing line (None before its first)."""
    raw = buckets.get(closed_line_key(partition))
    return datetime.fromisoformat(raw) if raw else None


def closing_reference(stream_time: datetime, slowest: datetime | None) -> datetime:
    """How far event time has come for closing windows: the slowest live channel's stamp once
    every channel has been seen (``slowest``; until then, and while every channel is quiet,
    the stream time), never beyond the partition's stream time.

    Windows close at this minus the grace period. The stream time alone (the newest event
    time) runs ahead of a lagging channel in a backlog: windows closed (their alerts resolved)
    while statements for them were still on the way and, not late by their own channel's
    time, fired the same alerts again (measured on a 150,000-report backfill: most alert ids
    fired 2-10 times). Closed behind the slowest channel, a statement that reaches a closed
    window is late by its channel's time as well, and corrects the count without an alert.
    """
    return stream_time if slowest is None else min(stream_time, slowest)


def _close_behind(
    buckets: Table,
    alerts: Table,
    runtime: RuntimeLike,
    partition: int,
    slowest: datetime | None,
    owed: Owed | None,
) -> list[AlertEvent]:
    """Close the partition's windows that ended more than the grace period before the closing
    reference (:func:`closing_reference`), once the line crosses a whole hour (windows end on
    whole hours): their firing alerts resolve. Each process scans the partition's whole alert
    table once, at its first crossing (states stored by a version without the closing index,
    or by a bug, still close)."""
    from service import alert_flow  # late import: alert_flow imports this module's helpers

    raw = buckets.get(stream_time_key(partition))
    if raw is None:
        return []
    grace = timedelta(hours=runtime.settings.grace_hours)
    line = closing_reference(datetime.fromisoformat(raw), slowest) - grace
    old = closed_line(buckets, partition)
    if old is not None and _last_hour_before(line) <= _last_hour_before(old):
        return []
    if owed is not None:
        owed.before_close(partition, line)
    scanned: set[int] = runtime.extra.setdefault("closing_scanned", set())
    since = old if old is not None and partition in scanned else None
    scanned.add(partition)
    events = alert_flow.on_stream_time(alerts, runtime, line, datetime.now(UTC), partition, since=since)
    buckets[closed_line_key(partition)] = line.isoformat()
    return events


def newest_stream_time(buckets: Table, partitions: int) -> datetime | None:
    """The newest stream time of the region-stage partitions this worker holds (active or standby)."""
    raws = [buckets.get(stream_time_key(p)) for p in range(partitions)]
    times = [datetime.fromisoformat(raw) for raw in raws if raw]
    return max(times, default=None)


def _advance(
    buckets: Table,
    alerts: Table,
    runtime: RuntimeLike,
    partition: int,
    old: datetime | None,
    new: datetime,
    now: datetime,
) -> list[AlertEvent]:
    """The partition's stream time moves from ``old`` to ``new``: rolling windows move with it
    (windows close by :func:`_close_behind`)."""
    from service import alert_flow  # late import: alert_flow imports this module's helpers

    buckets[stream_time_key(partition)] = new.isoformat()
    events: list[AlertEvent] = []
    if _rolling_moved(runtime, old, new):
        # Older hours left the rolling windows: their counts can only have fallen.
        for code in alert_flow.rolling_codes(alerts, partition):
            region = _rolling_region(alerts, runtime, code)
            events += rolling_alerts(buckets, alerts, runtime, code, region, new, now, partition)
    return events


@lru_cache(maxsize=8)
def _rolling_of(windows: tuple[WindowSpec, ...]) -> tuple[WindowSpec, ...]:
    return tuple(spec for spec in windows if spec.rolling)


def rolling_specs(runtime: RuntimeLike) -> tuple[WindowSpec, ...]:
    """The runtime's rolling (hopping) windows."""
    return _rolling_of(runtime.windows)


def _rolling_region(alerts: Table, runtime: RuntimeLike, code: str) -> str:
    from service import alert_flow  # late import: alert_flow imports this module's helpers

    for spec in rolling_specs(runtime):
        stored = alerts.get(alert_flow.rolling_key(spec.name, code))
        if stored and stored.get("region"):
            return str(stored["region"])
    return code


def note_alert(runtime: RuntimeLike, alert: AlertEvent) -> None:
    """Keep a bounded list of recent alert events for the API and count them."""
    recent: list[AlertEvent] = runtime.extra.setdefault("recent_alerts", [])
    recent.append(alert)
    del recent[:-RECENT_ALERTS]
    runtime.metrics.alerts.labels(severity=alert.severity, status=alert.status).inc()
