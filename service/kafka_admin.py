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

from service.errors import BrokerError
from service.settings import Settings

#: region-counts holds the latest value per window|start|code: compaction keeps just that.
COMPACTED = {"cleanup.policy": "compact"}


def aiokafka_config(settings: Settings) -> dict[str, Any]:
    """Connection keyword arguments for aiokafka clients (bootstrap, TLS, SASL)."""
    config: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(
            cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        )
        if settings.kafka_ssl_certfile:
            context.load_cert_chain(
                str(settings.kafka_ssl_certfile),
                str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None,
            )
        config["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL"):
        config["sasl_mechanism"] = settings.kafka_sasl_mechanism or "PLAIN"
        config["sasl_plain_username"] = settings.kafka_sasl_username
        password = settings.kafka_sasl_password
        config["sasl_plain_password"] = password.get_secret_value() if password else None
    return config


def topic_specs(settings: Settings) -> dict[str, dict[str, str]]:
    """Every topic the service uses, with its topic-level config."""
    return {
        settings.topic_reports: {},
        settings.topic_interceptions: {},
        settings.topic_region_updates: {},
        settings.topic_region_counts: dict(COMPACTED),
        settings.topic_alerts: {},
        settings.topic_dead_letter: {},
    }


async def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create the service's missing topics; returns the names created."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import KafkaError, TopicAlreadyExistsError

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
        raise BrokerError(
            f"cannot reach Kafka at {settings.kafka_bootstrap} ({type(exc).__name__}: {exc}); "
            "check SKYTALLY_KAFKA_BOOTSTRAP and the SKYTALLY_KAFKA_SECURITY_* settings"
        ) from exc
    finally:
        await admin.close()
