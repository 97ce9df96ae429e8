"""Read models for the web API, fed from the output topics, so every worker answers for all.

Table state is partitioned: with two workers each holds half the regions. The API instead
reads ``skytally.region-counts`` (latest count per window|start|code) and ``skytally.alerts``
(latest event per alert id) from the beginning, on every worker, with a group-less consumer.
The views are pure; :class:`OutputTopicsReader` is the thin Kafka edge that feeds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from mode import Service

log = structlog.get_logger("skytally.readmodel")


class RegionCountsView:
    """Latest RegionCount per ``window|window_start|code`` key, for ``history`` of event time.

    Windows that ended more than ``history`` before the newest window end seen are forgotten
    (checked every ``PRUNE_EVERY`` records), so a long-running worker's view stays bounded.
    """

    PRUNE_EVERY = 2000

    def __init__(self, history: timedelta | None = None) -> None:
        self.latest: dict[str, dict[str, Any]] = {}
        self.history = history
        self.newest_end: str | None = None
        self._since_prune = 0

    def apply(self, value: dict[str, Any]) -> None:
        """Fold one region-counts record (later offsets of a key win)."""
        key = f"{value['window']}|{value['window_start']}|{value['code']}"
        self.latest[key] = {k: value[k] for k in ("window", *_ROW_FIELDS) if k != "urls"}
        self.latest[key]["urls"] = value.get("urls", [])  # absent in records of older versions
        end = value["window_end"]
        if self.newest_end is None or datetime.fromisoformat(end) > datetime.fromisoformat(self.newest_end):
            self.newest_end = end
        self._since_prune += 1
        if self._since_prune >= self.PRUNE_EVERY:
            self.prune()

    def prune(self) -> None:
        """Forget windows that ended more than ``history`` before the newest one."""
        self._since_prune = 0
        if self.history is None or self.newest_end is None:
            return
        cutoff = datetime.fromisoformat(self.newest_end) - self.history
        for key in [k for k, v in self.latest.items() if datetime.fromisoformat(v["window_end"]) < cutoff]:
            del self.latest[key]

    def render(self, hopping: set[str], grace: timedelta, include_closed: bool = False) -> dict[str, Any]:
        """Per window kind, region rows largest first.

        Windows are "open" while their end plus the grace period is after the newest window end
        seen for that kind; hopping kinds show each region's latest window only.
        """
        by_window: dict[str, list[dict[str, Any]]] = {}
        for value in self.latest.values():
            by_window.setdefault(value["window"], []).append(value)
        out: dict[str, list[dict[str, Any]]] = {}
        newest_end: datetime | None = None
        for window, all_rows in by_window.items():
            horizon = max(datetime.fromisoformat(r["window_end"]) for r in all_rows)
            newest_end = horizon if newest_end is None or horizon > newest_end else newest_end
            if window in hopping:
                latest: dict[str, dict[str, Any]] = {}
                for r in all_rows:
                    if r["code"] not in latest or r["window_start"] > latest[r["code"]]["window_start"]:
                        latest[r["code"]] = r
                rows = list(latest.values())
            elif include_closed:
                rows = all_rows
            else:
                rows = [r for r in all_rows if datetime.fromisoformat(r["window_end"]) + grace >= horizon]
            out[window] = sorted(
                (_row(r) for r in rows if r["count"] > 0),
                key=lambda r: (-r["count"], r["region"], r["window_start"]),
            )
        return {"stream_time": newest_end.isoformat() if newest_end else None, "windows": out}


_ROW_FIELDS = ("region", "code", "window_start", "window_end", "count", "statements", "outlets", "urls")


def _row(value: dict[str, Any]) -> dict[str, Any]:
    return {k: value[k] for k in _ROW_FIELDS}


class AlertsView:
    """Latest event per active alert id, and a bounded list of recent events."""

    def __init__(self, keep_recent: int = 200) -> None:
        self.latest: dict[str, dict[str, Any]] = {}
        self.recent: list[dict[str, Any]] = []
        self.keep_recent = keep_recent

    def apply(self, value: dict[str, Any]) -> None:
        """Fold one alert event (a resolved alert leaves ``latest``; it stays in ``recent``)."""
        if value["status"] == "resolved":
            self.latest.pop(value["alert_id"], None)
        else:
            self.latest[value["alert_id"]] = value
        self.recent.append(value)
        del self.recent[: -self.keep_recent]

    def active(self) -> list[dict[str, Any]]:
        """Alerts whose latest event is not 'resolved', critical first, then by count."""
        rows = [a for a in self.latest.values() if a["status"] != "resolved"]
        rows.sort(key=lambda a: (a["severity"] != "critical", -a["count"], a["alert_id"]))
        return rows


class View(Protocol):
    """Anything that folds the records of one topic."""

    def apply(self, value: dict[str, Any]) -> None: ...


class OutputTopicsReader(Service):
    """Tails topics (region counts, alerts, source activity) into views: every worker reads it all."""

    def __init__(self, client_config: dict[str, Any], views: dict[str, View], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client_config = client_config
        self.topics = dict(views)
        self._consumer: Any = None

    async def on_start(self) -> None:
        """Start the group-less consumer from the beginning of both topics."""
        from aiokafka import AIOKafkaConsumer

        self._consumer = AIOKafkaConsumer(
            *self.topics,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=100,
            metadata_max_age_ms=5000,
            **self.client_config,
        )
        await self._consumer.start()
        self.add_future(self._tail())

    async def _tail(self) -> None:
        while not self.should_stop:
            try:
                batches = await self._consumer.getmany(timeout_ms=500)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep serving the API; log and retry
                log.warning("output_reader_error", error=repr(exc))
                await asyncio.sleep(1.0)
                continue
            for tp, records in batches.items():
                view = self.topics[tp.topic]
                for record in records:
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        view.apply(json.loads(record.value))

    async def on_stop(self) -> None:
        """Close the consumer."""
        if self._consumer is not None:
            await self._consumer.stop()
