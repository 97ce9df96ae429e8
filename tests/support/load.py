"""A steady producer on a background thread: load that goes on while a test stops things.

Each chunk is sent with ``acks=all`` and retried until acknowledged, so every payload is
delivered at least once even across a broker outage (a retried chunk may be delivered twice:
skytally's merges are idempotent, which is part of what the tests check).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError


class Feeder:
    """Send ``payloads`` to ``topic`` in chunks of ``chunk`` every ``pause`` seconds."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        payloads: Sequence[bytes],
        *,
        chunk: int = 5,
        pause: float = 0.1,
        give_up_after: float = 180.0,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.payloads = list(payloads)
        self.chunk = chunk
        self.pause = pause
        self.give_up_after = give_up_after
        self.acked = 0  # payloads acknowledged so far
        self.failures: list[str] = []  # send errors that were retried
        self.error: BaseException | None = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._main, name="feeder", daemon=True)

    def start(self) -> Feeder:
        """Begin sending on the background thread."""
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        """Every payload acknowledged."""
        return self.acked == len(self.payloads)

    def wait_acked(self, at_least: int, timeout: float) -> None:
        """Block until ``at_least`` payloads are acknowledged; fail saying how many were."""
        deadline = time.monotonic() + timeout
        while self.acked < at_least and time.monotonic() < deadline and self._thread.is_alive():
            time.sleep(0.05)
        assert self.acked >= at_least, (
            f"feeder: {self.acked} of {len(self.payloads)} acknowledged (error: {self.error!r})"
        )

    def join(self, timeout: float) -> None:
        """Wait until everything is sent; fail with the feeder's error or progress."""
        self._thread.join(timeout)
        if self.error is not None:
            raise AssertionError(f"feeder failed after {self.acked} payloads: {self.error!r}")
        assert self.done, f"feeder: {self.acked} of {len(self.payloads)} acknowledged in {timeout:.0f}s"

    def cancel(self) -> None:
        """Stop after the current chunk (for teardown)."""
        self._cancel.set()
        self._thread.join(30)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # noqa: BLE001 - reported by join()
            self.error = exc

    async def _run(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            linger_ms=5,
            request_timeout_ms=10_000,
            retry_backoff_ms=200,
        )
        await producer.start()
        deadline = time.monotonic() + self.give_up_after
        try:
            for start in range(0, len(self.payloads), self.chunk):
                part = self.payloads[start : start + self.chunk]
                while True:
                    if self._cancel.is_set():
                        return
                    try:
                        futures = [await producer.send(self.topic, value) for value in part]
                        await asyncio.gather(*futures)
                        break
                    except KafkaError as exc:
                        self.failures.append(repr(exc))
                        if time.monotonic() > deadline:
                            raise
                        await asyncio.sleep(0.5)
                self.acked += len(part)
                await asyncio.sleep(self.pause)
        finally:
            await producer.stop()
