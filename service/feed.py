"""Reading report files into Kafka payloads, and producing them (replay, demo).

A feed file is either JSON Lines or one plain report text:

* a line with ``text`` is a report (``published`` is accepted for ``published_at``, as in
  the development corpus format; ``gold``/``patterns``/``notes`` are dropped);
* a line with ``raw`` (a string) or ``raw_b64`` is sent byte for byte: the way to put
  deliberately bad input into a feed;
* any other file is sent whole as one plain-text report.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from service.errors import ConfigError

_REPORT_FIELDS = ("id", "source", "url", "published_at", "language", "text")


@dataclass(frozen=True)
class Payload:
    """One message to produce: key and value bytes, and the report id when known."""

    key: bytes | None
    value: bytes
    report_id: str | None


def bundled_samples() -> Path:
    """The sample feed shipped with the package."""
    return Path(str(resources.files("service") / "samples" / "reports.jsonl"))


def payload_from_line(obj: Any, line_no: int) -> Payload:
    """Turn one JSONL record into a payload."""
    if not isinstance(obj, dict):
        raise ConfigError(f"line {line_no}: expected a JSON object, got {type(obj).__name__}")
    if "raw_b64" in obj:
        return Payload(None, base64.b64decode(obj["raw_b64"]), None)
    if "raw" in obj:
        return Payload(None, str(obj["raw"]).encode("utf-8"), None)
    record = {k: obj[k] for k in _REPORT_FIELDS if k in obj}
    if "published_at" not in record and obj.get("published"):
        record["published_at"] = obj["published"]
    report_id = record.get("id")
    key = str(report_id).encode() if report_id is not None else None
    return Payload(key, json.dumps(record, ensure_ascii=False).encode("utf-8"), report_id)


def read_feed(path: Path) -> Iterator[Payload]:
    """Payloads of a feed file, in file order."""
    if not path.exists():
        raise ConfigError(f"feed file {path} does not exist")
    if path.suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as fh:
            for line_no, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"{path}:{line_no}: not a JSON line ({exc.msg})") from exc
                yield payload_from_line(obj, line_no)
    else:
        yield Payload(None, path.read_bytes(), None)


async def produce_feed(
    client_config: dict[str, Any],
    topic: str,
    payloads: list[Payload],
    *,
    rate: float = 0.0,
    on_sent: Callable[[int], None] | None = None,
) -> int:
    """Produce payloads in order at ``rate`` messages/s (0: as fast as the broker takes them).

    ``client_config``: aiokafka connection arguments (:func:`service.kafka_admin.aiokafka_config`).
    """
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(acks="all", linger_ms=5, **client_config)
    await producer.start()
    sent = 0
    started = time.monotonic()
    try:
        pending = []
        for payload in payloads:
            if rate > 0:
                due = started + sent / rate
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            pending.append(await producer.send(topic, payload.value, key=payload.key))
            sent += 1
            if on_sent is not None:
                on_sent(sent)
            if len(pending) >= 1000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent
