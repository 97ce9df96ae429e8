"""Kafka client settings for aiokafka, and creating the service's topics before the worker starts.

faust creates only the topics it consumes internally; the output topics would otherwise be
auto-created by the broker with its default partition count (1 on a stock Kafka). Creating
every topic up front, with ``SKYTALLY_PARTITIONS`` partitions, keeps partitioning predictable.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

from service.errors import BrokerError, ConfigError
from service.settings import Settings

#: region-counts holds the latest value per window|start|code: compaction keeps just that.
COMPACTED = {"cleanup.policy": "compact"}


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context for SSL / SASL_SSL (None otherwise); a bad file is a ConfigError naming it."""
    if settings.kafka_security_protocol not in ("SSL", "SASL_SSL"):
        return None
    try:
        context = ssl.create_default_context(
            cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        )
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"SKYTALLY_KAFKA_SSL_CAFILE={settings.kafka_ssl_cafile}: cannot be used ({exc})"
        ) from exc
    if settings.kafka_ssl_certfile:
        try:
            context.load_cert_chain(
                str(settings.kafka_ssl_certfile),
                str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None,
            )
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"SKYTALLY_KAFKA_SSL_CERTFILE={settings.kafka_ssl_certfile} / SKYTALLY_KAFKA_SSL_KEYFILE="
                f"{settings.kafka_ssl_keyfile}: cannot be used ({exc})"
            ) from exc
    return context


def aiokafka_config(settings: Settings) -> dict[str, Any]:
    """Connection keyword arguments for aiokafka clients (bootstrap, TLS, SASL)."""
    config: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "security_protocol": settings.kafka_security_protocol,
    }
    context = ssl_context(settings)
    if context is not None:
        config["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL"):
        config["sasl_mechanism"] = settings.kafka_sasl_mechanism or "PLAIN"
        config["sasl_plain_username"] = settings.kafka_sasl_username
        password = settings.kafka_sasl_password
        config["sasl_plain_password"] = password.get_secret_value() if password else None
    return config


#: The worker's tables (service.app); faust names their changelogs "<app id>-<table>-changelog".
TABLES = ("statements", "region-buckets", "alert-state")


def topic_specs(settings: Settings) -> dict[str, dict[str, str]]:
    """Every topic the service uses, with its topic-level config.

    The table changelogs are included: two workers starting together on an empty broker
    otherwise race to create them, and faust crash-loops an agent on ``PartitionsMismatch``
    when it sees a changelog before its partitions exist.
    """
    specs: dict[str, dict[str, str]] = {
        settings.topic_reports: {},
        settings.topic_interceptions: {},
        settings.topic_region_updates: {},
        settings.topic_region_counts: dict(COMPACTED),
        settings.topic_alerts: {},
        settings.topic_dead_letter: {},
        settings.topic_source_activity: dict(COMPACTED),
    }
    for table in TABLES:
        specs[f"{settings.app_id}-{table}-changelog"] = dict(COMPACTED)
    return specs


async def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create the service's missing topics; returns the names created."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(request_timeout_ms=int(timeout_s * 1000), **aiokafka_config(settings))
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        existing = set(await admin.list_topics())
        new = [
            NewTopic(name, settings.partitions, settings.replication_factor, topic_configs=config)
            for name, config in topic_specs(settings).items()
            if name not in existing
        ]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker was first
                await admin.create_topics(new)
        return [t.name for t in new]
    except (KafkaError, OSError, TimeoutError) as exc:
        cause = await _connect_error(settings, timeout_s) if isinstance(exc, KafkaConnectionError) else None
        raise BrokerError(_failure_message(settings, exc, cause)) from exc
    finally:
        await admin.close()


async def _connect_error(settings: Settings, timeout_s: float) -> BaseException | None:
    """Why one direct connection to the first bootstrap server fails (aiokafka's bootstrap only logs it)."""
    from aiokafka.conn import collect_hosts, create_conn

    config = aiokafka_config(settings)
    del config["bootstrap_servers"]
    host, port, _ = collect_hosts(settings.kafka_bootstrap, randomize=False)[0]
    try:
        conn = await asyncio.wait_for(
            create_conn(host, port, request_timeout_ms=int(min(timeout_s, 10) * 1000), **config),
            min(timeout_s, 10),
        )
    except Exception as exc:  # noqa: BLE001 - returned to be reported, never handled
        return exc
    conn.close()
    return None


def _failure_message(settings: Settings, exc: BaseException, cause: BaseException | None) -> str:
    """One line naming what failed: TLS handshake, SASL authentication (user, mechanism), or reach."""
    from aiokafka.errors import SaslAuthenticationFailed, UnsupportedSaslMechanismError

    where = f"Kafka at {settings.kafka_bootstrap}"
    if isinstance(cause, ssl.SSLError):
        return (
            f"TLS handshake with {where} failed ({cause}); check SKYTALLY_KAFKA_SSL_CAFILE (the CA that "
            "signed the broker's certificate), SKYTALLY_KAFKA_SSL_CERTFILE/KEYFILE and "
            "SKYTALLY_KAFKA_SECURITY_PROTOCOL"
        )
    if isinstance(cause, SaslAuthenticationFailed | UnsupportedSaslMechanismError):
        return (
            f"SASL authentication failed for user {settings.kafka_sasl_username!r} with mechanism "
            f"{settings.kafka_sasl_mechanism or 'PLAIN'} at {where} ({cause}); check "
            "SKYTALLY_KAFKA_SASL_USERNAME, SKYTALLY_KAFKA_SASL_PASSWORD and SKYTALLY_KAFKA_SASL_MECHANISM"
        )
    detail = f"; first server: {type(cause).__name__}: {cause}" if cause is not None else ""
    return (
        f"cannot reach {where} ({type(exc).__name__}: {exc}{detail}); "
        "check SKYTALLY_KAFKA_BOOTSTRAP and the SKYTALLY_KAFKA_SECURITY_* settings"
    )
