"""Stage 1 (reports -> interceptions / dead letters) as a plain Kafka consumer group.

Why not a faust agent: stage 1 is stateless (no table), and on Apache Kafka faust 0.15.3
lost input under rebalances: with two workers joining while a backlog streamed in, the
reports stream of a worker that kept its partitions stopped after the rebalance and its
offsets were later committed past reports no one processed (tests/integration/
test_fault_tolerance.py lost 22-301 of 617 reports in half the runs under CPU load). Here
the commit discipline is ours and simple: a batch is processed, its output is *delivered*
(acks=all), and only then are its offsets committed. A crash or rebalance in between
redelivers the batch; downstream merges are idempotent (report id, statement fingerprint),
so redelivery cannot change a count. Batches also make stage 1 far cheaper per report than
faust's per-event machinery (see ../shared/BROKERS.md).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from mode import Service

from service import flow, pipeline
from service.aggregate import routing_key
from service.errors import InputError
from service.kafka_admin import aiokafka_config
from service.metrics import PerSecond
from service.models import DeadLetter, ExtractionResult
from service.partitioner import CachedPartitioner
from service.settings import Settings

log = structlog.get_logger("skytally.ingest")

#: How long a poll waits while stage 1 is held (see service.flow): how soon it notices the
#: later stages caught up.
HELD_POLL_MS = 100

#: Records per poll: large enough to amortise the round trip, small enough to commit often.
MAX_RECORDS = 500

#: Records extracted in the worker process between two turns of the event loop: a whole batch
#: of 1-4 KB reports takes ~0.3 s, which the statement and region stages would wait out.
LOCAL_CHUNK = 16

#: Original bytes a dead letter carries at most: base64 of it plus the rest of the record stays
#: under 1 MiB, Kafka's default message size limit. Larger messages (too_large anyway) are
#: carried truncated, ``original_size`` keeping their full size: a dead letter that could not be
#: sent would stop the stream.
MAX_DEAD_LETTER_ORIGINAL = 3 * (1024 * 1024 - 64 * 1024) // 4


def message_time(timestamp_ms: int | None) -> datetime | None:
    """A record's timestamp as a datetime; None when absent or beyond what datetime can hold."""
    if not timestamp_ms:
        return None
    try:
        return datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def dead_letter(
    err: InputError, topic: str, partition: int, offset: int, timestamp_ms: int | None, raw: bytes | None
) -> DeadLetter:
    """The dead-letter record for a message that could not be processed."""
    original = raw or b""
    error = str(err)
    if len(original) > MAX_DEAD_LETTER_ORIGINAL:
        error += f" (original_b64 holds its first {MAX_DEAD_LETTER_ORIGINAL} bytes only)"
    return DeadLetter(
        reason=err.reason,
        error=error,
        stage=err.stage,
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=message_time(timestamp_ms),
        original_b64=base64.b64encode(original[:MAX_DEAD_LETTER_ORIGINAL]).decode("ascii"),
        original_size=len(original),
        received_at=datetime.now(UTC),
    )


#: (reason, message, stage, unexpected): why a record could not be extracted.
OutcomeError = tuple[str, str, str, bool]
#: One record's extraction: (result, None, seconds) or (None, error, seconds).
Outcome = tuple[ExtractionResult | None, OutcomeError | None, float]


def as_outcome_error(exc: Exception) -> OutcomeError:
    """An exception as a dead-letter reason; one no decoding rule foresaw is a skytally bug."""
    if isinstance(exc, InputError):
        return (exc.reason, str(exc), exc.stage, False)
    return ("extraction_error", f"unexpected failure: {exc!r}"[:2000], "extract", True)


def extract_batch(items: list[tuple[bytes | None, int | None]], max_bytes: int) -> list[Outcome]:
    """Decode and extract ``(value, timestamp_ms)`` records; picklable, so it runs in a pool too."""
    outcomes: list[Outcome] = []
    for raw, timestamp in items:
        started = time.perf_counter()
        try:
            result = pipeline.read_message(
                raw, max_bytes=max_bytes, message_time=message_time(timestamp) or datetime.now(UTC)
            )
        except Exception as exc:  # noqa: BLE001 - one message must never stop the stream
            outcomes.append((None, as_outcome_error(exc), time.perf_counter() - started))
            continue
        outcomes.append((result, None, time.perf_counter() - started))
    return outcomes


async def extract_here(items: list[tuple[bytes | None, int | None]], max_bytes: int) -> list[Outcome]:
    """``extract_batch`` in this process, letting the other stages run between small chunks."""
    outcomes: list[Outcome] = []
    for i in range(0, len(items), LOCAL_CHUNK):
        if i:
            await asyncio.sleep(0)
        outcomes += extract_batch(items[i : i + LOCAL_CHUNK], max_bytes)
    return outcomes


def _warm_up() -> None:
    """Load the extractor's tables in a new extraction process before its first batch."""
    extract_batch([(b'{"text": "Air defences destroyed two drones over Kursk Oblast."}', None)], 1 << 16)


def _exit_with(parent: int) -> None:
    """Leave when the worker is gone: a SIGKILLed worker's extraction processes would linger."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _start_extraction_process(parent: int) -> None:
    threading.Thread(target=_exit_with, args=(parent,), name="skytally-parent-watch", daemon=True).start()
    _warm_up()


def new_pool(processes: int) -> Any:
    """Extraction processes, started fresh (``spawn``: the worker process has threads)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_extraction_process,
        initargs=(os.getpid(),),
    )


class ReportIngestor(Service):
    """Consumes the reports topic in batches, extracts, produces, then commits."""

    def __init__(self, settings: Settings, runtime: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.runtime = runtime
        self.consumer: Any = None
        self.producer: Any = None
        self.clock = pipeline.SourceClock()
        self.pool: Any = new_pool(settings.extract_processes) if settings.extract_processes else None
        #: Messages the later stages of this worker have waiting (see service.flow); set by the
        #: worker, None: no flow control.
        self.behind: Callable[[], int | None] | None = None
        self.gate = flow.Gate(settings.ingest_max_ahead)
        #: (topic, partition) -> the offset after the last record this stage wrote there: the
        #: later stages' consumer learns high-water marks only when it fetches, which it stops
        #: doing while its buffers are full, so flow control takes the larger of the two.
        self.written: dict[tuple[str, int], int] = {}

    async def on_start(self) -> None:
        """Join the ingest consumer group and start the loop."""
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

        config = aiokafka_config(self.settings)
        self.consumer = AIOKafkaConsumer(
            self.settings.topic_reports,
            group_id=f"{self.settings.app_id}-ingest",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=int(self.settings.session_timeout_s * 1000),
            heartbeat_interval_ms=int(self.settings.heartbeat_interval_s * 1000),
            max_partition_fetch_bytes=max(1 << 20, self.settings.max_report_bytes * 4),
            fetch_max_wait_ms=100,
            **config,
        )
        self.producer = AIOKafkaProducer(
            acks="all",
            linger_ms=5,
            max_batch_size=self.settings.producer_batch_bytes,
            partitioner=CachedPartitioner(),
            max_request_size=max(1 << 20, self.settings.max_report_bytes * 2),
            **config,
        )
        await self.producer.start()
        await self.consumer.start()
        self.add_future(self._run())

    async def on_stop(self) -> None:
        """Leave the group (uncommitted work is redelivered to the next owner) and flush."""
        if self.consumer is not None:
            await self.consumer.stop()
        if self.producer is not None:
            await self.producer.stop()
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)

    async def _run(self) -> None:
        from aiokafka.errors import CommitFailedError, KafkaError

        while not self.should_stop:
            unfinished: dict[Any, int] = {}  # partition -> first offset not known to be delivered
            try:
                self._flow_control()
                batches = await self._fetch(HELD_POLL_MS if self.gate.held else 500)
                if not batches:
                    continue
                unfinished = {tp: records[0].offset for tp, records in batches.items()}
                # Every partition's records are sent before waiting for delivery: one round trip
                # per fetch instead of one per partition.
                pending = [fut for records in batches.values() for fut in await self._process(records)]
                self._note_written(await asyncio.gather(*pending))
                try:
                    await self.consumer.commit({tp: recs[-1].offset + 1 for tp, recs in batches.items()})
                except CommitFailedError as exc:  # rebalanced meanwhile: the new owner redoes it
                    log.info("ingest_commit_skipped", partitions=len(batches), reason=str(exc)[:200])
                unfinished = {}
            except asyncio.CancelledError:
                raise
            except KafkaError as exc:
                log.warning("ingest_kafka_error", error=repr(exc)[:300], redo_partitions=len(unfinished))
                self._rewind(unfinished)
                await asyncio.sleep(1.0)

    async def _fetch(self, timeout_ms: int) -> dict[Any, list[Any]]:
        """The next records, an even share from each assigned partition that has some.

        aiokafka's getmany drains one partition's fetched data before the next's, so with a
        backlog one reports partition ran thousands of reports ahead of another (a backfill:
        11,000 against 17,000 read). Windows close behind the slowest partition's event time
        (see service.pipeline), so every window the fast one opened stayed open, and state grew.
        """
        assigned = sorted(self.consumer.assignment())
        share = max(1, MAX_RECORDS // max(1, len(assigned)))
        batches: dict[Any, list[Any]] = {}
        for tp in assigned:
            batches.update(await self.consumer.getmany(tp, timeout_ms=0, max_records=share))
        if batches:
            return batches
        return await self.consumer.getmany(timeout_ms=timeout_ms, max_records=share)  # type: ignore[no-any-return]

    def _note_written(self, delivered: list[Any]) -> None:
        """Remember how far this stage wrote into each interceptions partition."""
        topic = self.settings.topic_interceptions
        written = self.written
        for meta in delivered:
            if meta.topic == topic:
                key = (topic, meta.partition)
                written[key] = max(written.get(key, 0), meta.offset + 1)

    def _flow_control(self) -> None:
        """Pause reading while the later stages are far behind; resume when they caught up.

        Paused partitions are still polled (nothing comes back), so the group membership stays
        alive however long the hold lasts. Re-paused on every poll: a rebalance may have
        assigned new partitions.
        """
        if self.behind is None:
            return
        lag = self.behind()
        if self.gate.update(lag):
            self.runtime.metrics.ingest_held.set(1 if self.gate.held else 0)
            if self.gate.held:
                log.info(
                    "ingest_held", waiting=lag, limit=self.gate.limit,
                    hint="this worker's statement and region stages are behind (SKYTALLY_INGEST_MAX_AHEAD)",
                )
            else:
                log.info("ingest_resumed", waiting=lag, limit=self.gate.limit)
                self.consumer.resume(*self.consumer.assignment())
        if self.gate.held:
            self.consumer.pause(*self.consumer.assignment())

    def _rewind(self, unfinished: dict[Any, int]) -> None:
        """Fetch unfinished batches again: the consumer's position is already past them.

        Without this, a batch whose output could not be delivered (broker down, a send that
        timed out) would be skipped for good once a later batch of its partition is committed.
        """
        assigned = self.consumer.assignment()
        for tp, offset in unfinished.items():
            if tp in assigned:  # else it was revoked: the new owner starts at the committed offset
                self.consumer.seek(tp, offset)

    async def _extract(self, records: list[Any]) -> list[Outcome]:
        """Each record's extraction outcome: in the extraction processes when there are any."""
        items = [(record.value, record.timestamp) for record in records]
        max_bytes = self.settings.max_report_bytes
        pool = self.pool
        if pool is None:
            return await extract_here(items, max_bytes)
        from concurrent.futures.process import BrokenProcessPool

        loop = asyncio.get_running_loop()
        n = self.settings.extract_processes
        size = -(-len(items) // n)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        try:
            parts = await asyncio.gather(
                *(loop.run_in_executor(pool, extract_batch, chunk, max_bytes) for chunk in chunks)
            )
        except BrokenProcessPool as exc:  # a process died (killed, out of memory): start new ones
            log.warning(
                "extract_processes_restarted", error=repr(exc)[:300], records=len(items),
                hint="an extraction process died; this batch is extracted in the worker process",
            )
            pool.shutdown(wait=False, cancel_futures=True)
            self.pool = new_pool(n)
            return await extract_here(items, max_bytes)
        return [outcome for part in parts for outcome in part]

    def _serialise(
        self, result: ExtractionResult, partition: int
    ) -> tuple[bytes | None, OutcomeError | None]:
        """A result stamped with its partition's stream time, as the interceptions record."""
        try:
            self.clock.stamp(result, partition)  # before serialising: the stamp travels
            return result.model_dump_json().encode(), None
        except Exception as exc:  # noqa: BLE001 - one message must never stop the stream
            return None, as_outcome_error(exc)

    async def _process(self, records: list[Any]) -> list[asyncio.Future[Any]]:
        """Extract each record and send its result or dead letter; returns the delivery futures."""
        metrics = self.runtime.metrics
        settings = self.settings
        pending = []
        outcomes = await self._extract(records)
        for record, (result, failure, elapsed) in zip(records, outcomes, strict=True):
            metrics.reports_consumed.inc()
            now = time.time()
            metrics.last_report_timestamp.set(now)
            self.runtime.extra.setdefault("consumed_per_second", PerSecond()).add(now)
            self.runtime.extra["last_report_at"] = datetime.now(UTC)
            payload, error = (None, failure) if result is None else self._serialise(result, record.partition)
            if result is None or payload is None:
                assert error is not None
                reason, message, stage, surprise = error
                err = InputError(reason, message, stage=stage)
                if surprise:
                    log.error("ingest_unexpected_error", error=message[:300])
                letter = dead_letter(
                    err, record.topic, record.partition, record.offset, record.timestamp, record.value
                )
                metrics.dead_letters.labels(reason=err.reason, stage=err.stage).inc()
                log.warning(
                    "dead_letter",
                    reason=err.reason,
                    stage=err.stage,
                    error=str(err)[:300],
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                )
                pending.append(
                    await self.producer.send(
                        settings.topic_dead_letter,
                        json.dumps(letter.model_dump(mode="json")).encode(),
                        key=f"{record.topic}:{record.partition}:{record.offset}".encode(),
                    )
                )
                continue
            metrics.extraction_seconds.observe(elapsed)
            metrics.reports_extracted.inc()
            log.debug(  # one line per report: debug (SKYTALLY_LOG_LEVEL=debug); metrics count them
                "report_extracted",
                report_id=result.id,
                regions=len(result.interceptions),
                partition=record.partition,
                offset=record.offset,
                claimed_total=result.claimed_total,
                fingerprint=result.fingerprint,
            )
            pending.append(
                await self.producer.send(
                    settings.topic_interceptions,
                    payload,
                    key=routing_key(result).encode(),
                )
            )
        return pending
