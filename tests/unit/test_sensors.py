"""The cached Prometheus sensor exports exactly what faust's own sensor exports."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.types import TP
from prometheus_client import CollectorRegistry

from service.sensors import CachedPrometheusMonitor

COUNTED = (
    "faust_messages_received",
    "faust_messages_received_per_topic",
    "faust_messages_received_per_topics_partition",
    "faust_topic_messages_sent",
    "faust_table_operations",
    "faust_active_messages",
)


def _drive(monitor: Any) -> None:
    statements, buckets = SimpleNamespace(name="statements"), SimpleNamespace(name="region-buckets")
    for offset in range(5):
        for tp in (TP("t.interceptions", 0), TP("t.interceptions", 3), TP("t.region-updates", 1)):
            monitor.on_message_in(tp, offset, SimpleNamespace(time_in=None))
        monitor.on_send_initiated(None, "t.region-counts", None, 10, 100)
        monitor.on_send_initiated(None, "t.alerts", None, 10, 100)
        monitor.on_table_set(buckets, "k", 1)
        monitor.on_table_set(statements, "k", 1)
        monitor.on_table_get(buckets, "k")
        monitor.on_table_del(statements, "k")


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
        if family.name in COUNTED and not s.name.endswith("_created")
    }


def _pair() -> tuple[Any, CollectorRegistry, Any, CollectorRegistry]:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    return (
        CachedPrometheusMonitor(metrics=FaustMetrics.create(ours, "faust")), ours,
        PrometheusMonitor(metrics=FaustMetrics.create(theirs, "faust")), theirs,
    )


def test_the_same_series_and_values_as_fausts_sensor() -> None:
    cached, ours, plain, theirs = _pair()
    _drive(cached)
    _drive(plain)
    exported = _samples(ours)
    assert exported == _samples(theirs)
    assert exported[("faust_topic_messages_sent_total", (("topic", "topic.t.region-counts"),))] == 5
    assert exported[
        ("faust_table_operations_total", (("operation", "keys_updated"), ("table", "table.region-buckets")))
    ] == 5


def test_series_removed_at_a_rebalance_come_back() -> None:
    """faust removes the per-topic series after a rebalance; cached children must not outlive them."""
    cached, ours, plain, theirs = _pair()
    for monitor in (cached, plain):
        _drive(monitor)
        monitor._clear_partition_related_metrics()
        monitor.on_message_in(TP("t.interceptions", 0), 9, SimpleNamespace(time_in=None))
        monitor.on_send_initiated(None, "t.alerts", None, 1, 1)
    exported = _samples(ours)
    assert exported == _samples(theirs)
    assert exported[("faust_messages_received_per_topic_total", (("topic", "t.interceptions"),))] == 1
