"""``skytally demo``: broker, worker and sample feed in one command, printing what happens.

The demo is an orchestrator, not a second implementation: it starts an embedded Tansu
broker (unless ``SKYTALLY_KAFKA_BOOTSTRAP`` is set), runs the real ``skytally worker`` as a
subprocess, produces the feed, and prints the worker's output topics as they arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from service.broker import EmbeddedTansu, free_port, stop_process
from service.errors import BrokerError
from service.feed import Payload, bundled_samples, produce_feed, read_feed
from service.kafka_admin import aiokafka_config, ensure_topics
from service.settings import Settings

console = Console(highlight=False)

#: How long --once waits for the worker to process everything before giving up.
PROCESS_TIMEOUT_S = 90.0
#: The output is considered settled when no new record arrived for this long (more than two
#: of the leader's stream-time ticks, which close the windows of quiet partitions).
SETTLE_S = 5.0


@dataclass
class DemoState:
    """What the demo has seen on the output topics."""

    expected: int
    processed: int = 0
    dead_letters: int = 0
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    last_record_at: float = field(default_factory=time.monotonic)


def _print_record(topic_kind: str, value: dict[str, Any], state: DemoState) -> None:
    state.last_record_at = time.monotonic()
    if topic_kind == "interceptions":
        state.processed += 1
        rows = (
            ", ".join(
                f"{r['region']} {r['count'] if r['count'] is not None else '?'}"
                for r in value.get("interceptions", [])
            )
            or "no interceptions"
        )
        total = value.get("claimed_total")
        console.print(
            f"[cyan]report[/] {value['id']}: {rows}"
            + (f" (claimed total {total})" if total is not None else "")
        )
    elif topic_kind == "dead-letter":
        state.processed += 1
        state.dead_letters += 1
        console.print(f"[red]dead letter[/] {value['reason']}: {value['error'][:120]}")
    elif topic_kind == "region-counts":
        key = f"{value['window']}|{value['window_start']}|{value['code']}"
        state.counts[key] = value
    elif topic_kind == "alerts":
        state.alerts.append(value)
        colour = "yellow" if value["severity"] == "warning" else "bold red"
        if value["status"] == "resolved":
            colour = "green"
        console.print(f"[{colour}]ALERT {value['status'].upper()} {value['severity']}[/] {value['summary']}")


async def _watch(bootstrap: str, settings: Settings, state: DemoState, stop: asyncio.Event) -> None:
    from aiokafka import AIOKafkaConsumer

    kinds = {
        settings.topic_interceptions: "interceptions",
        settings.topic_dead_letter: "dead-letter",
        settings.topic_region_counts: "region-counts",
        settings.topic_alerts: "alerts",
    }
    consumer = AIOKafkaConsumer(
        *kinds,
        **aiokafka_config(settings.model_copy(update={"kafka_bootstrap": bootstrap})),
        auto_offset_reset="earliest",
        group_id=None,
        enable_auto_commit=False,
        metadata_max_age_ms=1000,
    )
    await consumer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=200)
            for tp, records in batch.items():
                for record in records:
                    with contextlib.suppress(ValueError, TypeError):
                        _print_record(kinds[tp.topic], json.loads(record.value), state)
    finally:
        await consumer.stop()


def worker_command(web_port: int, loglevel: str = "info") -> list[str]:
    """argv of a ``skytally worker`` on this interpreter, web server on loopback ``web_port``."""
    return [sys.executable, "-m", "service", "worker", "-l", loglevel,
            "--web-port", str(web_port), "--web-host", "127.0.0.1"]


def _start_worker(bootstrap: str, web_port: int, workdir: Path, app_id: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SKYTALLY_KAFKA_BOOTSTRAP": bootstrap,
        "SKYTALLY_APP_ID": app_id,
        "SKYTALLY_DATA_DIR": str(workdir / "state"),
        "SKYTALLY_SESSION_TIMEOUT_S": os.environ.get("SKYTALLY_SESSION_TIMEOUT_S", "6"),
        "SKYTALLY_WEB_PORT": str(web_port),
    }
    log = (workdir / "worker.log").open("wb")
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        worker_command(web_port),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback URL we built
        return json.loads(resp.read())


async def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BrokerError(f"the worker exited with code {proc.returncode} before serving {url}")
        try:
            _get_json(url)
            return
        except OSError:
            await asyncio.sleep(0.3)
    raise BrokerError(f"the worker did not answer {url} within {timeout:.0f}s")


def _final_table(api: dict[str, Any]) -> Table:
    table = Table(title="Interceptions per region and window (UTC)")
    for col in ("window", "from", "to", "region", "count", "stmts", "outlets"):
        table.add_column(col, justify="right" if col in ("count", "stmts", "outlets") else "left")
    for window, rows in api.get("windows", {}).items():
        for row in rows:
            start, end = row["window_start"], row["window_end"]
            table.add_row(
                window,
                f"{start[5:10]} {start[11:16]}",
                f"{end[5:10]} {end[11:16]}",
                row["region"],
                str(row["count"]),
                str(row["statements"]),
                str(row["outlets"]),
            )
    return table


async def run_demo(settings: Settings, *, once: bool, feed: Path | None, rate: float) -> int:
    """Run the demo; returns the process exit code."""
    payloads: list[Payload] = list(read_feed(feed or bundled_samples()))
    workdir = Path(tempfile.mkdtemp(prefix="skytally-demo-"))
    broker: EmbeddedTansu | None = None
    external = "SKYTALLY_KAFKA_BOOTSTRAP" in os.environ
    if external:
        bootstrap = settings.kafka_bootstrap
        console.print(f"Using the broker at [bold]{bootstrap}[/] (SKYTALLY_KAFKA_BOOTSTRAP)")
    else:
        broker = EmbeddedTansu()
        await broker.astart()
        bootstrap = broker.bootstrap
        console.print(f"Started embedded Tansu broker on [bold]{bootstrap}[/]")
    worker: subprocess.Popen[bytes] | None = None
    stop = asyncio.Event()
    state = DemoState(expected=len(payloads))
    watcher: asyncio.Task[None] | None = None
    keep_workdir = True  # the worker's log and state stay for a look after a failure only
    try:
        local = settings.model_copy(update={"kafka_bootstrap": bootstrap})
        await ensure_topics(local)
        web_port = settings.web_port if "SKYTALLY_WEB_PORT" in os.environ else free_port()
        app_id = f"skytally-demo-{uuid.uuid4().hex[:8]}" if external else settings.app_id
        worker = _start_worker(bootstrap, web_port, workdir, app_id)
        base = f"http://127.0.0.1:{web_port}"
        console.print(f"Worker pid {worker.pid}; logs (JSON) in {workdir / 'worker.log'}")
        await _wait_http(f"{base}/healthz", worker, 60)
        console.print(f"Web: {base}/  {base}/metrics  {base}/api/regions  {base}/api/alerts")
        watcher = asyncio.create_task(_watch(bootstrap, settings, state, stop))
        console.print(f"Feeding {len(payloads)} reports to {settings.topic_reports} ...")
        await produce_feed(aiokafka_config(local), settings.topic_reports, payloads, rate=rate)
        processed = await _wait_processed(state, worker, workdir)
        keep_workdir = not processed
        if processed:
            _print_summary(base, state)
        if not once:
            console.print(f"Running; the dashboard is at {base}/ - press Ctrl-C to stop.")
            await _forever(worker)
            return 0
        return 0 if processed else 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        keep_workdir = not state.processed >= state.expected  # Ctrl-C is how the demo stops
        raise
    finally:
        stop.set()
        await _stop_all(watcher, worker, broker)
        if keep_workdir:
            console.print(f"Worker log and state kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


async def _stop_all(
    watcher: asyncio.Task[None] | None,
    worker: subprocess.Popen[bytes] | None,
    broker: EmbeddedTansu | None,
) -> None:
    """Stop what the demo started, in order: the output watcher, the worker, the broker."""
    if watcher is not None:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(watcher, 5)
    if worker is not None:
        stop_process(worker, timeout=15)
    if broker is not None:
        await broker.astop()


async def _wait_processed(state: DemoState, worker: subprocess.Popen[bytes], workdir: Path) -> bool:
    """Wait until every fed report came out (extracted or dead-lettered) and output settled."""
    deadline = time.monotonic() + PROCESS_TIMEOUT_S
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise BrokerError(
                f"the worker exited with code {worker.returncode}; see {workdir / 'worker.log'}"
            )
        settled = time.monotonic() - state.last_record_at > SETTLE_S
        if state.processed >= state.expected and settled:
            return True
        await asyncio.sleep(0.2)
    console.print(
        f"[red]Timed out[/]: {state.processed} of {state.expected} reports "
        f"processed in {PROCESS_TIMEOUT_S:.0f}s; see {workdir / 'worker.log'}"
    )
    return False


def _print_summary(base: str, state: DemoState) -> None:
    """The final per-region table and the alerts, from the worker's own API."""
    regions = _get_json(f"{base}/api/regions")
    alerts = _get_json(f"{base}/api/alerts")
    console.print(_final_table(regions))
    console.print(f"Alerts active: {len(alerts.get('active', []))}, events: {len(alerts.get('recent', []))}")
    for alert in alerts.get("active", []):
        console.print(f"  [bold]{alert['severity']}[/] {alert['summary']}")
    console.print(f"{state.processed} reports processed, {state.dead_letters} dead-lettered.")


async def _forever(worker: subprocess.Popen[bytes]) -> None:
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    while not done.is_set():
        if worker.poll() is not None:
            console.print(f"[red]The worker exited with code {worker.returncode}[/]")
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 1.0)
    console.print("Stopping ...")
