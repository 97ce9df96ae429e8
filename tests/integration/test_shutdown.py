"""SIGTERM while reports keep arriving: a clean, prompt exit, and a restart that loses and doubles nothing."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from service.ingest import MAX_RECORDS
from service.synthetic import generate, truth
from service.windows import parse_windows
from tests.support.counts import describe_difference, wait_counts
from tests.support.kafka_io import consume_until, values
from tests.support.load import Feeder
from tests.support.session import unique_id
from tests.support.skytally_worker import WorkerHandle, start_skytally_worker, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

WINDOWS = "1h,24h,night"
#: A stopped worker has this long to exit; the Kubernetes manifest allows 60 s.
STOP_TIMEOUT = 30.0


def all_extracted(bootstrap: str, topic: str, ids: set[str], timeout: float) -> None:
    """Wait until every report id is on the interceptions topic."""
    asyncio.run(
        consume_until(
            bootstrap,
            topic,
            lambda seen: ids <= {v.get("id") for v in values(seen) if isinstance(v, dict)},
            timeout=timeout,
        )
    )


def sigterm_under_load(broker: Any, tmp_path: Path, check_counts: bool) -> None:
    """Run the scenario: SIGTERM mid-stream, the rest of the load, a restarted worker."""
    reports, statements = generate(60, seed=11)
    expected = truth(statements, parse_windows(WINDOWS))
    payloads = [json.dumps(r).encode() for r in reports]
    uid = unique_id("shutdown")
    env = worker_env(
        broker.bootstrap, f"t-{uid}", f"skytally-{uid}", tmp_path / "state", SKYTALLY_WINDOWS=WINDOWS
    )
    first = start_skytally_worker(env, tmp_path / "first.log")
    feeder = Feeder(broker.bootstrap, env["SKYTALLY_TOPIC_REPORTS"], payloads, chunk=4, pause=0.2)
    second: WorkerHandle | None = None
    try:
        feeder.start()
        feeder.wait_acked(len(payloads) // 3, timeout=60)
        consumed = first.wait_metric("skytally_reports_consumed_total", {}, 1, timeout=60)
        assert not feeder.done, "the load should still be running when SIGTERM arrives"

        first.proc.send_signal(signal.SIGTERM)
        try:
            code = first.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"worker still running {STOP_TIMEOUT:.0f} s after SIGTERM")
        log = first.log_path.read_text(encoding="utf-8", errors="replace")
        assert 0 == code, f"exit code {code} after SIGTERM:\n{log[-3000:]}"
        shutdown = (
            "[^Worker]: Signal received: 15",
            "[^Worker]: Stopping...",
            "[^--Ingest]: Stopping...",
            "[^Worker]: Closing event loop",
        )
        for line in shutdown:
            assert line in log, f"{line!r} not in the worker log"
        assert "Crashed" not in log

        feeder.join(timeout=120)  # the rest of the load, while no worker runs
        second = start_skytally_worker(env, tmp_path / "second.log")
        all_extracted(broker.bootstrap, env["SKYTALLY_TOPIC_INTERCEPTIONS"], {r["id"] for r in reports}, 120)
        # The stopped worker committed what it had done: the restart resumes, it does not redo.
        redone = second.metric("skytally_reports_consumed_total")
        assert redone <= len(payloads) - consumed + MAX_RECORDS
        if check_counts:
            served = wait_counts(second, expected, timeout=120)
            assert "" == describe_difference(expected, served)
    finally:
        feeder.cancel()
        first.stop()
        if second is not None:
            second.stop()


def test_sigterm_under_load_exits_cleanly_and_a_restart_resumes(broker: Any, tmp_path: Path) -> None:
    """SIGTERM mid-stream: exit 0 promptly, shutdown logged; the restarted worker extracts the rest."""
    sigterm_under_load(broker, tmp_path, check_counts=False)


@pytest.mark.fault
def test_sigterm_under_load_then_restart_counts_exactly(broker: Any, tmp_path: Path) -> None:
    """The same, and the restarted worker ends on the exact counts.

    Failed about 2 runs in 5 in session 2 (a statement whose merge was in flight at SIGTERM
    later missed its revision or was counted twice); since redeliveries re-send what they
    produced and expiry waits for the commit it passed 7 of 7 (session 3), so it is in the
    default run again (marker ``fault``).
    """
    sigterm_under_load(broker, tmp_path, check_counts=True)
