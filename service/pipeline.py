"""What each agent does to one message, as plain functions over mapping-like tables.

The agents pass faust Tables; tests pass dicts. Nothing here imports faust or Kafka.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog
from pydantic import ValidationError

from service.aggregate import (
    RegionUpdate,
    bucket_count,
    bucket_statements,
    merge_bucket,
    merge_statement,
    statement_fingerprint,
)
from service.decode import decode_report
from service.errors import InputError
from service.extract import extract_report
from service.models import AlertEvent, AlertEvidence, ExtractionResult, RegionCount
from service.windows import WindowSpec, bucket_of, buckets_in, placement_time

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
    result.event_time = placement_time(result.period_end, published, message_time)
    result.fingerprint = statement_fingerprint(result)
    return result


def merge_result(statements: Table, value: dict[str, Any]) -> list[RegionUpdate] | None:
    """Stage 2: merge an extraction result into its statement; None when nothing new."""
    try:
        result = ExtractionResult.model_validate(value)
    except ValidationError as exc:
        log.error("bad_interception_record", error=str(exc)[:300])
        return None
    if not result.interceptions or result.fingerprint is None:
        return []
    event_time = result.event_time or result.published_at or datetime.now(UTC)
    state, updates = merge_statement(statements.get(result.fingerprint), result, event_time)
    if not updates:
        return None
    statements[result.fingerprint] = state
    return updates


@dataclass
class CountMessage:
    """One window count to publish on the region-counts topic."""

    key: str
    value: dict[str, Any]
    count: RegionCount


@dataclass
class RegionOutcome:
    """What stage 3 publishes for one update."""

    counts: list[CountMessage] = field(default_factory=list)
    alerts: list[AlertEvent] = field(default_factory=list)
    late: bool = False


def window_count(buckets: Table, code: str, start: datetime, end: datetime) -> tuple[int, dict[str, Any]]:
    """A region's count over ``[start, end)`` and the statements behind it."""
    total = 0
    statements: dict[str, Any] = {}
    for b in buckets_in(start, end):
        state = buckets.get(f"{code}|{b.isoformat()}")
        total += bucket_count(state)
        statements.update(bucket_statements(state))
    return total, statements


def evidence_of(statements: dict[str, Any]) -> tuple[AlertEvidence, ...]:
    """Alert evidence from the statements of a window, largest figure first."""
    rows = sorted(statements.values(), key=lambda s: -int(s["count"]))
    return tuple(
        AlertEvidence(
            report_id=s["report_id"],
            source=s.get("source"),
            url=s.get("url"),
            count=s["count"],
            claimed_total=s.get("claimed_total"),
            evidence=s.get("evidence", "")[:500],
            confidence=s.get("confidence", 0.0),
            outlets=s.get("outlets", 1),
        )
        for s in rows[:10]
    )


def stream_time_key(partition: int) -> str:
    """Where a partition's event-time high-water mark is kept in the buckets table."""
    return f"~stream-time|{partition}"


def apply_region_update(
    buckets: Table, alerts: Table, runtime: RuntimeLike, update: RegionUpdate, partition: int = 0
) -> RegionOutcome:
    """Stage 3: fold one figure into its bucket, recompute its windows, evaluate alert rules."""
    from service import alert_flow  # late import: alert_flow imports this module's helpers

    outcome = RegionOutcome()
    event_time = datetime.fromisoformat(update.event_time).astimezone(UTC)
    grace = timedelta(hours=runtime.settings.grace_hours)
    st_key = stream_time_key(partition)
    stream_time_raw = buckets.get(st_key)
    stream_time = datetime.fromisoformat(stream_time_raw) if stream_time_raw else event_time
    bucket_key = f"{update.code}|{bucket_of(event_time).isoformat()}"
    previous = bucket_statements(buckets.get(bucket_key)).get(update.fingerprint)
    state, changed = merge_bucket(buckets.get(bucket_key), update)
    if not changed:
        return outcome
    now = datetime.now(UTC)
    closed: set[tuple[str, datetime]] = set()
    for spec in runtime.windows:
        for start, end in spec.containing(event_time):
            if end + grace < stream_time:
                closed.add((spec.name, start))
                runtime.metrics.late_statements.labels(window=spec.name).inc()
                log.warning(
                    "late_statement",
                    code=update.code,
                    window=spec.name,
                    window_end=end.isoformat(),
                    stream_time=stream_time.isoformat(),
                    policy=runtime.settings.late_policy,
                )
    outcome.late = bool(closed)
    if outcome.late and runtime.settings.late_policy == "drop":
        return outcome
    buckets[bucket_key] = state
    added = update.count - (int(previous["count"]) if previous else 0)
    if added > 0:
        runtime.metrics.interceptions.labels(region=update.region, code=update.code).inc(added)
    for spec in runtime.windows:
        for start, end in spec.containing(event_time):
            total, statements = window_count(buckets, update.code, start, end)
            count = RegionCount(
                window=spec.name,
                window_start=start,
                window_end=end,
                region=update.region,
                code=update.code,
                count=total,
                statements=len(statements),
                outlets=sum(int(s.get("outlets", 1)) for s in statements.values()),
                updated_at=now,
            )
            key = f"{spec.name}|{start.isoformat()}|{update.code}"
            outcome.counts.append(CountMessage(key, count.model_dump(mode="json"), count))
            if (spec.name, start) in closed:
                continue  # a closed window's count is corrected, but it raises no new alert
            outcome.alerts.extend(
                alert_flow.on_count(alerts, runtime, count, evidence_of(statements), now, partition)
            )
    if event_time > stream_time or stream_time_raw is None:
        buckets[st_key] = max(event_time, stream_time).isoformat()
        outcome.alerts.extend(
            alert_flow.on_stream_time(alerts, runtime, max(event_time, stream_time) - grace, now, partition)
        )
    return outcome


def note_alert(runtime: RuntimeLike, alert: AlertEvent) -> None:
    """Keep a bounded list of recent alert events for the API and count them."""
    recent: list[AlertEvent] = runtime.extra.setdefault("recent_alerts", [])
    recent.append(alert)
    del recent[:-RECENT_ALERTS]
    runtime.metrics.alerts.labels(severity=alert.severity, status=alert.status).inc()
