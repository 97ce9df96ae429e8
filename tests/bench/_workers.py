"""Starting workers and following their output topics, for the end-to-end benchmarks.

Workers are started without waiting (so two of them join their group together) and then
awaited; outputs are read with a group-less aiokafka consumer that timestamps progress.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
import urllib.error
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from service.broker import free_port, log_tail, spawn
from service.demo import worker_command
from tests.bench._common import REPO_ROOT, cpu_seconds
from tests.support.skytally_worker import WorkerHandle

#: Where workers run from: the repository (pure Python), or build/mypyc after `make compile`
#: (``use_compiled``). ``python -m`` puts its working directory first on sys.path, so the
#: directory decides which build of the extractor a worker imports.
WORKER_ROOT = {"cwd": REPO_ROOT}


def use_compiled() -> Path:
    """Run every worker started from now on with the mypyc-compiled extractor (``make compile``)."""
    root = REPO_ROOT / "build" / "mypyc"
    if not any((root / "service" / "extract").glob("text*.so")):
        raise SystemExit("no compiled extractor in build/mypyc: run `make compile` first")
    WORKER_ROOT["cwd"] = root
    return root


def spawn_skytally_worker(
    env: dict[str, str], log_path: Path, loglevel: str = "info", profile: Path | None = None
) -> WorkerHandle:
    """Start ``python -m service worker`` (not yet waited for: see :func:`wait_healthy`).

    ``profile``: run it under cProfile, the stats written to that file when it stops.
    """
    port = free_port()
    full = {**os.environ, **env, "SKYTALLY_WEB_PORT": str(port)}
    prof = ["-m", "cProfile", "-o", str(profile)] if profile else []
    python, *rest = worker_command(port, loglevel)
    argv = [python, *prof, *rest]
    proc = spawn(argv, log_path, cwd=WORKER_ROOT["cwd"], env=full)
    topics = {
        k.removeprefix("SKYTALLY_TOPIC_").lower().replace("_", "-"): v
        for k, v in env.items()
        if k.startswith("SKYTALLY_TOPIC_")
    }
    return WorkerHandle(proc, port, log_path, topics, env)


def wait_healthy(handles: list[WorkerHandle], timeout: float = 120.0) -> float:
    """Block until every worker answers /healthz; seconds waited."""
    began = time.monotonic()
    deadline = began + timeout
    pending = list(handles)
    while pending:
        handle = pending[0]
        if handle.proc.poll() is not None:
            code = handle.proc.returncode
            raise RuntimeError(f"worker exited with {code}:\n{log_tail(handle.log_path, 30)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"worker not healthy after {timeout:.0f} s:\n{log_tail(handle.log_path, 30)}")
        try:
            handle.get("/healthz")
            pending.pop(0)
        except (urllib.error.URLError, OSError, ValueError):
            time.sleep(0.2)
    return time.monotonic() - began


def metric_or_nan(handle: WorkerHandle, name: str) -> float:
    """A worker's metric, NaN when the worker does not answer."""
    try:
        return handle.metric(name)
    except (urllib.error.URLError, OSError, ValueError):
        return float("nan")


def ensure_alive(procs: Callable[[], list[tuple[Any, Path]]]) -> Callable[[], None]:
    """A check for :func:`follow`: raise with the log tail when one of ``procs`` exited."""

    def check() -> None:
        for proc, log in procs():
            if proc.poll() is not None:
                raise RuntimeError(f"{log.name}: process exited with {proc.returncode}:\n{log_tail(log, 30)}")

    return check


# --------------------------------------------------------------------------- topics


#: skytally's tables (service/app.py); their changelog topics are created before the worker
#: starts: a worker creating them itself sometimes crash-loops its agent on faust's
#: PartitionsMismatch ("changelog topic ... has 0 partitions"), seen on a fresh Kafka.
TABLES = ("statements", "region-buckets", "alert-state")


def changelogs(app_id: str) -> list[str]:
    """The changelog topics of a skytally worker group."""
    return [f"{app_id}-{table}-changelog" for table in TABLES]


async def create_topics(bootstrap: str, names: list[str], partitions: int = 4) -> None:
    """Create topics (idempotent) and wait for their leaders."""
    from tests.support.kafka_io import create_topics as create

    await create(bootstrap, names, partitions=partitions)


async def delete_topics(bootstrap: str, names: list[str]) -> None:
    """Best-effort topic deletion (keeps the broker small between runs)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=20_000)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            await admin.delete_topics(doomed)
    except Exception as exc:  # noqa: BLE001 - cleanup only
        print(f"  (could not delete topics: {exc!r})")
    finally:
        await admin.close()


async def produce_all(
    bootstrap: str, topic: str, payloads: list[tuple[bytes, bytes]], label: str = "produce"
) -> float:
    """Produce (key, value) pairs as fast as the broker takes them; messages/s."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=20,
        max_batch_size=1_048_576,
        max_request_size=4_194_304,
        request_timeout_ms=60_000,
    )
    await producer.start()
    began = time.monotonic()
    last_print = began
    try:
        pending = []
        for i, (key, value) in enumerate(payloads, 1):
            pending.append(await producer.send(topic, value, key=key))
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
            now = time.monotonic()
            if now - last_print > 2:
                last_print = now
                print(f"  {label}: {i:,}/{len(payloads):,}", flush=True)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    elapsed = time.monotonic() - began
    return len(payloads) / elapsed if elapsed else float("nan")


# --------------------------------------------------------------------------- following output


@dataclass
class Progress:
    """What a follower has seen: distinct items, first/last record timestamps (ms)."""

    done: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    seen: set[Any] = field(default_factory=set)
    records: int = 0

    def add(self, ident: Any, timestamp_ms: int) -> None:
        """Count one output record (``ident`` None or already seen: not a new item)."""
        self.records += 1
        if ident is None or ident in self.seen:
            return
        self.seen.add(ident)
        self.done += 1
        self.first_ms = timestamp_ms if self.first_ms is None else min(self.first_ms, timestamp_ms)
        self.last_ms = timestamp_ms if self.last_ms is None else max(self.last_ms, timestamp_ms)

    def rate(self) -> float:
        """Items per second between the first and the last record's CreateTime."""
        if self.first_ms is None or self.last_ms is None or self.last_ms <= self.first_ms:
            return float("nan")
        return (self.done - 1) / ((self.last_ms - self.first_ms) / 1000)


Identify = Callable[[str, Any], Any]  # (topic, ConsumerRecord) -> identity, or None to skip


async def follow(
    bootstrap: str,
    topics: list[str],
    expect: int,
    identify: Identify,
    *,
    label: str,
    timeout: float,
    started: asyncio.Event | None = None,
    pids: dict[str, Callable[[], list[int]]] | None = None,
    on_record: Callable[[str, Any], None] | None = None,
    check: Callable[[], None] | None = None,
) -> tuple[Progress, dict[str, float]]:
    """Read ``topics`` from the start until ``expect`` distinct identities were seen.

    Returns the progress and, per group of ``pids``, the CPU (in cores) its processes used
    between the first record and the last. Prints progress every 2 s; ``check`` is called
    then too and may raise (e.g. when a worker died).
    """
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
        metadata_max_age_ms=1_000,
        max_partition_fetch_bytes=4_194_304,
    )
    await consumer.start()
    if started is not None:
        started.set()
    progress = Progress()
    groups = pids or {}
    cpu_start: dict[str, float] | None = None
    wall_start = 0.0
    deadline = time.monotonic() + timeout
    last_print = time.monotonic()
    try:
        while progress.done < expect:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{label}: only {progress.done:,}/{expect:,} after {timeout:.0f} s")
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            for tp, records in batches.items():
                for record in records:
                    if on_record is not None:
                        on_record(tp.topic, record)
                    progress.add(identify(tp.topic, record), record.timestamp)
            if cpu_start is None and progress.done:
                cpu_start = _cpu(groups)
                wall_start = time.monotonic()
            now = time.monotonic()
            if now - last_print >= 2:
                last_print = now
                if check is not None:
                    check()
                rate = progress.rate()
                shown = "-" if math.isnan(rate) else f"{rate:,.0f}/s"
                print(f"    {label}: {progress.done:,}/{expect:,} ({shown})", flush=True)
        cpu_end = _cpu(groups)
        wall = time.monotonic() - wall_start
        cores = {
            k: (cpu_end[k] - (cpu_start or {}).get(k, 0.0)) / wall if wall > 0 else float("nan")
            for k in groups
        }
        return progress, cores
    finally:
        await consumer.stop()


@asynccontextmanager
async def _partitions_of(
    bootstrap: str, topic: str
) -> AsyncIterator[tuple[AIOKafkaConsumer, list[TopicPartition]]]:
    """A group-less consumer and ``topic``'s partitions (empty when the topic does not exist)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # topics() does not fill partitions_for_topic
        yield consumer, [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    finally:
        await consumer.stop()


async def topic_size(bootstrap: str, topic: str) -> int:
    """The sum of ``topic``'s partitions' end offsets."""
    async with _partitions_of(bootstrap, topic) as (consumer, tps):
        return sum((await consumer.end_offsets(tps)).values()) if tps else 0


async def last_timestamp_ms(bootstrap: str, topic: str) -> int | None:
    """The newest CreateTime among all records of ``topic`` (None when it is empty)."""
    async with _partitions_of(bootstrap, topic) as (consumer, tps):
        if not tps:
            return None
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        newest: int | None = None
        for tp in tps:
            if ends[tp] == 0:
                continue
            consumer.seek(tp, ends[tp] - 1)  # CreateTime grows along a partition (one producer)
            for record in (await consumer.getmany(tp, timeout_ms=5_000)).get(tp, []):
                newest = record.timestamp if newest is None else max(newest, record.timestamp)
        return newest


def downstream_lag(metrics_pages: list[str], topics: tuple[str, ...]) -> float:
    """End minus committed offsets of ``topics``, summed over the workers' /metrics pages.

    NaN while no worker reports an end offset for them yet.
    """
    from prometheus_client.parser import text_string_to_metric_families

    ends: dict[tuple[str, str], float] = {}
    committed: dict[tuple[str, str], float] = {}
    for page in metrics_pages:
        for family in text_string_to_metric_families(page):
            for sample in family.samples:
                topic = sample.labels.get("topic")
                if topic not in topics:
                    continue
                key = (topic, sample.labels.get("partition", ""))
                if sample.name == "faust_topic_partition_end_offset":
                    ends[key] = max(ends.get(key, 0.0), sample.value)
                elif sample.name == "faust_topic_partition_offset_commited":
                    committed[key] = max(committed.get(key, 0.0), sample.value)
    return sum(max(0.0, end - committed.get(key, 0.0)) for key, end in ends.items()) if ends else float("nan")


def _cpu(groups: dict[str, Callable[[], list[int]]]) -> dict[str, float]:
    return {k: sum(cpu_seconds(p) or 0.0 for p in get()) for k, get in groups.items()}


def report_id_of(topic: str, record: Any) -> Any:
    """Identity of an output record: the report id (interceptions) or the dead letter's origin."""
    try:
        value = json.loads(record.value)
    except (TypeError, ValueError):
        return ("?", topic, record.partition, record.offset)
    if "original_b64" in value:
        return ("dead", value.get("partition"), value.get("offset"))
    return value.get("id")
