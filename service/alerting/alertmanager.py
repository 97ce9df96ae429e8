"""Deliver alert events to a Prometheus Alertmanager (``POST /api/v2/alerts``), never blocking.

The stream calls :meth:`AlertmanagerClient.submit`, which only puts the event in a bounded
in-memory queue; a background task sends batches with retries, exponential backoff and full
jitter. When Alertmanager is down the queue fills and the oldest entries are dropped, each
counted in ``skytally_alert_delivery_failures_total{target="alertmanager"}`` and logged:
a lost alert is bad, a stalled stream (no counts, no alerts at all) is worse.

Alertmanager forgets an alert at its ``endsAt``. Firing alerts are sent with
``endsAt = now + ends_margin`` and re-sent every ``resend_interval`` (< ``ends_margin``)
while they fire (see :meth:`AlertmanagerClient.resend_due`), so they stay active while
skytally runs and time out by themselves if it dies. Resolved events carry their real end.

Severity is a label, so Alertmanager sees a warning and its escalation to critical as two
alerts: on escalation the client also resolves the warning one.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import structlog

from service.metrics import Metrics
from service.models import AlertEvent

log = structlog.get_logger(__name__)

TARGET = "alertmanager"
#: Annotation values are kept short: Alertmanager stores them and receivers render them.
MAX_EVIDENCE_CHARS = 1000


def evidence_text(event: AlertEvent) -> str:
    """``MoD (https://t.me/mod/1): 8 of 40; TASS: 8`` -- who said what, for humans."""
    parts = []
    for e in event.evidence:
        who = e.source or e.report_id
        if e.url:
            who = f"{who} ({e.url})"
        figure = "?" if e.count is None else str(e.count)
        if e.claimed_total is not None:
            figure = f"{figure} of {e.claimed_total}"
        parts.append(f"{who}: {figure}")
    text = "; ".join(parts)
    return text if len(text) <= MAX_EVIDENCE_CHARS else text[: MAX_EVIDENCE_CHARS - 1] + "…"


def _ts(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_alertmanager(
    event: AlertEvent,
    *,
    now: datetime,
    ends_margin: timedelta,
    generator_url: str | None = None,
) -> dict[str, Any]:
    """One Alertmanager v2 ``postableAlert`` for an event, as sent at ``now``."""
    labels = {
        "alertname": event.rule,
        "severity": event.severity,
        "region": event.region,
        "code": event.code,
        "window": event.window,
        "window_start": event.window_start.isoformat(),
    }
    annotations = {
        "summary": event.summary,
        "runbook_url": event.runbook_url,
        "count": str(event.count),
        "threshold": str(event.threshold),
        "alert_id": event.alert_id,
    }
    evidence = evidence_text(event)
    if evidence:
        annotations["evidence"] = evidence
    ends = event.ends_at if event.status == "resolved" and event.ends_at else now + ends_margin
    alert: dict[str, Any] = {
        "labels": labels,
        "annotations": annotations,
        "startsAt": _ts(event.starts_at),
        "endsAt": _ts(ends),
    }
    if generator_url:
        alert["generatorURL"] = generator_url
    return alert


@dataclass
class _Active:
    """A firing alert Alertmanager should know about, and when it was last delivered."""

    event: AlertEvent
    last_sent: datetime | None = None


class _GiveUpError(Exception):
    """Alertmanager refused the batch in a way retrying will not fix (4xx)."""


class AlertmanagerClient:
    """Bounded, non-blocking delivery of :class:`AlertEvent` to one Alertmanager.

    ``url`` is the Alertmanager base URL (``http://host:9093``). ``timeout`` bounds each
    HTTP request, ``max_queue`` the alerts waiting (drop-oldest beyond it).
    """

    def __init__(
        self,
        url: str,
        metrics: Metrics,
        *,
        timeout: float = 5.0,
        max_queue: int = 1000,
        batch_size: int = 64,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        resend_interval: timedelta = timedelta(minutes=1),
        ends_margin: timedelta = timedelta(minutes=5),
        generator_url: str | None = None,
        clock: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if max_queue < 1 or batch_size < 1 or max_attempts < 1:
            raise ValueError("max_queue, batch_size and max_attempts must be at least 1")
        if ends_margin <= resend_interval:
            raise ValueError("ends_margin must exceed resend_interval, or firing alerts expire")
        self.url = url.rstrip("/") + "/api/v2/alerts"
        self.metrics = metrics
        self.timeout = timeout
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.resend_interval = resend_interval
        self.ends_margin = ends_margin
        self.generator_url = generator_url
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = rng or random.Random()  # noqa: S311  # jitter, not cryptography
        self._queue: OrderedDict[str, AlertEvent] = OrderedDict()
        self._active: dict[str, _Active] = {}
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._stopping = False
        self.delivered = 0

    # --- public API -------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the HTTP session and start the background sender."""
        if self._task is not None:
            return
        self._stopping = False
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        self._task = asyncio.create_task(self._run(), name="alertmanager-sender")
        log.info("alertmanager_client_started", url=self.url)

    def submit(self, event: AlertEvent) -> None:
        """Queue an event for delivery; never blocks, never raises on delivery problems."""
        if self._stopping:
            self._fail(1, "client_stopped", alert_id=event.alert_id)
            return
        previous = self._active.get(event.alert_id)
        if previous is not None and previous.event.severity != event.severity:
            # Escalation: Alertmanager keys alerts by labels, and severity is one of them.
            ended = previous.event.model_copy(
                update={"status": "resolved", "ends_at": self._clock()}
            )
            self._enqueue(ended)
        if event.status == "resolved":
            self._active.pop(event.alert_id, None)
        else:
            self._active[event.alert_id] = _Active(event)
        self._enqueue(event)

    def resend_due(self, now: datetime) -> list[AlertEvent]:
        """Firing alerts last delivered ``resend_interval`` ago or more: re-send them now.

        Alerts never delivered are listed too: the sender skips those still queued, and one
        that was dropped (queue full, retries exhausted) is thereby tried again later.
        """
        due = []
        for active in self._active.values():
            if active.last_sent is None or now - active.last_sent >= self.resend_interval:
                due.append(active.event)
        return due

    @property
    def queued(self) -> int:
        """Alerts waiting to be sent."""
        return len(self._queue)

    async def stop(self, deadline: float = 5.0) -> None:
        """Flush what is queued for at most ``deadline`` seconds, then stop; drops the rest."""
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=deadline)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._queue:
            self._fail(len(self._queue), "not_flushed_before_stop")
            self._queue.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        log.info("alertmanager_client_stopped", delivered=self.delivered)

    # --- internals --------------------------------------------------------------------------

    def _enqueue(self, event: AlertEvent) -> None:
        key = f"{event.alert_id}|{event.severity}"
        self._queue.pop(key, None)  # coalesce: only the latest state of an alert matters
        while len(self._queue) >= self.max_queue:
            _, dropped = self._queue.popitem(last=False)
            self._fail(1, "queue_full_dropped_oldest", alert_id=dropped.alert_id)
        self._queue[key] = event
        self._wakeup.set()

    def _fail(self, n: int, reason: str, **fields: Any) -> None:
        self.metrics.alert_delivery_failures.labels(target=TARGET).inc(n)
        log.warning("alert_delivery_failed", target=TARGET, reason=reason, alerts=n, **fields)

    def _take_batch(self) -> list[AlertEvent]:
        batch: list[AlertEvent] = []
        while self._queue and len(batch) < self.batch_size:
            batch.append(self._queue.popitem(last=False)[1])
        return batch

    def _requeue_resends(self) -> None:
        for event in self.resend_due(self._clock()):
            key = f"{event.alert_id}|{event.severity}"
            if key not in self._queue and len(self._queue) < self.max_queue:
                self._queue[key] = event

    async def _run(self) -> None:
        tick = max(0.05, self.resend_interval.total_seconds() / 4)
        while True:
            if not self._stopping:
                self._requeue_resends()
            if not self._queue:
                if self._stopping:
                    return
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=tick)
                continue
            await self._deliver(self._take_batch())

    async def _deliver(self, batch: list[AlertEvent]) -> None:
        for attempt in range(1, self.max_attempts + 1):
            now = self._clock()
            payload = [
                to_alertmanager(e, now=now, ends_margin=self.ends_margin,
                                generator_url=self.generator_url)
                for e in batch
            ]
            try:
                await self._post(payload)
            except _GiveUpError as exc:
                self._fail(len(batch), "rejected", error=str(exc))
                return
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.info("alertmanager_post_retry", attempt=attempt, error=repr(exc))
                if attempt == self.max_attempts:
                    break
                await self._sleep(self._backoff(attempt))
                continue
            for event in batch:
                active = self._active.get(event.alert_id)
                if active is not None and active.event.severity == event.severity:
                    active.last_sent = now
            self.delivered += len(batch)
            return
        self._fail(len(batch), "retries_exhausted", attempts=self.max_attempts)

    async def _post(self, payload: list[dict[str, Any]]) -> None:
        if self._session is None:
            raise aiohttp.ClientConnectionError("client not started")
        async with self._session.post(self.url, json=payload) as response:
            if response.status < 300:
                return
            body = (await response.text())[:500]
            if 400 <= response.status < 500 and response.status != 429:
                raise _GiveUpError(f"HTTP {response.status}: {body}")
            raise aiohttp.ClientResponseError(
                response.request_info, (), status=response.status, message=body
            )

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base x 2^(attempt-1))]."""
        cap = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(0, cap)

    async def _sleep(self, seconds: float) -> None:
        """Back off, but wake early when stop() asks for a flush."""
        if self._stopping:
            seconds = min(seconds, 0.1)
        await asyncio.sleep(seconds)
