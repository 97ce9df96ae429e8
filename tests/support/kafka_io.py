"""Small aiokafka helpers for integration tests: create topics, produce, read back.

Producers use ``acks="all"`` (Tansu loses messages with acks=0). Every wait is bounded and
fails with a message saying what was seen, never a bare timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.structs import RecordMetadata

Value = bytes | str | dict[str, Any]
Records = list[ConsumerRecord[bytes, bytes]]
Predicate = Callable[[Records], bool]


def encode(value: Value | None) -> bytes | None:
    """bytes as is, str as UTF-8, dict as compact JSON (what skytally's topics carry)."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


async def create_topics(
    bootstrap: str, names: Iterable[str], partitions: int = 4, replication: int = 1
) -> None:
    """Create topics (existing ones are left alone) and wait until each has its partitions."""
    names = list(names)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    await admin.start()
    try:
        new = [NewTopic(n, num_partitions=partitions, replication_factor=replication) for n in names]
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(new)
        await _wait_for_partitions(admin, names, timeout=30.0)
    finally:
        await admin.close()


async def _wait_for_partitions(admin: AIOKafkaAdminClient, names: list[str], timeout: float) -> None:
    """Poll Metadata until every partition of every topic has a leader."""
    deadline = time.monotonic() + timeout
    pending = names
    while time.monotonic() < deadline:
        described = await admin.describe_topics(pending)
        ready = {
            d["topic"]
            for d in described
            if d["error_code"] == 0
            and d["partitions"]
            and all(part["error_code"] == 0 and part["leader"] >= 0 for part in d["partitions"])
        }
        pending = [n for n in pending if n not in ready]
        if not pending:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"topics {pending} have no partitions after {timeout:.0f} s")


async def produce(
    bootstrap: str,
    topic: str,
    values: Sequence[Value],
    key: Value | None = None,
    timestamp_ms: int | None = None,
    *,
    partition: int | None = None,
    headers: Sequence[tuple[str, bytes]] | None = None,
) -> list[RecordMetadata]:
    """Send ``values`` in order (same ``key``, ``timestamp_ms``, headers) and wait for acks."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, request_timeout_ms=30_000
    )
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic,
                value=encode(value),
                key=encode(key),
                timestamp_ms=timestamp_ms,
                partition=partition,
                headers=list(headers) if headers else None,
            )
            for value in values
        ]
        return list(await asyncio.gather(*futures))
    finally:
        await producer.stop()


async def consume_until(
    bootstrap: str,
    topic: str,
    predicate_or_count: int | Predicate,
    timeout: float = 30.0,
    *,
    group_id: str | None = None,
) -> Records:
    """Read ``topic`` from the beginning with a fresh reader until done.

    ``predicate_or_count``: an int stops once that many records arrived; a callable gets the
    list of all records so far after each batch and stops when it returns True. Returns the
    records read (possibly more than asked), in arrival order (ordered within a partition).
    Fails with what was seen after ``timeout`` s. The topic may be created later.

    By default the reader uses no consumer group: aiokafka then assigns itself every partition,
    reads from offset 0 and commits nothing, so there is no group join (which costs ~3 s per
    call on Tansu with a 6 s session). Pass ``group_id`` to read as that consumer group.
    """
    done: Predicate = (
        (lambda seen: len(seen) >= predicate_or_count)
        if isinstance(predicate_or_count, int)
        else predicate_or_count
    )
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=500,
        fetch_max_wait_ms=100,
        metadata_max_age_ms=1_000,
    )
    await consumer.start()
    seen: Records = []
    try:
        deadline = time.monotonic() + timeout
        while not done(seen):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(_describe_timeout(topic, timeout, seen))
            batches = await consumer.getmany(timeout_ms=int(min(left, 0.5) * 1000))
            for records in batches.values():
                seen.extend(records)
        return seen
    finally:
        await consumer.stop()


def _describe_timeout(topic: str, timeout: float, seen: Records) -> str:
    last = [r.value[:120] if r.value else r.value for r in seen[-3:]]
    return (
        f"consume_until({topic!r}) not satisfied after {timeout:.0f} s: "
        f"{len(seen)} record(s) read, last values {last}"
    )


def values(records: Records) -> list[Any]:
    """Decoded values: JSON when it parses, else text."""
    out: list[Any] = []
    for record in records:
        raw = (record.value or b"").decode("utf-8", errors="replace")
        try:
            out.append(json.loads(raw))
        except ValueError:
            out.append(raw)
    return out
