"""faust's Prometheus sensor with its labelled series looked up once instead of per event.

faust's ``PrometheusMonitor`` calls ``metric.labels(...)`` on every message in, record sent
and table write (prometheus_client validates the labels and takes a lock each time: ~2 us a
call, measured). skytally produces ~25 records per report, so that was several percent of a
worker's CPU. This subclass exports exactly the same metrics (names, labels, values) and keeps
the labelled children in dicts; they are dropped whenever faust removes the series (after a
rebalance), so a cached child is never one that left the registry.
"""

from __future__ import annotations

from typing import Any

from faust.sensors.monitor import Monitor
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor


class CachedPrometheusMonitor(PrometheusMonitor):
    """:class:`PrometheusMonitor` with cached label children on the per-event paths."""

    def __init__(self, metrics: FaustMetrics, **kwargs: Any) -> None:
        super().__init__(metrics, **kwargs)
        self._received: dict[str, Any] = {}
        self._positions: dict[Any, Any] = {}
        self._sent: dict[str, Any] = {}
        self._table_ops: dict[tuple[str, str], Any] = {}

    def _clear_partition_related_metrics(self) -> None:
        self._received.clear()
        self._positions.clear()
        self._sent.clear()
        super()._clear_partition_related_metrics()

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        """Same series as faust's: messages received (total, per topic), position per partition."""
        Monitor.on_message_in(self, tp, offset, message)
        metrics = self._metrics
        metrics.messages_received.inc()
        metrics.active_messages.inc()
        received = self._received.get(tp.topic)
        if received is None:
            received = self._received[tp.topic] = metrics.messages_received_per_topics.labels(topic=tp.topic)
        received.inc()
        position = self._positions.get(tp)
        if position is None:
            position = self._positions[tp] = metrics.messages_received_per_topics_partition.labels(
                topic=tp.topic, partition=tp.partition
            )
        position.set(offset)

    def on_send_initiated(
        self, producer: Any, topic: str, message: Any, keysize: int, valsize: int
    ) -> Any:
        """Same series as faust's: messages sent per topic."""
        sent = self._sent.get(topic)
        if sent is None:
            sent = self._sent[topic] = self._metrics.topic_messages_sent.labels(topic=f"topic.{topic}")
        sent.inc()
        return Monitor.on_send_initiated(self, producer, topic, message, keysize, valsize)

    def _table_op(self, table: Any, operation: str) -> Any:
        key = (table.name, operation)
        child = self._table_ops.get(key)
        if child is None:
            child = self._table_ops[key] = self._metrics.table_operations.labels(
                table=f"table.{table.name}", operation=operation
            )
        return child

    def on_table_get(self, table: Any, key: Any) -> None:
        """Same series as faust's: table reads."""
        Monitor.on_table_get(self, table, key)
        self._table_op(table, self.KEYS_RETRIEVED).inc()

    def on_table_set(self, table: Any, key: Any, value: Any) -> None:
        """Same series as faust's: table writes."""
        Monitor.on_table_set(self, table, key, value)
        self._table_op(table, self.KEYS_UPDATED).inc()

    def on_table_del(self, table: Any, key: Any) -> None:
        """Same series as faust's: table deletes."""
        Monitor.on_table_del(self, table, key)
        self._table_op(table, self.KEYS_DELETED).inc()
