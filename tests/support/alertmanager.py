"""Start a real Prometheus Alertmanager (the Debian package) for integration tests.

The binary is ``/usr/bin/prometheus-alertmanager`` from the ``prometheus-alertmanager``
Debian package (or ``$SKYTALLY_ALERTMANAGER_BIN``). Each instance gets a free loopback port,
a minimal config and its own storage in a temporary folder, clustering disabled, and is
ready once ``/-/ready`` answers 200. Stopping sends SIGTERM, then SIGKILL after a grace.

    with Alertmanager.launch(tmp_path) as am:
        am.url  # http://127.0.0.1:PORT
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_BINARY = "/usr/bin/prometheus-alertmanager"
ENV_BINARY = "SKYTALLY_ALERTMANAGER_BIN"
INSTALL_COMMAND = "apt-get update && apt-get install -y --no-install-recommends prometheus-alertmanager"

#: One receiver that does nothing: the tests read alerts back through the API.
MINIMAL_CONFIG = """\
route:
  receiver: blackhole
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: blackhole
"""


class AlertmanagerMissingError(RuntimeError):
    """The Alertmanager binary is not installed; the message gives the install command."""


class AlertmanagerStartError(RuntimeError):
    """Alertmanager did not become ready; the message carries the end of its log."""


def binary() -> Path:
    """The Alertmanager executable, or AlertmanagerMissingError saying how to install it."""
    candidate = os.environ.get(ENV_BINARY) or DEFAULT_BINARY
    path = Path(candidate) if os.sep in candidate else Path(shutil.which(candidate) or candidate)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise AlertmanagerMissingError(
            f"Alertmanager binary {path} not found. Install the Debian package: {INSTALL_COMMAND}"
            f" (or set {ENV_BINARY} to an alertmanager executable)"
        )
    return path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Alertmanager:
    """One Alertmanager process on a private port, config and storage."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "alertmanager.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start the process and wait for ``/-/ready``."""
        exe = binary()
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "alertmanager.yml"
        config.write_text(MINIMAL_CONFIG, encoding="utf-8")
        storage = self.workdir / "data"
        storage.mkdir(exist_ok=True)
        args = [
            str(exe),
            f"--config.file={config}",
            f"--storage.path={storage}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(  # fixed argv, our own binary path
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
            )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise AlertmanagerStartError(
                    f"Alertmanager exited with {self._proc.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise AlertmanagerStartError(f"Alertmanager not ready after {timeout}s:\n{self.log_tail()}")

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, wait, SIGKILL if it does not exit."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=grace)

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the process log, for failure messages."""
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    @classmethod
    @contextmanager
    def launch(cls, workdir: Path, timeout: float = 30.0) -> Iterator[Alertmanager]:
        """Start an instance for a ``with`` block and always stop it afterwards."""
        am = cls(workdir)
        try:
            am.start(timeout)
            yield am
        finally:
            am.stop()
