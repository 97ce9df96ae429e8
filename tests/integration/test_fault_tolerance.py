"""Exact counts under faults: two workers on four partitions, one SIGKILLed mid-stream and restarted."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from service.synthetic import generate, truth
from service.windows import parse_windows
from tests.support.kafka_io import consume_until, create_topics, produce, values
from tests.support.session import unique_id
from tests.support.skytally_worker import WorkerHandle, start_skytally_worker, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.timeout(400)]

WINDOWS = "1h,24h,night"


def api_counts(worker: WorkerHandle) -> dict[str, int]:
    """Every window count the worker's API knows, closed windows included."""
    body = worker.get("/api/regions?closed=1")
    return {
        f"{w}|{datetime.fromisoformat(r['window_start']).isoformat()}|{r['code']}": r["count"]
        for w, rows in body["windows"].items()
        for r in rows
    }


def processed_ids(bootstrap: str, topic: str, expected: set[str], timeout: float) -> set[str]:
    """Report ids seen on the interceptions topic once all of ``expected`` are there."""
    records = asyncio.run(
        consume_until(
            bootstrap, topic, lambda seen: expected <= {v.get("id") for v in values(seen)}, timeout=timeout
        )
    )
    return {v.get("id") for v in values(records)}


def wait_equal(
    workers: list[WorkerHandle], expected: dict[str, int], timeout: float
) -> dict[str, dict[str, int]]:
    """Poll every worker's API until it serves exactly ``expected`` (or time runs out)."""
    deadline = time.monotonic() + timeout
    seen: dict[str, dict[str, int]] = {}
    while time.monotonic() < deadline:
        seen = {str(w.port): api_counts(w) for w in workers}
        if all(counts == expected for counts in seen.values()):
            break
        time.sleep(1.0)
    return seen


def test_sigkill_mid_stream_keeps_counts_exact(broker: Any, tmp_path: Path) -> None:
    """Republished, revised and late reports; 3 SIGKILLs mid-stream: final counts equal the truth."""
    reports, statements = generate(400, seed=42)
    expected = truth(statements, parse_windows(WINDOWS))
    uid = unique_id("fault")
    env = worker_env(
        broker.bootstrap, f"t-{uid}", f"skytally-{uid}", tmp_path / "state", SKYTALLY_WINDOWS=WINDOWS
    )
    asyncio.run(
        create_topics(broker.bootstrap, [v for k, v in env.items() if k.startswith("SKYTALLY_TOPIC_")])
    )
    launched = 0

    def launch() -> WorkerHandle:
        nonlocal launched
        launched += 1
        name = f"w{launched}"
        state = {**env, "SKYTALLY_DATA_DIR": str(tmp_path / name)}
        return start_skytally_worker(state, tmp_path / f"{name}.log")

    workers = [launch(), launch()]
    try:
        payloads = [json.dumps(r).encode() for r in reports]
        chunks = 4
        size = -(-len(payloads) // chunks)
        for i in range(chunks):
            chunk = payloads[i * size : (i + 1) * size]
            asyncio.run(produce(broker.bootstrap, env["SKYTALLY_TOPIC_REPORTS"], chunk))
            if i == chunks - 1:
                break
            # Let part of the chunk through, then kill a worker outright while the stream goes on
            # and start a replacement with an empty state directory (a rescheduled pod).
            marker = reports[i * size + size // 3]["id"]
            processed_ids(broker.bootstrap, env["SKYTALLY_TOPIC_INTERCEPTIONS"], {marker}, 120)
            victim = i % 2
            workers[victim].proc.kill()
            workers[victim].proc.wait(10)
            workers[victim] = launch()

        ids = processed_ids(
            broker.bootstrap, env["SKYTALLY_TOPIC_INTERCEPTIONS"], {r["id"] for r in reports}, 240
        )
        assert {r["id"] for r in reports} <= ids
        seen = wait_equal(workers, expected, timeout=120)
        for port, counts in seen.items():
            wrong = {k: (v, counts.get(k)) for k, v in expected.items() if counts.get(k) != v}
            extra = {k: v for k, v in counts.items() if k not in expected}
            sample = dict(list(wrong.items())[:10])
            assert ({}, {}) == (wrong, extra), (
                f"worker on port {port}: {len(wrong)} of {len(expected)} windows differ "
                f"(expected, served): {sample}; {len(extra)} unexpected"
            )
    finally:
        for worker in workers:
            worker.stop()
