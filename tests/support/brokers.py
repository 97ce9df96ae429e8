"""Real brokers for integration tests: Apache Kafka in KRaft mode, Tansu, or one you run.

``select_broker()`` reads ``SKYTALLY_TEST_BROKER``:

* ``kafka``      genuine Apache Kafka (jars from Maven Central, see kafka_jars.py), one node
                 that is both broker and controller, data in a temporary folder;
* ``tansu``      the embedded Tansu broker of ``service.broker`` (in memory, no Java);
* ``HOST:PORT``  a broker someone else runs; never started or stopped by us.

Default: ``kafka`` when ``java`` is on PATH, else ``tansu``. Every choice is an object with
``.kind``, ``.bootstrap``, ``.start()``, ``.stop()``, ``.restart()`` and
``.keeps_data_on_restart`` so tests can state which behaviour they expect.
"""

from __future__ import annotations

import atexit
import base64
import os
import shutil
import struct
import subprocess
import tempfile
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Self, runtime_checkable

from service.broker import (
    LOOPBACK,
    BrokerStartError,
    EmbeddedTansu,
    free_port,
    log_tail,
    probe_metadata,
    spawn,
    stop_process,
)

from .kafka_jars import LOG4J_CONFIG, ensure_jars, is_complete, jars_dir, kafka_version

ENV_BROKER = "SKYTALLY_TEST_BROKER"
ENV_HEAP = "SKYTALLY_KAFKA_HEAP"

__all__ = [
    "ENV_BROKER",
    "AnyBroker",
    "BrokerStartError",
    "ExternalBroker",
    "KafkaKRaft",
    "Listener",
    "TansuBroker",
    "TestBroker",
    "default_kind",
    "local_kind",
    "make_broker",
    "needs_kafka",
    "select_broker",
]


@runtime_checkable
class TestBroker(Protocol):
    """What tests may rely on, whichever broker runs."""

    kind: str
    keeps_data_on_restart: bool

    @property
    def bootstrap(self) -> str:
        """``host:port`` for Kafka clients."""

    def start(self) -> object:
        """Start (or reconnect to) the broker and wait until it answers Metadata."""

    def stop(self) -> None:
        """Stop the broker; data survives only if ``keeps_data_on_restart``."""

    def restart(self) -> None:
        """Stop and start again on the same address."""


# --------------------------------------------------------------------------- Apache Kafka


def _kafka_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (22 chars).

    Never starting with "-" (one id in 64 would), which ``kafka-storage format -t`` reads as an
    option; Kafka's own ``Uuid.randomUuid`` avoids those ids for the same reason.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


_RUNNING: weakref.WeakSet[KafkaKRaft] = weakref.WeakSet()


@dataclass(frozen=True)
class Listener:
    """An extra client listener of :class:`KafkaKRaft`, e.g. TLS or SASL.

    ``name`` is the listener name (``[A-Z_]+``, not PLAINTEXT or CONTROLLER), ``protocol`` its
    security protocol (SSL, SASL_PLAINTEXT, SASL_SSL). ``properties`` are written with the
    ``listener.name.<name>.`` prefix, e.g. ``{"ssl.keystore.type": "PEM"}`` or
    ``{"sasl.enabled.mechanisms": "PLAIN", "plain.sasl.jaas.config": "..."}``.
    """

    name: str
    protocol: str
    properties: Mapping[str, str] = field(default_factory=dict)


@atexit.register
def _close_all_at_exit() -> None:
    """No orphan JVMs or temp folders if a session ends without the fixture's teardown."""
    for broker in list(_RUNNING):
        broker.close()


class KafkaKRaft:
    """One Apache Kafka node (broker + controller, KRaft) on free loopback ports.

    The first :meth:`start` formats a data folder; :meth:`stop` then :meth:`start` (or
    :meth:`restart`) reuses that folder and the same ports, so topics, committed offsets and
    changelogs survive, as after a real broker restart. :meth:`kill` is a crash (SIGKILL).
    :meth:`close` stops and deletes the folder if we created it.

    Optional ``listeners`` add TLS/SASL client listeners beside the PLAINTEXT one (which stays
    the inter-broker listener and :attr:`bootstrap`); :meth:`address` gives each one's
    ``host:port``. ``format_args`` go to ``kafka-storage format`` on the first start, e.g.
    ``["--add-scram", "SCRAM-SHA-256=[name=alice,password=secret]"]`` to create SCRAM users.
    """

    kind = "kafka"
    keeps_data_on_restart = True

    def __init__(
        self,
        *,
        data_dir: Path | None = None,
        heap: str | None = None,
        start_timeout: float = 90.0,
        stop_timeout: float = 20.0,
        extra_properties: dict[str, str] | None = None,
        listeners: Sequence[Listener] = (),
        format_args: Sequence[str] = (),
    ) -> None:
        """Configure, do not start. ``heap`` defaults to ``$SKYTALLY_KAFKA_HEAP`` or 512m."""
        self._own_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="skytally-kafka-"))
        self.heap = heap or os.environ.get(ENV_HEAP, "512m")
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.extra_properties = extra_properties or {}
        self.listeners = tuple(listeners)
        self.format_args = tuple(format_args)
        self.listener_ports: dict[str, int] = {}
        self.port = 0
        self.controller_port = 0
        self.cluster_id = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self.started_in: float | None = None

    @property
    def bootstrap(self) -> str:
        """``"127.0.0.1:PORT"`` of the PLAINTEXT listener."""
        if not self.port:
            raise RuntimeError("KafkaKRaft has not been started")
        return f"{LOOPBACK}:{self.port}"

    def address(self, listener: str) -> str:
        """``"127.0.0.1:PORT"`` of the extra listener named ``listener``."""
        if listener not in self.listener_ports:
            known = [x.name for x in self.listeners]
            raise RuntimeError(f"KafkaKRaft has no started listener {listener!r} (listeners: {known})")
        return f"{LOOPBACK}:{self.listener_ports[listener]}"

    @property
    def running(self) -> bool:
        """True while the broker JVM is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id of the JVM, or None."""
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path:
        """Broker log (all starts append to it)."""
        return self.data_dir / "broker.log"

    @property
    def _props_path(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def _logs_dir(self) -> Path:
        return self.data_dir / "kraft-logs"

    def _java(self) -> str:
        java = shutil.which("java")
        if java is None:
            raise BrokerStartError(
                "Apache Kafka needs Java 17+ ('java' is not on PATH). Install it "
                "(`apt-get install openjdk-17-jre-headless`) or set SKYTALLY_TEST_BROKER=tansu."
            )
        return java

    def _write_properties(self) -> None:
        extra = [(x, f"{x.name}://{LOOPBACK}:{self.listener_ports[x.name]}") for x in self.listeners]
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "listeners": ",".join(
                [f"PLAINTEXT://{LOOPBACK}:{self.port}", f"CONTROLLER://{LOOPBACK}:{self.controller_port}"]
                + [url for _, url in extra]
            ),
            "advertised.listeners": ",".join([f"PLAINTEXT://{LOOPBACK}:{self.port}"] + [u for _, u in extra]),
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": ",".join(
                ["PLAINTEXT:PLAINTEXT", "CONTROLLER:PLAINTEXT"] + [f"{x.name}:{x.protocol}" for x, _ in extra]
            ),
            "controller.quorum.bootstrap.servers": f"{LOOPBACK}:{self.controller_port}",
            "log.dirs": str(self._logs_dir),
            "num.partitions": "4",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "auto.create.topics.enable": "true",
            "delete.topic.enable": "true",
            "offsets.topic.replication.factor": "1",
            # 50 partitions by default: creating them costs seconds on 2 cores.
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # faust tests use 2-6 s sessions; the broker's floor must allow them.
            "group.min.session.timeout.ms": "1000",
            # After a SIGKILL the restarted node is refused (DUPLICATE_BROKER_REGISTRATION)
            # until its old broker session expires: 9 s by default, 3 s here (not lower:
            # a busy 2-core box must not fence itself).
            "broker.session.timeout.ms": "3000",
            "broker.heartbeat.interval.ms": "500",
            "log.flush.interval.messages": "9223372036854775807",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "background.threads": "4",
            "num.recovery.threads.per.data.dir": "1",
        }
        for listener in self.listeners:
            prefix = f"listener.name.{listener.name.lower()}."
            props.update({prefix + key: value for key, value in listener.properties.items()})
        props.update(self.extra_properties)
        self._props_path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))

    def _format(self, java: str, jars: Path) -> None:
        """Format the KRaft log folder once (first start only)."""
        self.cluster_id = _kafka_cluster_id()
        argv = [
            java,
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            "-cp",
            f"{jars}/*",
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "-t",
            self.cluster_id,
            "-c",
            str(self._props_path),
            *self.format_args,
        ]
        result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
        if result.returncode != 0:
            raise BrokerStartError(
                f"Formatting the Kafka data folder failed (exit {result.returncode}):\n"
                f"{result.stdout[-2000:]}{result.stderr[-2000:]}\n"
                f"What to do: delete {self.data_dir} or the jar cache {jars} and retry."
            )

    def start(self) -> Self:
        """Start the broker (formatting on first use) and wait for a Metadata answer."""
        if self.running:
            return self
        began = time.monotonic()
        java = self._java()
        jars = ensure_jars()
        if not self.port:
            self.port, self.controller_port = free_port(), free_port()
            self.listener_ports = {x.name: free_port() for x in self.listeners}
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._write_properties()
            self._format(java, jars)
        argv = [
            java,
            f"-Xmx{self.heap}",
            "-Xms128m",
            "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            "-cp",
            f"{jars}/*",
            "kafka.Kafka",
            str(self._props_path),
        ]
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._proc = spawn(argv, self.log_path, cwd=self.data_dir)
        _RUNNING.add(self)
        try:
            self._wait_ready(offset)
        except BaseException:
            stop_process(self._proc, 5)
            self._proc = None
            raise
        self.started_in = time.monotonic() - began
        return self

    def _wait_ready(self, log_offset: int) -> None:
        """Poll until our broker answers Metadata listing itself; fail with the log tail."""
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = self._proc.returncode if self._proc else None
                raise self._failure(f"exited during start with code {code}", log_offset)
            try:
                answer = probe_metadata(LOOPBACK, self.port, timeout=2.0)
            except (OSError, ConnectionError, struct.error, UnicodeDecodeError):
                answer = None
            if answer and answer.cluster_id == self.cluster_id and answer.brokers:
                return
            time.sleep(0.1)
        raise self._failure(f"did not answer Metadata within {self.start_timeout:.0f} s", log_offset)

    def _failure(self, why: str, log_offset: int) -> BrokerStartError:
        return BrokerStartError(
            f"Apache Kafka {kafka_version()} {why} (bootstrap {LOOPBACK}:{self.port}, "
            f"data {self.data_dir}).\n--- last lines of {self.log_path} ---\n"
            f"{log_tail(self.log_path, 40, offset=log_offset)}\n---\n"
            "What to do: read the log above (port clash, too little memory, corrupt jar cache: "
            f"delete {jars_dir()}); or run with SKYTALLY_TEST_BROKER=tansu."
        )

    def stop(self) -> None:
        """Graceful stop: SIGTERM (controlled shutdown), SIGKILL after ``stop_timeout``."""
        proc, self._proc = self._proc, None
        stop_process(proc, self.stop_timeout)

    def kill(self) -> None:
        """Crash the broker (SIGKILL), as a power cut would; data folder stays."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)

    def restart(self) -> None:
        """Stop, then start on the same ports with the same data."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop and delete the data folder if this object created it."""
        self.stop()
        _RUNNING.discard(self)
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --------------------------------------------------------------------------- Tansu, external


class TansuBroker(EmbeddedTansu):
    """Embedded Tansu with the test interface; a restart comes back EMPTY (memory storage)."""

    keeps_data_on_restart = False

    def __init__(self, start_timeout: float = 15.0) -> None:
        """Pick a port once so a restart keeps the same bootstrap address."""
        super().__init__(port=free_port(), start_timeout=start_timeout)

    def restart(self) -> None:
        """Stop and start on the same port (all topics and offsets are lost)."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Same as :meth:`stop` (nothing on disk)."""
        self.stop()


class ExternalBroker:
    """A broker run by someone else at ``HOST:PORT``; start only checks that it answers."""

    kind = "external"
    keeps_data_on_restart = True  # we never restart it, so nothing is lost

    def __init__(self, address: str, start_timeout: float = 30.0) -> None:
        """``address`` is ``HOST:PORT``."""
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{ENV_BROKER}={address!r}: expected kafka, tansu or HOST:PORT")
        self.host, self.port = host, int(port)
        self.start_timeout = start_timeout
        self.started_in: float | None = None

    @property
    def bootstrap(self) -> str:
        """The address as given."""
        return f"{self.host}:{self.port}"

    def start(self) -> Self:
        """Wait until the broker answers Metadata."""
        began = time.monotonic()
        deadline = began + self.start_timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                probe_metadata(self.host, self.port, timeout=2.0)
            except (OSError, ConnectionError, struct.error) as exc:
                last = exc
                time.sleep(0.2)
                continue
            self.started_in = time.monotonic() - began
            return self
        raise BrokerStartError(
            f"No Kafka broker answers at {self.bootstrap} ({last!r}). What to do: start it, "
            f"or unset {ENV_BROKER} to let the tests start one."
        )

    def stop(self) -> None:
        """Nothing to do: not ours."""

    def restart(self) -> None:
        """Cannot restart someone else's broker: only re-checks that it answers."""
        self.start()

    def close(self) -> None:
        """Nothing to do: not ours."""


# --------------------------------------------------------------------------- selection

AnyBroker = KafkaKRaft | TansuBroker | ExternalBroker


def default_kind() -> str:
    """``kafka`` when Java is on PATH (and the jars are cached or Maven can fetch them)."""
    has_java = shutil.which("java") is not None
    can_get_jars = is_complete(jars_dir()) or shutil.which("mvn") is not None
    return "kafka" if has_java and can_get_jars else "tansu"


#: Set (as .ci/run does) to turn "needs Apache Kafka" skips into failures: CI has Java, so a
#: test that needs Kafka must run there, never skip.
ENV_REQUIRE_KAFKA = "SKYTALLY_TEST_REQUIRE_KAFKA"


def needs_kafka(why: str, kind: str | None = None) -> None:
    """Skip the calling test, with ``why``, unless Apache Kafka can run here.

    Without Java the suite runs on the embedded Tansu broker; tests that need what only
    Apache Kafka has (TLS and SASL listeners, data kept across a restart, correct end offsets
    for table recovery) skip there, with the reason. With ``$SKYTALLY_TEST_REQUIRE_KAFKA`` set
    they fail instead. ``kind``: the broker the test was given (default: the one this machine
    can run); only ``tansu`` skips.
    """
    import pytest

    kind = kind or default_kind()
    if kind != "tansu":
        return
    where = "no java here, so the suite runs on Tansu" if default_kind() == "tansu" else "this run uses Tansu"
    message = f"needs Apache Kafka ({where}): {why}"
    if os.environ.get(ENV_REQUIRE_KAFKA):
        pytest.fail(f"{message}; install Java 17+ (apt-get install openjdk-17-jre-headless)", pytrace=False)
    pytest.skip(message)


def make_broker(kind: str) -> KafkaKRaft | TansuBroker:
    """A new, not yet started, private broker of ``kind`` (``kafka`` or ``tansu``)."""
    if kind == "kafka":
        return KafkaKRaft()
    if kind == "tansu":
        return TansuBroker()
    raise ValueError(f"unknown broker kind {kind!r}: expected kafka or tansu")


def selected_spec() -> str:
    """The broker asked for by ``$SKYTALLY_TEST_BROKER`` (lower-cased), or the default kind."""
    return (os.environ.get(ENV_BROKER) or default_kind()).strip().lower()


def local_kind() -> str:
    """Kind for a private broker: the selected kind, or the default when HOST:PORT is set."""
    spec = selected_spec()
    return spec if spec in {"kafka", "tansu"} else default_kind()


def select_broker(spec: str | None = None) -> KafkaKRaft | TansuBroker | ExternalBroker:
    """The broker named by ``spec`` or ``$SKYTALLY_TEST_BROKER``, not yet started."""
    spec = (spec or selected_spec()).strip()
    if spec.lower() in {"kafka", "tansu"}:
        return make_broker(spec.lower())
    return ExternalBroker(spec)
