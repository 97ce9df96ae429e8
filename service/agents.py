"""The agents: thin ``async for`` loops that call pure functions, send and count.

Stage 1 (reports) is :class:`service.ingest.ReportIngestor`, a plain consumer group; stages 2
and 3 keep state in changelogged tables and are faust agents.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import structlog
from mode import Service

from service import alert_flow, flow, pipeline, web
from service import app as app_module
from service.aggregate import RegionUpdate
from service.alerting.alertmanager import AlertmanagerClient
from service.alerting.sources import evaluate_sources
from service.app import app, runtime, topics
from service.batching import Overlay
from service.errors import InputError
from service.ingest import ReportIngestor, dead_letter
from service.models import AlertEvent, SourceActivity
from service.partitioner import CachedPartitioner
from service.source_watch import ActivityThrottle, state_from_alerts
from service.tables import StoreReads, acting_for, write_for
from service.take import behind_in_kafka, take_batches
from service.watermark import ChannelWatermark

log = structlog.get_logger("skytally.agents")

#: The stage tables, read straight from their stores (see service.tables).
statements_table = StoreReads(app_module.statements_table)
buckets_table = StoreReads(app_module.buckets_table)
alerts_table = StoreReads(app_module.alerts_table)


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


async def publish_alert(alert: AlertEvent, *, again: bool = False) -> None:
    """An alert event to the alerts topic, the recent list, and Alertmanager when configured.

    ``again``: the same event once more (after a redelivery); not counted a second time.
    """
    await topics.alerts.send(key=alert.alert_id.encode(), value=alert.model_dump(mode="json"))
    if not again:
        pipeline.note_alert(runtime, alert)
    client = runtime.extra.get("alertmanager")
    if client is not None:
        client.submit(alert)


@app.service
class Ingest(ReportIngestor):
    """Stage 1: reports -> interceptions / dead letters (a plain consumer group, see service.ingest)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(runtime.settings, runtime, **kwargs)
        self.behind = partial(downstream_waiting, self.written)
        runtime.extra["ingest"] = self


#: The statement and region stages' input topics.
_downstream_topics = {runtime.settings.topic_interceptions, runtime.settings.topic_region_updates}


def downstream_waiting(written: dict[tuple[str, int], int]) -> int | None:
    """Messages this worker's statement and region stages have not committed yet (see
    service.flow): their partitions' high-water marks minus faust's committed offsets.

    ``written``: how far stage 1 wrote into each interceptions partition. faust learns a
    high-water mark only when it fetches, and it stops fetching while its buffers are full,
    so its own figure can be far behind during a backlog.
    """
    try:
        assigned = app.consumer.assignment()
    except Exception:  # noqa: BLE001 - consumer not started yet: nothing known
        return None
    # faust keeps no public view of either; a partition it has committed nothing on yet counts
    # from where it has read (nothing read either: not known, never a reason to hold).
    committed = getattr(app.consumer, "_committed_offset", None) or {}
    read = getattr(app.consumer, "_read_offset", None) or {}
    return flow.waiting(
        (
            flow.newest(_highwater(tp), written.get((tp.topic, tp.partition))),
            flow.newest(committed.get(tp), read.get(tp)),
        )
        for tp in assigned
        if tp.topic in _downstream_topics
    )


async def dead_letter_event(event: Any, stage: str, exc: Exception, value: Any = None) -> None:
    """A record a stage could not process goes to the dead-letter topic; the stream goes on.

    Only a bug or a record from an incompatible version gets here: stage 2 and 3 input is
    written by stage 1 and 2 themselves. ``value``: the item of a batched message that
    failed (default: the whole message).
    """
    message = event.message
    log.error(
        "stage_failed", stage=stage, topic=message.topic, partition=message.partition,
        offset=message.offset, error=repr(exc)[:500], exc_info=exc,
    )
    err = exc if isinstance(exc, InputError) else InputError(
        "processing_error", f"{stage} stage failed: {exc!r}"[:1000], stage=stage
    )
    runtime.metrics.dead_letters.labels(reason=err.reason, stage=stage).inc()
    if value is None:
        value = event.value
    raw = value if isinstance(value, bytes) else json.dumps(value, default=str).encode()
    letter = dead_letter(
        err,
        message.topic, message.partition, message.offset,
        int(message.timestamp * 1000) if message.timestamp else None, raw,
    )
    await topics.dead_letter.send(
        key=f"{message.topic}:{message.partition}:{message.offset}".encode(),
        value=letter.model_dump(mode="json"),
    )


def committed_offset(event: Any) -> int | None:
    """The committed offset of the event's partition, as of faust's last commit (None before).

    State is not deleted while a message after it could still be redelivered (see
    service.watermark); faust flushes the producer before it commits, so work before this
    offset has had its outputs delivered.
    """
    committed = getattr(app.consumer, "_committed_offset", None)  # faust keeps no public view
    if committed is None:
        return None
    value = committed.get(event.message.tp)
    return value if isinstance(value, int) else None


#: The statement stage's channels (see service.watermark): state is deleted behind the slowest.
statement_watermark = ChannelWatermark()

#: How often the leader tells quiet region partitions how far the stream has come.
TICK_INTERVAL_S = 2.0

#: At most one source-activity record per source and worker per minute (or per check interval).
activity = ActivityThrottle(timedelta(seconds=min(60.0, runtime.settings.source_check_interval_s)))


async def note_source(value: Any) -> None:
    """Publish that a report's source was heard from (throttled), for the source_silent rule."""
    source = value.get("source") if isinstance(value, dict) else None
    if not isinstance(source, str) or not source.strip():
        return
    now = datetime.now(UTC)
    if activity.due(source, now):
        record = SourceActivity(source=source.strip(), last_seen=now)
        await topics.source_activity.send(
            key=source.strip().casefold().encode(), value=record.model_dump(mode="json")
        )


def _batches(stream: Any, per_message: int = 1) -> Any:
    """The stream's events in batches (see service.batching); acked after the agent's loop body.

    ``per_message``: how many items a message carries at most (region-updates messages carry
    up to pipeline.UPDATES_PER_MESSAGE updates): a batch takes about SKYTALLY_BATCH_MAX items,
    so one batch never holds the event loop for long.
    """
    settings = runtime.settings
    most = max(1, settings.batch_max // per_message)
    within = settings.batch_wait_ms / 1000
    longest = max(within, settings.batch_fill_ms / 1000)
    return take_batches(stream, most, within, longest, behind_in_kafka(_highwater))


def _highwater(tp: Any) -> int | None:
    """The partition's high-water mark from the consumer's last fetch (None when not known yet)."""
    try:
        value = app.consumer.highwater(tp)
    except Exception:  # noqa: BLE001 - unknown partition or consumer not started: no backlog known
        return None
    return value if isinstance(value, int) else None


def _flush(*overlays: Overlay) -> None:
    """Write a batch's changed keys to their tables, each as the message that changed it."""
    for overlay in overlays:
        n = overlay.flush(write_for)
        runtime.metrics.batch_writes.labels(table=getattr(overlay.table, "name", "?")).inc(n)


#: The stage tables as seen through the batch being processed.
statements_batch = Overlay(statements_table)
buckets_batch = Overlay(buckets_table)
alerts_batch = Overlay(alerts_table)

#: Region partition of a region code: the one a record keyed by it would go to.
_partitioner = CachedPartitioner()


_region_partitions = list(range(runtime.settings.partitions))


def region_partition(code: str) -> int:
    """The region-updates partition a region's updates go to (its code's, as if keyed by it)."""
    return _partitioner(code.encode(), _region_partitions, _region_partitions)


@app.agent(topics.interceptions)
async def merge_statements(stream: Any) -> None:
    """Stage 2: max-merge each statement across outlets; forward per-region figures.

    A batch's messages are merged one by one (no await in between: nothing else sees a batch
    half done), its table writes made once per key, its updates sent one message per region
    partition.
    """
    keep = pipeline.keep_for(runtime)
    sizes = runtime.metrics.batch_messages.labels(stage="merge")
    async for events in _batches(stream):
        sizes.observe(len(events))
        updates: list[RegionUpdate] = []
        failed: list[tuple[Any, Exception]] = []
        try:
            for event in events:
                statements_batch.use(event, event.message.partition)
                with acting_for(event):
                    try:
                        merged = pipeline.merge_result(
                            statements_batch,
                            event.value,
                            event.message.partition,
                            keep,
                            statement_watermark,
                            runtime.settings.partitions,
                            event.message.offset,
                            committed_offset(event),
                        )
                    except Exception as exc:  # noqa: BLE001 - one bad record must not stop the stream
                        failed.append((event, exc))
                        continue
                if merged is None:
                    runtime.metrics.reports_duplicate.inc()
                    continue
                updates += merged
        finally:
            _flush(statements_batch)
        for event, error in failed:
            await dead_letter_event(event, "merge", error)
        for event in events:
            await note_source(event.value)
        for partition, key, value in pipeline.update_messages(updates, region_partition):
            await topics.region_updates.send(key=key, value=value, partition=partition)


#: Region updates per region-updates message, on average under load, for sizing the region
#: stage's batches (a full message carries pipeline.UPDATES_PER_MESSAGE).
REGION_ITEMS_PER_MESSAGE = 16


@contextmanager
def _as_partition(last_event: dict[int, Any], partition: int) -> Iterator[None]:
    """Settling a partition's owed windows: as the batch's last message from that partition
    (its changelog and store partition), then back to the message being processed."""
    event = last_event[partition]
    overlays = (buckets_batch, alerts_batch)
    saved = [(o.tag, o.scope) for o in overlays]
    for overlay in overlays:
        overlay.use(event, partition)
    try:
        with acting_for(event):
            yield
    finally:
        for overlay, (tag, scope) in zip(overlays, saved, strict=True):
            overlay.use(tag, scope)


@app.agent(topics.region_updates)
async def count_regions(stream: Any) -> None:
    """Stage 3: fold figures into hourly buckets; publish window counts and alerts.

    Per batch: each changed window's count is worked out and published once and its alert
    rules evaluated once (pipeline.Owed), every alert event sent in order.
    """
    sizes = runtime.metrics.batch_messages.labels(stage="count")
    async for events in _batches(stream, per_message=REGION_ITEMS_PER_MESSAGE):
        sizes.observe(len(events))
        sink = pipeline.RegionOutcome()
        last_event: dict[int, Any] = {}
        enter = partial(_as_partition, last_event)
        owed = pipeline.Owed(buckets_batch, alerts_batch, runtime, sink, enter=enter)
        failed: list[tuple[Any, Any, Exception]] = []
        try:
            for event in events:
                message = event.message
                last_event[message.partition] = event
                buckets_batch.use(event, message.partition)
                alerts_batch.use(event, message.partition)
                with acting_for(event):
                    committed = committed_offset(event)
                    for item in pipeline.region_items(event.value):
                        try:
                            pipeline.apply_region_item(
                                buckets_batch, alerts_batch, runtime, item, message.partition,
                                message.offset, committed, owed,
                            )
                        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the stream
                            failed.append((event, item, exc))
            try:
                owed.settle()
            except Exception as exc:  # a bug in the rules must not stop the stream
                # Nothing to dead-letter: every message was folded in; only the windows'
                # counts and rules of this batch are missing until they change again.
                log.error("settle_failed", stage="count", messages=len(events), error=repr(exc), exc_info=exc)
        finally:
            _flush(buckets_batch, alerts_batch)
        for event, item, error in failed:
            await dead_letter_event(event, "count", error, value=item)
        batch = pipeline.RegionBatch()
        batch.add(sink)
        runtime.metrics.counts_coalesced.inc(batch.counts.superseded)
        for count in batch.counts.drain():
            await topics.region_counts.send(key=count.key.encode(), value=count.value)
        for alert in batch.alerts:
            await publish_alert(alert)
        for alert in batch.resent:
            await publish_alert(alert, again=True)


def _active_partitions() -> set[int] | None:
    """Partitions of the region stage this worker owns (None before the first assignment)."""
    try:
        actives = app.assignor.assigned_actives()
    except AttributeError:
        return None
    name = runtime.settings.topic_region_updates
    return {tp.partition for tp in actives if tp.topic == name}


@app.timer(  # type: ignore[untyped-decorator]  # faust leaves timer untyped
    interval=runtime.settings.source_check_interval_s, on_leader=True
)
async def watch_sources() -> None:
    """The leader checks the source_silent rules against every worker's sightings."""
    rules = alert_flow.rules_of(runtime)
    if not rules.source_silent:
        return
    now = datetime.now(UTC)
    if "source_state" not in runtime.extra:  # new leader: carry on the alerts already firing
        runtime.extra["source_state"] = state_from_alerts(web.alerts_view.active())
    started = runtime.extra.setdefault("source_watch_started", now)
    state, events = evaluate_sources(
        rules, runtime.extra["source_state"], web.sources_view.last_seen, now, started_at=started
    )
    runtime.extra["source_state"] = state
    for alert in events:
        await publish_alert(alert)


@app.timer(interval=TICK_INTERVAL_S, on_leader=True)  # type: ignore[untyped-decorator]
async def tick_stream_time() -> None:
    """The leader sends the newest stream time to every region partition (see pipeline.apply_tick)."""
    newest = pipeline.newest_stream_time(buckets_table, runtime.settings.partitions)
    if newest is None:
        return
    for partition in range(runtime.settings.partitions):
        tick = {"tick": newest.isoformat()}
        await topics.region_updates.send(key=b"~tick", value=tick, partition=partition)


@app.timer(interval=30.0)  # type: ignore[untyped-decorator]  # faust leaves timer untyped
async def alert_housekeeping() -> None:
    """Re-send still-firing alerts whose re-notify interval elapsed; refresh the active gauge."""
    events, active = alert_flow.housekeeping(alerts_table, runtime, datetime.now(UTC), _active_partitions())
    for severity, n in active.items():
        runtime.metrics.alerts_active.labels(severity=severity).set(n)
    for table in (statements_table, buckets_table, alerts_table):
        runtime.metrics.table_keys.labels(table=table.name).set(len(table))
    for alert in events:
        await publish_alert(alert)
