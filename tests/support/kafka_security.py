"""A TLS- and SASL-secured Apache Kafka for tests: certificates, users, listeners, clients.

``make_pki(folder)`` writes a test CA and a server certificate for ``127.0.0.1``/``localhost``
(PEM, made with the ``openssl`` command line), plus an unrelated CA to play the wrong one.
``secured_kafka(pki)`` configures a :class:`KafkaKRaft` with three extra listeners:

* ``SSL``             TLS, server certificate from PEM files (no client certificate asked);
* ``SASL``            SASL_PLAINTEXT with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512;
* ``SASL_TLS``        SASL_SSL with the same mechanisms, over the same certificate.

Its SCRAM users are created when the data folder is formatted; PLAIN users live in the JAAS
line. ``produce_one`` / ``consume_until`` take aiokafka connection keywords (e.g. from
``service.kafka_admin.aiokafka_config``), so the test's own clients go through the secured
listener too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from service.broker import free_port, log_tail, spawn, stop_process

from .brokers import KafkaKRaft, Listener
from .skytally_worker import REPO_ROOT

SSL_LISTENER = "SSL"
SASL_LISTENER = "SASL"
SASL_SSL_LISTENER = "SASL_TLS"
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class User:
    """A SASL user known to the secured broker, for one mechanism."""

    name: str
    password: str
    mechanism: str


#: One user per mechanism; passwords are distinctive so a log search cannot miss a leak.
USERS = {
    "PLAIN": User("pauline", "pauline-Pl41n-s3cret", "PLAIN"),
    "SCRAM-SHA-256": User("alice", "alice-Scr4m256-s3cret", "SCRAM-SHA-256"),
    "SCRAM-SHA-512": User("bob", "bob-Scr4m512-s3cret", "SCRAM-SHA-512"),
}


@dataclass(frozen=True)
class Pki:
    """PEM files of a test CA, the broker's certificate and key, and a CA that signed nothing."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    server_keystore: Path  # the key followed by the certificate: Kafka's PEM keystore file
    wrong_ca_cert: Path


def _openssl(*args: str) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError(
            "the 'openssl' command is needed to make test certificates (apt-get install openssl)"
        )
    result = subprocess.run([openssl, *args], capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")


def _make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key))
    _openssl(
        "req", "-x509", "-new", "-key", str(key), "-out", str(cert), "-days", "2", "-sha256",
        "-subj", f"/CN=skytally test {name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-addext", "subjectKeyIdentifier=hash",
    )  # fmt: skip
    return key, cert


def make_pki(folder: Path) -> Pki:
    """Write a CA, a server certificate for 127.0.0.1/localhost signed by it, and a wrong CA."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _make_ca(folder, "ca")
    _, wrong_ca_cert = _make_ca(folder, "wrong-ca")
    key, csr, cert = folder / "server.key", folder / "server.csr", folder / "server.pem"
    ext = folder / "server.ext"
    ext.write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid:always\n"
    )
    # genpkey writes PKCS#8 ("BEGIN PRIVATE KEY"), the only unencrypted form Kafka's PEM store reads.
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key))
    _openssl("req", "-new", "-key", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-sha256", "-extfile", str(ext),
    )  # fmt: skip
    keystore = folder / "server-keystore.pem"
    keystore.write_text(key.read_text() + cert.read_text())
    return Pki(ca_cert, cert, key, keystore, wrong_ca_cert)


def _sasl_properties() -> dict[str, str]:
    plain_users = " ".join(f'user_{u.name}="{u.password}"' for u in USERS.values() if u.mechanism == "PLAIN")
    props = {
        "sasl.enabled.mechanisms": ",".join(MECHANISMS),
        "plain.sasl.jaas.config": (
            f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};"
        ),
    }
    for mechanism in MECHANISMS[1:]:
        props[f"{mechanism.lower()}.sasl.jaas.config"] = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        )
    return props


def _tls_properties(pki: Pki) -> dict[str, str]:
    return {
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(pki.server_keystore),
        "ssl.client.auth": "none",
    }


def secured_kafka(pki: Pki, data_dir: Path | None = None) -> KafkaKRaft:
    """A not yet started Kafka with SSL, SASL_PLAINTEXT and SASL_SSL listeners and the USERS."""
    scram = [
        arg
        for user in USERS.values()
        if user.mechanism.startswith("SCRAM")
        for arg in ("--add-scram", f"{user.mechanism}=[name={user.name},password={user.password}]")
    ]
    return KafkaKRaft(
        data_dir=data_dir,
        listeners=[
            Listener(SSL_LISTENER, "SSL", _tls_properties(pki)),
            Listener(SASL_LISTENER, "SASL_PLAINTEXT", _sasl_properties()),
            Listener(SASL_SSL_LISTENER, "SASL_SSL", {**_tls_properties(pki), **_sasl_properties()}),
        ],
        format_args=scram,
    )


# --------------------------------------------------------------------------- clients


async def produce_one(config: dict[str, Any], topic: str, value: dict[str, Any], key: str) -> None:
    """Send one JSON message with the given aiokafka connection keywords and wait for its ack."""
    producer = AIOKafkaProducer(acks="all", request_timeout_ms=30_000, **config)
    await producer.start()
    try:
        await producer.send_and_wait(topic, json.dumps(value).encode(), key=key.encode())
    finally:
        await producer.stop()


async def consume_until(
    config: dict[str, Any],
    topic: str,
    done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    timeout: float = 60.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read ``topic`` from the start, without a group, until ``done(records)``; fail on timeout."""
    consumer = AIOKafkaConsumer(
        topic, auto_offset_reset="earliest", enable_auto_commit=False, metadata_max_age_ms=1_000, **config
    )
    await consumer.start()
    seen: list[ConsumerRecord[bytes, bytes]] = []
    try:
        deadline = time.monotonic() + timeout
        while not done(seen):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"{topic}: not satisfied after {timeout:.0f} s, {len(seen)} record(s) read"
                )
            for records in (await consumer.getmany(timeout_ms=int(min(left, 0.5) * 1000))).values():
                seen.extend(records)
        return seen
    finally:
        await consumer.stop()


def run_worker_to_exit(env: dict[str, str], log_path: Path, timeout: float = 60.0) -> tuple[int, float, str]:
    """Run ``skytally worker`` expected to fail; returns (exit code, seconds taken, whole log)."""
    full = {**os.environ, **env, "SKYTALLY_WEB_PORT": str(free_port())}
    argv = [sys.executable, "-m", "service", "worker", "-l", "info", "--web-host", "127.0.0.1"]
    began = time.monotonic()
    proc = spawn(argv, log_path, cwd=REPO_ROOT, env=full)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_process(proc, 5)
        raise AssertionError(
            f"worker still running after {timeout:.0f} s, expected it to fail:\n{log_tail(log_path, 40)}"
        ) from None
    return code, time.monotonic() - began, log_path.read_text(encoding="utf-8", errors="replace")
