"""A real Prometheus server (Debian's package) scraping a test worker on loopback."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from service.broker import free_port, log_tail, spawn, stop_process

INSTALL = "apt-get install -y --no-install-recommends prometheus (scripts/system-deps.sh does it)"


class Prometheus:
    """``prometheus`` with a one-job scrape config, storage in a temp dir, on a free port."""

    def __init__(self, workdir: Path, target: str, scrape_interval: str = "1s") -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            raise AssertionError(f"prometheus is not installed: {INSTALL}")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "prometheus.yml").write_text(
            f"global:\n  scrape_interval: {scrape_interval}\n  evaluation_interval: {scrape_interval}\n"
            f"scrape_configs:\n  - job_name: skytally\n    metrics_path: /metrics\n"
            f"    static_configs:\n      - targets: ['{target}']\n",
            encoding="utf-8",
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait for /-/ready."""
        argv = [
            self.binary,
            f"--config.file={self.workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        self.proc = spawn(argv, self.workdir / "prometheus.log")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"prometheus exited: {log_tail(self.workdir / 'prometheus.log')}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise AssertionError(
            f"prometheus not ready in {timeout:.0f}s: {log_tail(self.workdir / 'prometheus.log')}"
        )

    def query(self, promql: str) -> list[dict[str, Any]]:
        """Instant query; the result vector."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = json.loads(resp.read())
        assert "success" == body["status"], body
        return list(body["data"]["result"])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL."""
        stop_process(self.proc, 10)
