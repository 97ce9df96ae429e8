"""Every domain metric skytally exports, built against a registry passed in.

Tests build :class:`Metrics` on a fresh ``CollectorRegistry``; the worker builds it on the
registry that ``/metrics`` serves (together with faust's own Prometheus sensor).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Extraction is sub-millisecond; the buckets resolve that range and flag slow texts.
EXTRACTION_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0)


class PerSecond:
    """Events counted per wall-clock second over the last minute: a fixed 60-slot ring."""

    def __init__(self, seconds: int = 60) -> None:
        self.seconds = seconds
        self._slots = [(0, 0)] * seconds  # (second, count)

    def add(self, now: float, n: int = 1) -> None:
        """Count ``n`` events at wall time ``now``."""
        second = int(now)
        slot = second % self.seconds
        stamp, count = self._slots[slot]
        self._slots[slot] = (second, count + n if stamp == second else n)

    def last_minute(self, now: float) -> int:
        """Events in the last ``seconds`` seconds."""
        oldest = int(now) - self.seconds
        return sum(count for stamp, count in self._slots if stamp > oldest)


class Metrics:
    """The domain metrics (names carry unit and ``_total`` suffixes)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.reports_consumed = Counter(
            "skytally_reports_consumed_total",
            "Messages read from the reports topic.",
            registry=registry,
        )
        self.reports_extracted = Counter(
            "skytally_reports_extracted_total",
            "Reports turned into an extraction result.",
            registry=registry,
        )
        self.reports_duplicate = Counter(
            "skytally_reports_duplicate_total",
            "Reports whose statement was already counted (republication or redelivery).",
            registry=registry,
        )
        self.dead_letters = Counter(
            "skytally_dead_letters_total",
            "Messages sent to the dead-letter topic, by reason and stage.",
            ["reason", "stage"],
            registry=registry,
        )
        self.interceptions = Counter(
            "skytally_interceptions_total",
            "Interceptions counted (after deduplication), by region.",
            ["region", "code"],
            registry=registry,
        )
        self.window_count = Gauge(
            "skytally_region_window_count",
            "Current count of a region in its latest window.",
            ["window", "region", "code"],
            registry=registry,
        )
        self.alerts = Counter(
            "skytally_alerts_total",
            "Alert events emitted, by severity and status.",
            ["severity", "status"],
            registry=registry,
        )
        self.table_keys = Gauge(
            "skytally_table_keys",
            "Keys held in each state table on this worker (active and standby partitions).",
            ["table"],
            registry=registry,
        )
        self.alerts_active = Gauge(
            "skytally_alerts_active",
            "Alerts currently firing, by severity.",
            ["severity"],
            registry=registry,
        )
        self.alert_delivery_failures = Counter(
            "skytally_alert_delivery_failures_total",
            "Failed alert deliveries, by target.",
            ["target"],
            registry=registry,
        )
        self.late_statements = Counter(
            "skytally_late_statements_total",
            "Statements whose window had already closed (beyond the grace period).",
            ["window"],
            registry=registry,
        )
        self.state_wipes = Counter(
            "skytally_state_wipes_total",
            "Local table stores deleted at start because the last run on the directory crashed "
            "(rebuilt from the changelogs).",
            registry=registry,
        )
        self.batch_writes = Counter(
            "skytally_table_batch_writes_total",
            "Table keys written at the end of a batch (each changed key once per batch; one "
            "changelog record each).",
            ["table"],
            registry=registry,
        )
        self.batch_messages = Histogram(
            "skytally_stage_batch_messages",
            "Messages per batch taken by the statement and region stages (SKYTALLY_BATCH_MAX caps it).",
            ["stage"],
            buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
            registry=registry,
        )
        self.counts_coalesced = Counter(
            "skytally_window_counts_coalesced_total",
            "Window counts not published because a later count of the same window and region "
            "in the same batch replaced them (the region-counts topic is compacted).",
            registry=registry,
        )
        self.extraction_seconds = Histogram(
            "skytally_extraction_seconds",
            "Time to extract one report.",
            buckets=EXTRACTION_BUCKETS,
            registry=registry,
        )
        self.ingest_held = Gauge(
            "skytally_ingest_held",
            "1 while stage 1 has paused reading reports because this worker's statement and "
            "region stages have more than SKYTALLY_INGEST_MAX_AHEAD messages waiting.",
            registry=registry,
        )
        self.last_report_timestamp = Gauge(
            "skytally_last_report_timestamp_seconds",
            "Unix time when the last report was consumed.",
            registry=registry,
        )
