"""The agents: thin ``async for`` loops that decode, call pure functions, send and count."""

from __future__ import annotations

import base64
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import structlog
from mode import Service

from service import alert_flow, pipeline
from service.aggregate import RegionUpdate
from service.alerting.alertmanager import AlertmanagerClient
from service.app import (
    alerts_table,
    app,
    buckets_table,
    runtime,
    statements_table,
    topics,
)
from service.errors import InputError
from service.models import AlertEvent, DeadLetter

log = structlog.get_logger("skytally.agents")


@app.service
class AlertDelivery(Service):
    """Sends alert events to Alertmanager (when configured) without ever blocking the stream."""

    client: AlertmanagerClient | None = None

    async def on_start(self) -> None:
        """Start the background sender if SKYTALLY_ALERTMANAGER_URL is set."""
        url = runtime.settings.alertmanager_url
        if url:
            self.client = AlertmanagerClient(url, runtime.metrics)
            await self.client.start()
            runtime.extra["alertmanager"] = self.client

    async def on_stop(self) -> None:
        """Flush queued alerts for a few seconds, then stop."""
        if self.client is not None:
            await self.client.stop()


def _message_time(timestamp: float | None) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp else datetime.now(UTC)


async def publish_alert(alert: AlertEvent) -> None:
    """An alert event to the alerts topic, the recent list, and Alertmanager when configured."""
    await topics.alerts.send(key=alert.alert_id.encode(), value=alert.model_dump(mode="json"))
    pipeline.note_alert(runtime, alert)
    client = runtime.extra.get("alertmanager")
    if client is not None:
        client.submit(alert)


async def send_dead_letter(err: InputError, message: Any, raw: bytes | None) -> None:
    """Publish a bad message with its reason and original bytes; count it; keep going."""
    original = raw or b""
    record = DeadLetter(
        reason=err.reason,
        error=str(err),
        stage=err.stage,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp=_message_time(message.timestamp),
        original_b64=base64.b64encode(original).decode("ascii"),
        original_size=len(original),
        received_at=datetime.now(UTC),
    )
    runtime.metrics.dead_letters.labels(reason=err.reason, stage=err.stage).inc()
    log.warning(
        "dead_letter",
        reason=err.reason,
        stage=err.stage,
        error=str(err)[:300],
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
    )
    await topics.dead_letter.send(
        key=f"{message.topic}:{message.partition}:{message.offset}".encode(),
        value=record.model_dump(mode="json"),
    )


@app.agent(topics.reports)
async def extract_reports(stream: Any) -> None:
    """Stage 1: raw report -> extraction result on the interceptions topic (or dead letter)."""
    async for event in stream.events():
        message = event.message
        raw = event.value
        metrics = runtime.metrics
        metrics.reports_consumed.inc()
        now = time.time()
        metrics.last_report_timestamp.set(now)
        runtime.extra.setdefault("consumed_at", deque(maxlen=100_000)).append(now)
        runtime.extra["last_report_at"] = datetime.now(UTC)
        try:
            started = time.perf_counter()
            result = pipeline.read_message(
                raw,
                max_bytes=runtime.settings.max_report_bytes,
                message_time=_message_time(message.timestamp),
            )
            metrics.extraction_seconds.observe(time.perf_counter() - started)
        except InputError as err:
            await send_dead_letter(err, message, raw)
            continue
        metrics.reports_extracted.inc()
        log.info(
            "report_extracted",
            report_id=result.id,
            regions=len(result.interceptions),
            claimed_total=result.claimed_total,
            fingerprint=result.fingerprint,
        )
        await topics.interceptions.send(
            key=(result.fingerprint or result.id).encode(), value=result.model_dump(mode="json")
        )


@app.agent(topics.interceptions)
async def merge_statements(stream: Any) -> None:
    """Stage 2: max-merge each statement across outlets; forward per-region figures."""
    async for value in stream:
        updates = pipeline.merge_result(statements_table, value)
        if updates is None:
            runtime.metrics.reports_duplicate.inc()
            continue
        for update in updates:
            await topics.region_updates.send(key=update.code.encode(), value=update.to_dict())


@app.agent(topics.region_updates)
async def count_regions(stream: Any) -> None:
    """Stage 3: fold figures into hourly buckets; publish window counts and alerts."""
    async for event in stream.events():
        update = RegionUpdate.from_dict(event.value)
        outcome = pipeline.apply_region_update(
            buckets_table, alerts_table, runtime, update, partition=event.message.partition
        )
        for count in outcome.counts:
            await topics.region_counts.send(key=count.key.encode(), value=count.value)
        for alert in outcome.alerts:
            await publish_alert(alert)


def _active_partitions() -> set[int] | None:
    """Partitions of the region stage this worker owns (None before the first assignment)."""
    try:
        actives = app.assignor.assigned_actives()
    except AttributeError:
        return None
    name = runtime.settings.topic_region_updates
    return {tp.partition for tp in actives if tp.topic == name}


@app.timer(interval=30.0)  # type: ignore[untyped-decorator]  # faust leaves timer untyped
async def alert_housekeeping() -> None:
    """Re-send still-firing alerts whose re-notify interval elapsed; refresh the active gauge."""
    events, active = alert_flow.housekeeping(
        alerts_table, runtime, datetime.now(UTC), _active_partitions()
    )
    for severity, n in active.items():
        runtime.metrics.alerts_active.labels(severity=severity).set(n)
    for alert in events:
        await publish_alert(alert)
