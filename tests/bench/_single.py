"""One real skytally worker with its own topics on a broker this script starts (latency, memory)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench._common import Cleanup, start_broker, unique
from tests.bench._workers import changelogs, create_topics, spawn_skytally_worker, wait_healthy
from tests.support.skytally_worker import WorkerHandle, worker_env


@dataclass
class Setup:
    """The broker, the worker and the worker's topics."""

    broker: Any
    worker: WorkerHandle
    env: dict[str, str]

    @property
    def bootstrap(self) -> str:
        """Broker address."""
        return str(self.broker.bootstrap)

    def topic(self, name: str) -> str:
        """Topic name by role: reports, interceptions, alerts, ..."""
        return self.env[f"SKYTALLY_TOPIC_{name.upper().replace('-', '_')}"]


async def start_setup(
    kind: str, cleanup: Cleanup, prefix: str, profile: Path | None = None, **settings: str
) -> Setup:
    """Start a broker and one skytally worker (fresh topics and group); wait until healthy.

    ``profile``: run the worker under cProfile, stats written to that file when it stops.
    """
    broker = start_broker(kind, cleanup)
    app_id = unique(prefix)
    env = worker_env(broker.bootstrap, app_id, app_id, cleanup.tmp / app_id, **settings)
    topics = [v for k, v in env.items() if k.startswith("SKYTALLY_TOPIC_")]
    await create_topics(broker.bootstrap, [*topics, *changelogs(app_id)])
    worker = spawn_skytally_worker(env, cleanup.tmp / "worker.log", profile=profile)
    cleanup.process("skytally worker", worker.proc)
    waited = wait_healthy([worker])
    print(f"  skytally worker pid {worker.proc.pid} healthy in {waited:.1f} s (log {worker.log_path})")
    return Setup(broker, worker, env)
