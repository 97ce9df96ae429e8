"""Flow control: with a backlog waiting, stage 1 pauses for the later stages and loses nothing."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from service.synthetic import generate, truth
from service.windows import parse_windows
from tests.support.counts import describe_difference, wait_counts
from tests.support.kafka_io import create_topics, produce
from tests.support.session import unique_id
from tests.support.skytally_worker import start_skytally_worker, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

WINDOWS = "1h,24h,night"
#: Far below the backlog (~1,300 reports, read up to 500 a poll), so stage 1 must hold back.
MAX_AHEAD = 100


def test_stage_1_holds_back_for_the_later_stages_and_counts_stay_exact(broker: Any, tmp_path: Path) -> None:
    """A backlog read with a small SKYTALLY_INGEST_MAX_AHEAD: held and resumed, exact counts."""
    reports, statements = generate(600, seed=23)
    expected = truth(statements, parse_windows(WINDOWS))
    uid = unique_id("flow")
    env = worker_env(
        broker.bootstrap, f"t-{uid}", f"skytally-{uid}", tmp_path / "state",
        SKYTALLY_WINDOWS=WINDOWS, SKYTALLY_INGEST_MAX_AHEAD=str(MAX_AHEAD),
    )
    topics = [v for k, v in env.items() if k.startswith("SKYTALLY_TOPIC_")]
    asyncio.run(create_topics(broker.bootstrap, topics))
    asyncio.run(produce(broker.bootstrap, env["SKYTALLY_TOPIC_REPORTS"], [json.dumps(r) for r in reports]))

    worker = start_skytally_worker(env, tmp_path / "worker.log")
    try:
        served = wait_counts(worker, expected, timeout=180)
        assert "" == describe_difference(expected, served)
        assert len(reports) == worker.metric("skytally_reports_consumed_total")  # none read twice
        deadline = time.monotonic() + 30  # the last hold ends at the next commit
        while worker.metric("skytally_ingest_held") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert 0 == worker.metric("skytally_ingest_held"), "stage 1 still held with nothing left to do"
        log = [json.loads(line) for line in worker.log_path.read_text(encoding="utf-8").splitlines()
               if line.startswith("{")]
        held = [e for e in log if e.get("event") == "ingest_held"]
        resumed = [e for e in log if e.get("event") == "ingest_resumed"]
        assert held, "stage 1 never held back with a backlog of over 10x the limit"
        assert len(resumed) == len(held)  # every hold ended
        assert all(e["waiting"] > MAX_AHEAD for e in held)
        assert all(e["waiting"] <= MAX_AHEAD // 2 for e in resumed)
    finally:
        worker.stop()
