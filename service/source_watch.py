"""Wiring of the ``source_silent`` rule, pure: who was heard from when, and the leader's state.

Reports of one source are spread over every partition, so no worker sees a source's whole
activity. The statement stage of each worker publishes a source's latest sighting on the
compacted ``skytally.source-activity`` topic (at most one record per source per interval);
every worker tails that topic into a :class:`SourcesView`; the faust leader alone evaluates
the rules (:func:`service.alerting.sources.evaluate_sources`) on a timer. A new leader seeds
its state from the active ``source_silent`` alerts on the alerts topic, so it neither fires
an alert twice under a new identity nor forgets to resolve one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from service.alerting.sources import SourceState


class ActivityThrottle:
    """Says when a source's sighting is worth publishing: first sight, then once per interval."""

    def __init__(self, interval: timedelta) -> None:
        self.interval = interval
        self._sent: dict[str, datetime] = {}

    def due(self, source: str, now: datetime) -> bool:
        """True (and remembered) when ``source`` was not published within the interval."""
        key = source.strip().casefold()
        last = self._sent.get(key)
        if last is not None and now - last < self.interval:
            return False
        self._sent[key] = now
        return True


class SourcesView:
    """The latest sighting of each source, from the source-activity topic."""

    def __init__(self) -> None:
        self.last_seen: dict[str, datetime] = {}

    def apply(self, value: dict[str, Any]) -> None:
        """Fold one source-activity record (the later sighting wins whatever the order)."""
        source = str(value["source"]).strip()
        seen = datetime.fromisoformat(value["last_seen"])
        current = self.last_seen.get(source)
        if current is None or seen > current:
            self.last_seen[source] = seen


def state_from_alerts(active: list[dict[str, Any]]) -> SourceState | None:
    """The source rule state implied by the ``source_silent`` alerts still firing on the topic."""
    alerts: dict[str, Any] = {}
    for event in active:
        if event.get("rule") != "source_silent" or event.get("status") == "resolved":
            continue
        alerts[str(event["region"]).casefold()] = {
            "severity": event["severity"],
            "starts_at": event["starts_at"],
            "notified_at": event["window_end"],  # a source alert's window ends when it was sent
            "since": event["window_start"],
        }
    return {"alerts": alerts} if alerts else None
