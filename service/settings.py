"""The one reader of the environment: every setting is a ``SKYTALLY_*`` variable.

Each field's description names its variable; the README lists them all.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """skytally configuration (environment variables with prefix ``SKYTALLY_``)."""

    model_config = SettingsConfigDict(env_prefix="SKYTALLY_", extra="ignore")

    # --- Kafka -------------------------------------------------------------------------------
    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092", description="SKYTALLY_KAFKA_BOOTSTRAP: host:port[,host:port]"
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="SKYTALLY_KAFKA_SECURITY_PROTOCOL"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        default=None, description="SKYTALLY_KAFKA_SASL_MECHANISM"
    )
    kafka_sasl_username: str | None = Field(default=None, description="SKYTALLY_KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="SKYTALLY_KAFKA_SASL_PASSWORD (never logged)"
    )
    kafka_ssl_cafile: Path | None = Field(default=None, description="SKYTALLY_KAFKA_SSL_CAFILE")
    kafka_ssl_certfile: Path | None = Field(default=None, description="SKYTALLY_KAFKA_SSL_CERTFILE")
    kafka_ssl_keyfile: Path | None = Field(default=None, description="SKYTALLY_KAFKA_SSL_KEYFILE")
    session_timeout_s: float = Field(
        default=10.0, gt=0, description="SKYTALLY_SESSION_TIMEOUT_S: consumer group session timeout"
    )
    heartbeat_interval_s: float = Field(default=1.0, gt=0, description="SKYTALLY_HEARTBEAT_INTERVAL_S")
    partitions: int = Field(default=4, ge=1, description="SKYTALLY_PARTITIONS: topic partitions")
    replication_factor: int = Field(default=1, ge=1, description="SKYTALLY_REPLICATION_FACTOR")
    standby_replicas: int = Field(
        default=1,
        ge=0,
        le=10,
        description=(
            "SKYTALLY_STANDBY_REPLICAS: standby copies of each table partition other workers keep "
            "(faust's table_standby_replicas); 0 saves every worker reading the others' changelogs, "
            "at the price of a full changelog recovery when a worker takes a partition over"
        ),
    )

    # --- Topics ------------------------------------------------------------------------------
    topic_reports: str = Field(default="skytally.reports", description="SKYTALLY_TOPIC_REPORTS")
    topic_interceptions: str = Field(
        default="skytally.interceptions", description="SKYTALLY_TOPIC_INTERCEPTIONS"
    )
    topic_region_counts: str = Field(
        default="skytally.region-counts", description="SKYTALLY_TOPIC_REGION_COUNTS"
    )
    topic_alerts: str = Field(default="skytally.alerts", description="SKYTALLY_TOPIC_ALERTS")
    topic_dead_letter: str = Field(default="skytally.dead-letter", description="SKYTALLY_TOPIC_DEAD_LETTER")
    topic_region_updates: str = Field(
        default="skytally.region-updates",
        description="SKYTALLY_TOPIC_REGION_UPDATES: internal, statement figures keyed by region",
    )
    topic_source_activity: str = Field(
        default="skytally.source-activity",
        description="SKYTALLY_TOPIC_SOURCE_ACTIVITY: when each source was last heard from (compacted)",
    )

    # --- Worker ------------------------------------------------------------------------------
    app_id: str = Field(default="skytally", description="SKYTALLY_APP_ID: consumer group / app id")
    store: str = Field(
        default="memory://", description="SKYTALLY_STORE: memory:// or rocksdb:// (production)"
    )
    data_dir: Path = Field(
        default=Path("./skytally-data"), description="SKYTALLY_DATA_DIR: table state directory"
    )
    web_host: str = Field(default="127.0.0.1", description="SKYTALLY_WEB_HOST: bind address")
    web_port: int = Field(default=6066, ge=0, le=65535, description="SKYTALLY_WEB_PORT")
    max_report_bytes: int = Field(
        default=256 * 1024, gt=0, description="SKYTALLY_MAX_REPORT_BYTES: larger reports are dead-lettered"
    )
    log_level: str = Field(default="info", description="SKYTALLY_LOG_LEVEL")
    extract_processes: int = Field(
        default=0,
        ge=0,
        le=64,
        description=(
            "SKYTALLY_EXTRACT_PROCESSES: processes that extract reports next to the worker's event "
            "loop (0: extract in the worker process itself)"
        ),
    )
    batch_max: int = Field(
        default=256,
        ge=1,
        le=10_000,
        description=(
            "SKYTALLY_BATCH_MAX: the statement and region stages take up to this many messages at "
            "a time; each table key changed in a batch is written once, each window count sent once"
        ),
    )
    batch_wait_ms: float = Field(
        default=20.0,
        gt=0,
        le=10_000,
        description=(
            "SKYTALLY_BATCH_WAIT_MS: how long a stage waits to fill a batch before it processes "
            "what it has (adds at most this much latency per stage)"
        ),
    )
    batch_fill_ms: float = Field(
        default=250.0,
        ge=0,
        le=60_000,
        description=(
            "SKYTALLY_BATCH_FILL_MS: while a backlog waits in Kafka (at least enough messages "
            "to fill the batch), a stage keeps filling a batch up to this long in all; at a "
            "steady rate nothing waits and a batch goes after SKYTALLY_BATCH_WAIT_MS"
        ),
    )
    producer_batch_bytes: int = Field(
        default=256 * 1024,
        ge=16 * 1024,
        le=1024 * 1024,
        description=(
            "SKYTALLY_PRODUCER_BATCH_BYTES: the most bytes one producer batch per partition "
            "holds (faust's and stage 1's producers); a send to a partition whose batch is "
            "full waits until the batch is on its way, one broker round trip per batch"
        ),
    )

    ingest_max_ahead: int = Field(
        default=5_000,
        ge=0,
        le=10_000_000,
        description=(
            "SKYTALLY_INGEST_MAX_AHEAD: stage 1 pauses reading reports while the worker's "
            "statement and region stages have more than this many messages waiting in Kafka, "
            "and resumes at half of it; 0: never pause"
        ),
    )
    gc_young_threshold: int = Field(
        default=50_000,
        ge=0,
        le=10_000_000,
        description=(
            "SKYTALLY_GC_YOUNG_THRESHOLD: the worker's young-generation garbage-collection "
            "threshold (Python's default 700); the worker also freezes its start-up objects out "
            "of full collections. 0: Python's defaults, nothing frozen"
        ),
    )

    api_history_hours: float = Field(
        default=2160.0,
        gt=0,
        description=(
            "SKYTALLY_API_HISTORY_HOURS: /api/regions serves windows that ended up to this long "
            "before the newest one (90 days); older ones are forgotten by the API, not the topic"
        ),
    )
    source_check_interval_s: float = Field(
        default=30.0,
        gt=0,
        description="SKYTALLY_SOURCE_CHECK_INTERVAL_S: how often the leader checks the source_silent rules",
    )

    # --- Windows and alerts ------------------------------------------------------------------
    windows: str = Field(
        default="1h,24h,night",
        description="SKYTALLY_WINDOWS: comma list of windows; 'Nh' tumbling, 'Nh/Mh' hopping (size/step)",
    )
    grace_hours: float = Field(
        default=24.0, ge=0, description="SKYTALLY_GRACE_HOURS: how late a statement may arrive"
    )
    retention_hours: float = Field(
        default=72.0,
        ge=0,
        description=(
            "SKYTALLY_RETENTION_HOURS: state of windows closed longer ago than this is deleted; "
            "a statement for them is dropped as expired (logged, skytally_late_statements_total)"
        ),
    )
    late_policy: Literal["count", "drop"] = Field(
        default="count",
        description=(
            "SKYTALLY_LATE_POLICY: a statement whose windows closed (beyond the grace period) is "
            "'count'ed into them anyway (no new alert) or 'drop'ped; either way logged and counted "
            "in skytally_late_statements_total"
        ),
    )
    rules: Path | None = Field(
        default=None, description="SKYTALLY_RULES: alert rules TOML file; built-in defaults when unset"
    )
    alertmanager_url: str | None = Field(
        default=None,
        description="SKYTALLY_ALERTMANAGER_URL: Alertmanager base URL (http://host:9093); unset: topic only",
    )
    runbook_base_url: str | None = Field(
        default=None,
        description="SKYTALLY_RUNBOOK_BASE_URL: runbook link base in alerts (default: the rules file's)",
    )

    @model_validator(mode="after")
    def _sasl_complete(self) -> Settings:
        if self.kafka_security_protocol.startswith("SASL"):
            missing = [
                f"SKYTALLY_KAFKA_SASL_{name.upper()}"
                for name in ("mechanism", "username", "password")
                if getattr(self, f"kafka_sasl_{name}") is None
            ]
            if missing:
                protocol = f"SKYTALLY_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol}"
                raise ValueError(f"{protocol} needs {', '.join(missing)}")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
