"""Run the real ``skytally worker`` as a subprocess against a test broker."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import Any

from service.broker import free_port, log_tail, spawn, stop_process
from service.demo import worker_command

REPO_ROOT = Path(__file__).resolve().parents[2]
TOPICS = (
    "reports", "interceptions", "region-counts", "alerts", "dead-letter", "region-updates", "source-activity"
)


@dataclass
class WorkerHandle:
    """A running worker: its topics, web port, log and process."""

    proc: Popen[bytes]
    port: int
    log_path: Path
    topics: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """Root URL of the worker's web server."""
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> Any:
        """GET a JSON endpoint (or text for /metrics)."""
        with urllib.request.urlopen(self.base_url + path, timeout=5) as resp:
            body = resp.read().decode()
        return body if path.startswith("/metrics") else json.loads(body)

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        """One sample's value from /metrics (0.0 when absent)."""
        from prometheus_client.parser import text_string_to_metric_families

        for family in text_string_to_metric_families(self.get("/metrics")):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in (labels or {}).items()):
                    return float(sample.value)
        return 0.0

    def wait_metric(self, name: str, labels: dict[str, str], at_least: float, timeout: float = 30.0) -> float:
        """Poll /metrics until the sample reaches ``at_least``; fail with the last value seen."""
        deadline = time.monotonic() + timeout
        value = self.metric(name, labels)
        while value < at_least and time.monotonic() < deadline:
            time.sleep(0.3)
            value = self.metric(name, labels)
        assert value >= at_least, f"{name}{labels} = {value}, expected >= {at_least} within {timeout:.0f}s"
        return value

    def wait_api(self, path: str, check: Any, timeout: float = 30.0) -> Any:
        """Poll a JSON endpoint until ``check(body)`` holds (the API views are fed from topics)."""
        deadline = time.monotonic() + timeout
        body = self.get(path)
        while not check(body) and time.monotonic() < deadline:
            time.sleep(0.3)
            body = self.get(path)
        return body

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after a timeout."""
        return stop_process(self.proc, 20)


def worker_env(bootstrap: str, prefix: str, app_id: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a worker with its own topics, group and state directory."""
    topics = {name: f"{prefix}.{name}" for name in TOPICS}
    env = {
        "SKYTALLY_KAFKA_BOOTSTRAP": bootstrap,
        "SKYTALLY_APP_ID": app_id,
        "SKYTALLY_DATA_DIR": str(data_dir),
        "SKYTALLY_SESSION_TIMEOUT_S": "6",
        "SKYTALLY_HEARTBEAT_INTERVAL_S": "0.5",
        **{f"SKYTALLY_TOPIC_{name.upper().replace('-', '_')}": topic for name, topic in topics.items()},
    }
    env.update(extra)
    return env


def start_skytally_worker(env: dict[str, str], log_path: Path, timeout: float = 90.0) -> WorkerHandle:
    """Start ``python -m service worker`` and wait until /healthz answers."""
    port = free_port()
    # Unbuffered: a SIGKILLed worker's last log lines are what a post-mortem needs.
    full = {**os.environ, **env, "SKYTALLY_WEB_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    proc = spawn(worker_command(port), log_path, cwd=REPO_ROOT, env=full)
    topics = {
        k.removeprefix("SKYTALLY_TOPIC_").lower().replace("_", "-"): v
        for k, v in env.items()
        if k.startswith("SKYTALLY_TOPIC_")
    }
    handle = WorkerHandle(proc, port, log_path, topics, env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"worker exited with {proc.returncode}:\n{log_tail(log_path, 40)}")
        try:
            handle.get("/healthz")
            return handle
        except (urllib.error.URLError, OSError, ValueError):
            time.sleep(0.3)
    stop_process(proc, 5)
    raise AssertionError(f"worker did not serve /healthz in {timeout:.0f}s:\n{log_tail(log_path, 40)}")


def launch_worker(bootstrap: str, workdir: Path, name: str, **extra: str) -> WorkerHandle:
    """A worker with its own topics, group, state and log under ``workdir`` (topics it creates itself)."""
    uid = f"{name}-{uuid.uuid4().hex[:8]}"
    env = worker_env(bootstrap, f"t-{uid}", f"skytally-{uid}", workdir / "state", **extra)
    return start_skytally_worker(env, workdir / "worker.log")
