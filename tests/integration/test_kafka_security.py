"""Kafka security: the real worker over TLS and SASL (PLAIN, SCRAM) on Apache Kafka; wrong ones refused.

One secured Apache Kafka per module (needs Java 17+): a TLS listener with a certificate made
here, SASL_PLAINTEXT and SASL_SSL listeners with PLAIN and SCRAM users. The unit tests at the
end need no broker.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from service.kafka_admin import aiokafka_config
from service.settings import Settings
from tests.support import session
from tests.support.brokers import KafkaKRaft, needs_kafka
from tests.support.kafka_security import (
    SASL_LISTENER,
    SASL_SSL_LISTENER,
    SSL_LISTENER,
    USERS,
    Pki,
    consume_until,
    make_pki,
    produce_one,
    run_worker_to_exit,
    secured_kafka,
)
from tests.support.skytally_worker import start_skytally_worker, worker_env

REPORT = (
    "Russian air defences destroyed 13 Ukrainian drones from 10:40 pm on March 3 to 6:00 am "
    "on March 4, the Defence Ministry said: seven over the Belgorod Region and six over the "
    "Rostov Region."
)
EXPECTED = {"Belgorod Oblast": 7, "Rostov Oblast": 6}
WRONG_PASSWORD = "Wr0ng-pa55word-n0t-logged"


@dataclass(frozen=True)
class Secured:
    """The module's secured broker and its certificates."""

    kafka: KafkaKRaft
    pki: Pki


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    """One Apache Kafka with TLS, SASL and SASL_SSL listeners for the whole module."""
    needs_kafka("Tansu has no TLS or SASL listeners")
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    kafka = session.start_with_retry(lambda: secured_kafka(pki))
    print(f"[secured kafka] ready in {kafka.started_in:.2f} s, listeners {kafka.listener_ports}")
    yield Secured(kafka, pki)
    kafka.close()


def _security_env(
    secured: Secured, protocol: str, mechanism: str | None, password: str | None
) -> dict[str, str]:
    """SKYTALLY_KAFKA_* variables for ``protocol``; SASL ones for ``mechanism``'s user."""
    env = {"SKYTALLY_KAFKA_SECURITY_PROTOCOL": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        env["SKYTALLY_KAFKA_SSL_CAFILE"] = str(secured.pki.ca_cert)
    if mechanism is not None:
        user = USERS[mechanism]
        env |= {
            "SKYTALLY_KAFKA_SASL_MECHANISM": mechanism,
            "SKYTALLY_KAFKA_SASL_USERNAME": user.name,
            "SKYTALLY_KAFKA_SASL_PASSWORD": password if password is not None else user.password,
        }
    return env


def _client_config(bootstrap: str, env: dict[str, str]) -> dict[str, Any]:
    """aiokafka keywords for the test's own clients, built by the service's aiokafka_config."""
    fields = {
        k.removeprefix("SKYTALLY_").lower(): v for k, v in env.items() if k.startswith("SKYTALLY_KAFKA_")
    }
    return aiokafka_config(Settings.model_validate({**fields, "kafka_bootstrap": bootstrap}))


def _report_round_trip(
    secured: Secured, listener: str, env: dict[str, str], uid: str, tmp_path: Path
) -> tuple[dict[str, Any], str]:
    """Start the worker with ``env`` on ``listener``, send one report, return its result and the log."""
    bootstrap = secured.kafka.address(listener)
    full_env = worker_env(bootstrap, f"t-{uid}", f"skytally-{uid}", tmp_path / "state", **env)
    log_path = tmp_path / "worker.log"
    handle = start_skytally_worker(full_env, log_path)
    try:
        config = _client_config(bootstrap, env)
        message = {
            "id": uid,
            "source": "test-outlet",
            "url": f"https://example.org/{uid}",
            "published_at": "2026-03-04T05:00:00+00:00",
            "language": "en",
            "text": REPORT,
        }
        asyncio.run(produce_one(config, handle.topics["reports"], message, key=uid))

        def mine(records: list[Any]) -> list[dict[str, Any]]:
            parsed = [json.loads(r.value) for r in records if r.value]
            return [v for v in parsed if isinstance(v, dict) and v.get("id") == uid]

        records = asyncio.run(
            consume_until(config, handle.topics["interceptions"], lambda seen: bool(mine(seen)))
        )
    finally:
        code = handle.stop()
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert code in (0, -15), f"worker exit code {code}:\n{log[-3000:]}"
    (result,) = mine(records)
    return result, log


@pytest.mark.integration
def test_worker_processes_a_report_over_tls(secured: Secured, unique_id: str, tmp_path: Path) -> None:
    """With the test CA, the worker reads and writes over the TLS listener end to end."""
    env = _security_env(secured, "SSL", None, None)
    result, _ = _report_round_trip(secured, SSL_LISTENER, env, unique_id, tmp_path)
    assert EXPECTED == {r["region"]: r["count"] for r in result["interceptions"]}


@pytest.mark.integration
def test_worker_with_wrong_ca_exits_with_a_tls_error(
    secured: Secured, unique_id: str, tmp_path: Path
) -> None:
    """A CA that did not sign the broker's certificate: quick non-zero exit naming the TLS failure."""
    env = _security_env(secured, "SSL", None, None) | {
        "SKYTALLY_KAFKA_SSL_CAFILE": str(secured.pki.wrong_ca_cert)
    }
    full = worker_env(secured.kafka.address(SSL_LISTENER), f"t-{unique_id}", unique_id, tmp_path / "s", **env)
    code, took, log = run_worker_to_exit(full, tmp_path / "worker.log")
    assert code != 0, log
    assert took < 30, f"took {took:.1f} s to fail:\n{log}"
    (line,) = [x for x in log.splitlines() if x.startswith("skytally: ")]
    assert "TLS handshake" in line, log
    assert "CERTIFICATE_VERIFY_FAILED" in line, log
    assert "SKYTALLY_KAFKA_SSL_CAFILE" in line, log


@pytest.mark.integration
@pytest.mark.parametrize(
    ("mechanism", "protocol", "listener"),
    [
        ("SCRAM-SHA-256", "SASL_PLAINTEXT", SASL_LISTENER),
        ("SCRAM-SHA-512", "SASL_SSL", SASL_SSL_LISTENER),
        ("PLAIN", "SASL_PLAINTEXT", SASL_LISTENER),
    ],
)
def test_worker_processes_a_report_with_sasl(
    secured: Secured, unique_id: str, tmp_path: Path, mechanism: str, protocol: str, listener: str
) -> None:
    """With the right user and password the worker authenticates and processes a report."""
    env = _security_env(secured, protocol, mechanism, None)
    result, log = _report_round_trip(secured, listener, env, unique_id, tmp_path)
    assert EXPECTED == {r["region"]: r["count"] for r in result["interceptions"]}
    assert f"Authenticated as {USERS[mechanism].name} via {mechanism}" in log  # faust's own clients
    assert USERS[mechanism].password not in log


@pytest.mark.integration
@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"])
def test_worker_with_wrong_password_exits_with_an_auth_error(
    secured: Secured, unique_id: str, tmp_path: Path, mechanism: str
) -> None:
    """A wrong password: quick non-zero exit naming user and mechanism, the password never logged."""
    env = _security_env(secured, "SASL_PLAINTEXT", mechanism, WRONG_PASSWORD)
    full = worker_env(
        secured.kafka.address(SASL_LISTENER), f"t-{unique_id}", unique_id, tmp_path / "s", **env
    )
    code, took, log = run_worker_to_exit(full, tmp_path / "worker.log")
    assert code != 0, log
    assert took < 30, f"took {took:.1f} s to fail:\n{log}"
    (line,) = [x for x in log.splitlines() if x.startswith("skytally: ")]
    assert "SASL authentication failed" in line, log
    assert f"user '{USERS[mechanism].name}'" in line, log
    assert f"mechanism {mechanism}" in line, log
    assert WRONG_PASSWORD not in log


# --------------------------------------------------------------------------- no broker


def _sasl_settings(pki: Pki) -> Settings:
    return Settings(
        kafka_bootstrap="broker:9093",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="bob",
        kafka_sasl_password=WRONG_PASSWORD,
        kafka_ssl_cafile=pki.ca_cert,
    )


def test_settings_never_reveal_the_sasl_password(tmp_path: Path) -> None:
    """repr, str, JSON and dict dumps of Settings mask the SASL password."""
    settings = _sasl_settings(make_pki(tmp_path))
    for shown in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        assert WRONG_PASSWORD not in shown
    assert settings.kafka_sasl_password is not None
    assert WRONG_PASSWORD == settings.kafka_sasl_password.get_secret_value()


def test_aiokafka_config_carries_tls_and_sasl(tmp_path: Path) -> None:
    """aiokafka_config: protocol, mechanism, user, password and a verifying context with our CA."""
    config = aiokafka_config(_sasl_settings(make_pki(tmp_path)))
    context = config.pop("ssl_context")
    assert {
        "bootstrap_servers": "broker:9093",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "bob",
        "sasl_plain_password": WRONG_PASSWORD,
    } == config
    assert (ssl.CERT_REQUIRED, True) == (context.verify_mode, context.check_hostname)
    assert [((("commonName", "skytally test ca"),),)] == [c["subject"] for c in context.get_ca_certs()]


def test_broker_credentials_give_faust_the_same_connection(tmp_path: Path) -> None:
    """faust turns broker_credentials into the same aiokafka keywords; its repr hides the password."""
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
    from faust.types.auth import to_credentials

    from service.app import broker_credentials

    pki = make_pki(tmp_path)
    settings = _sasl_settings(pki)
    credentials = broker_credentials(settings)
    assert WRONG_PASSWORD not in repr(credentials)
    auth = dict(credentials_to_aiokafka_auth(to_credentials(credentials)))
    expected = aiokafka_config(settings)
    assert auth.pop("ssl_context").get_ca_certs() == expected.pop("ssl_context").get_ca_certs()
    assert {k: v for k, v in expected.items() if k != "bootstrap_servers"} == auth

    tls = settings.model_copy(update={"kafka_security_protocol": "SSL"})
    auth = dict(credentials_to_aiokafka_auth(to_credentials(broker_credentials(tls))))
    assert "SSL" == auth["security_protocol"]
    assert isinstance(auth["ssl_context"], ssl.SSLContext)

    plain = settings.model_copy(
        update={"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_ssl_cafile": None}
    )
    auth = dict(credentials_to_aiokafka_auth(to_credentials(broker_credentials(plain))))
    assert ("SASL_PLAINTEXT", None) == (auth["security_protocol"], auth["ssl_context"])
