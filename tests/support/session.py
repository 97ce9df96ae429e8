"""Logic behind the fixtures in tests/conftest.py (kept here so conftest stays small)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from service.broker import BrokerStartError

from .brokers import ExternalBroker, KafkaKRaft, TansuBroker
from .kafka_jars import JarFetchError

B = TypeVar("B", KafkaKRaft, TansuBroker, ExternalBroker)


def start_with_retry(factory: Callable[[], B], attempts: int = 2, report: Callable[[str], None] = print) -> B:
    """Start a new broker from ``factory``; on a start failure close it and try once more.

    A second try covers the rare port grabbed between picking and binding, or a slow JVM on a
    loaded machine. Missing tools (no java/mvn) fail at once: retrying cannot help.
    """
    last: Exception | None = None
    for attempt in range(1, attempts + 1):
        broker = factory()
        began = time.monotonic()
        try:
            broker.start()
        except JarFetchError:
            broker.close()
            raise
        except BrokerStartError as exc:
            broker.close()
            last = exc
            report(f"[broker] {broker.kind} start attempt {attempt} failed: {exc}")
            continue
        report(
            f"[broker] {broker.kind} at {broker.bootstrap} ready in "
            f"{time.monotonic() - began:.2f} s (attempt {attempt})"
        )
        return broker
    assert last is not None
    raise last


def unique_id(nodeid: str) -> str:
    """A short id that is unique per call and readable: ``<test-name>-<8 hex>``.

    Only characters legal in Kafka topic and group names ([A-Za-z0-9._-]), at most 60 long.
    """
    name = nodeid.rsplit("::", 1)[-1]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:40] or "test"
    return f"{slug}-{uuid.uuid4().hex[:8]}"
