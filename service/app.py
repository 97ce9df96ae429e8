"""The faust App, its topics and tables: built from :class:`Settings`, nothing else.

Pipeline (stage 1 is :mod:`service.ingest`, a plain consumer group; stages 2 and 3 are thin
faust agents in :mod:`service.agents`)::

    skytally.reports ──decode+extract──▶ skytally.interceptions (key: statement fingerprint)
                      └─ bad input ─────▶ skytally.dead-letter
    skytally.interceptions ──statements table (max-merge per fingerprint)──▶
    skytally.region-updates (key: region code) ──buckets table (region × UTC hour)──▶
        skytally.region-counts (key: window|start|code)  and  skytally.alerts

Tables are changelogged, so a restarted worker recovers them; every merge is idempotent,
so redelivery after a crash cannot double a count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import faust
from prometheus_client import CollectorRegistry

from service import faust_guards
from service.kafka_admin import ssl_context
from service.logs import configure_structlog, logging_config
from service.metrics import Metrics
from service.partitioner import CachedPartitioner
from service.settings import Settings, get_settings
from service.windows import WindowSpec, parse_windows


def broker_credentials(settings: Settings) -> Any:
    """faust/aiokafka credentials from settings: SASL, TLS, or None for PLAINTEXT."""
    context = ssl_context(settings)
    if settings.kafka_security_protocol.startswith("SASL"):
        password = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username or "",
            password=password,
            mechanism=settings.kafka_sasl_mechanism or "PLAIN",
            ssl_context=context,
        )
    return context


def create_app(settings: Settings) -> faust.App:
    """Build the faust App for these settings (no connection is made here)."""
    configure_structlog()
    faust_guards.install()
    servers = [f"kafka://{host.strip()}" for host in settings.kafka_bootstrap.split(",") if host.strip()]
    return faust.App(
        settings.app_id,
        broker=servers,
        broker_credentials=broker_credentials(settings),
        store=settings.store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        table_standby_replicas=settings.standby_replicas,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        producer_acks=-1,  # never 0: Tansu loses messages with acks=0 (BROKERS.md)
        # ~20 records per report (outputs and changelogs): 5 ms of batching turns one request
        # per few records into one per batch (measured: socket sends were 15 % of the CPU).
        producer_linger=0.005,
        # aiokafka keeps one open batch per partition; a send finding it full waits for it to
        # be sent. faust's 16 KB held a region-stage batch's bursts of counts and alerts (a few
        # KB each) to one broker round trip per few records.
        producer_max_batch_size=settings.producer_batch_bytes,
        # murmur2 in pure Python per keyed record, remembered per key (service.partitioner).
        producer_partitioner=CachedPartitioner(),
        consumer_auto_offset_reset="earliest",
        web_host=settings.web_host,
        web_port=settings.web_port,
        logging_config=logging_config(),
        version=1,
    )


@dataclass
class Topics:
    """The topics the faust agents consume or produce (stage 1 has its own clients)."""

    interceptions: Any
    region_updates: Any
    region_counts: Any
    alerts: Any
    dead_letter: Any
    source_activity: Any


def create_topics(app: faust.App, settings: Settings) -> Topics:
    """Declare the faust topics; JSON values (created up front by :mod:`service.kafka_admin`)."""
    json_topic: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "json"}
    return Topics(
        interceptions=app.topic(settings.topic_interceptions, **json_topic),
        region_updates=app.topic(settings.topic_region_updates, **json_topic),
        region_counts=app.topic(settings.topic_region_counts, **json_topic),
        alerts=app.topic(settings.topic_alerts, **json_topic),
        dead_letter=app.topic(settings.topic_dead_letter, **json_topic),
        source_activity=app.topic(settings.topic_source_activity, **json_topic),
    )


@dataclass
class Runtime:
    """Process-wide objects the agents and web views share."""

    settings: Settings
    registry: CollectorRegistry
    metrics: Metrics
    windows: tuple[WindowSpec, ...]
    extra: dict[str, Any] = field(default_factory=dict)


settings = get_settings()
app = create_app(settings)
topics = create_topics(app, settings)
registry = CollectorRegistry(auto_describe=True)
runtime = Runtime(
    settings=settings,
    registry=registry,
    metrics=Metrics(registry),
    windows=parse_windows(settings.windows),
)

#: statement fingerprint -> merged statement (service.aggregate.StatementState)
statements_table = app.Table(
    "statements", default=None, help="One entry per real-world statement, max-merged across outlets."
)
#: "code|bucket_start" -> hour bucket of one region (service.aggregate.BucketState)
buckets_table = app.Table(
    "region-buckets", default=None, help="Per region and UTC hour: each statement's figure."
)
#: "window|window_start|code" -> alert state (service.alerting)
alerts_table = app.Table("alert-state", default=None, help="Alert lifecycle state per region window.")
