"""Library log floods are rate-limited; skytally's own events never are."""

from __future__ import annotations

import logging

from service.logs import RepeatFilter


def record(name: str, msg: str, created: float) -> logging.LogRecord:
    """A log record as the stdlib makes it, at wall time ``created``."""
    rec = logging.LogRecord(name, logging.ERROR, __file__, 1, msg, ("node 1",), None)
    rec.created = created
    return rec


def test_a_reconnect_storm_logs_once_per_interval_with_a_count() -> None:
    """10,000 identical aiokafka errors in 10 s: one line, then one saying how many were held back."""
    repeats = RepeatFilter(interval=10.0)
    storm = [record("aiokafka.conn", "Unable connect to %s", i / 1000) for i in range(10_000)]
    passed = [r for r in storm if repeats.filter(r)]
    assert 1 == len(passed)
    later = record("aiokafka.conn", "Unable connect to %s", 10.5)
    assert repeats.filter(later)
    assert "Unable connect to node 1 (9999 more like it in the last 10 s not logged)" == later.getMessage()


def test_own_events_and_other_messages_pass() -> None:
    """skytally's logs and a different aiokafka message are not held back."""
    repeats = RepeatFilter(interval=10.0)
    assert all(repeats.filter(record("skytally.pipeline", "late_statement %s", 0.0)) for _ in range(5))
    assert repeats.filter(record("aiokafka.conn", "Unable connect to %s", 0.0))
    assert repeats.filter(record("aiokafka.cluster", "Unable to update metadata from %s", 0.0))
