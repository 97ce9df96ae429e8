"""Dependencies go away under load: the same worker process carries on.

Kafka is stopped and started mid-stream (counts stay exact); an Alertmanager that accepts
connections but never answers does not hold up counts, alerts or shutdown.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.synthetic import REGIONS, generate, truth
from service.windows import parse_windows
from tests.support import session
from tests.support.brokers import KafkaKRaft, needs_kafka, selected_spec
from tests.support.counts import describe_difference, wait_counts
from tests.support.kafka_io import consume_until, produce, values
from tests.support.load import Feeder
from tests.support.skytally_worker import WorkerHandle, launch_worker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

WINDOWS = "1h,24h,night"
#: Regions whose 1 h warning threshold is 10, not 5 (service/data/default_rules.toml).
BORDER = {"RU-BEL", "RU-BRY", "RU-KRS"}
#: How long the broker stays away: longer than the worker's 6 s session timeout.
OUTAGE_S = 10.0


@pytest.fixture
def kafka(request: pytest.FixtureRequest) -> Iterator[KafkaKRaft]:
    """A private Apache Kafka this test may stop and start (it keeps its data and port)."""
    if selected_spec() not in {"kafka", "tansu"}:
        pytest.skip(f"SKYTALLY_TEST_BROKER={selected_spec()} is someone else's broker: not restartable")
    # Tansu keeps its data in memory: a restarted Tansu is a new, empty broker, so "ride out
    # a restart with exact counts" does not apply. CI has Java and runs this on Kafka.
    needs_kafka("the embedded Tansu forgets everything on restart")
    started = session.start_with_retry(KafkaKRaft)
    yield started
    started.close()


def healthz(worker: WorkerHandle) -> tuple[int, dict[str, Any]]:
    """Status code and body of /healthz, 503 included."""
    try:
        with urllib.request.urlopen(worker.base_url + "/healthz", timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_worker_rides_out_a_broker_restart_with_exact_counts(kafka: KafkaKRaft, tmp_path: Path) -> None:
    """Kafka stopped and started mid-stream: no worker restart, /healthz answers throughout, exact counts."""
    reports, statements = generate(60, seed=23)
    expected = truth(statements, parse_windows(WINDOWS))
    payloads = [json.dumps(r).encode() for r in reports]
    worker = launch_worker(kafka.bootstrap, tmp_path, "restart", SKYTALLY_WINDOWS=WINDOWS)
    pid = worker.proc.pid
    feeder = Feeder(
        kafka.bootstrap, worker.topics["reports"], payloads, chunk=4, pause=0.2, give_up_after=300
    )
    try:
        feeder.start()
        feeder.wait_acked(len(payloads) // 3, timeout=60)
        worker.wait_metric("skytally_reports_consumed_total", {}, 1, timeout=60)
        assert not feeder.done, "the load should still be running when the broker stops"

        kafka.stop()
        outage_ends = time.monotonic() + OUTAGE_S
        answers = []
        while time.monotonic() < outage_ends:
            answers.append(healthz(worker))
            time.sleep(1.0)
        assert worker.proc.poll() is None, "the worker exited while the broker was down"
        # Health is about the worker's own agents: a broker outage is not a reason to restart it.
        assert {(200, "ok")} == {(code, body["status"]) for code, body in answers}
        kafka.start()

        feeder.join(timeout=240)
        ids = {r["id"] for r in reports}
        asyncio.run(
            consume_until(
                kafka.bootstrap,
                worker.topics["interceptions"],
                lambda seen: ids <= {v.get("id") for v in values(seen) if isinstance(v, dict)},
                timeout=180,
            )
        )
        served = wait_counts(worker, expected, timeout=180)
        assert "" == describe_difference(expected, served)
        assert (pid, None) == (worker.proc.pid, worker.proc.poll()), "the worker was restarted"
        code, body = healthz(worker)
        assert (200, "ok") == (code, body["status"])
    finally:
        feeder.cancel()
        worker.stop()


def test_hung_alertmanager_never_blocks_the_stream(broker: Any, tmp_path: Path) -> None:
    """Alertmanager accepts connections and never answers: alerts still fire, reports still flow."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(128)  # the kernel completes connections; nobody reads or answers them
        url = f"http://127.0.0.1:{hole.getsockname()[1]}"
        worker = launch_worker(broker.bootstrap, tmp_path, "am-hung", SKYTALLY_ALERTMANAGER_URL=url)
        try:
            # One period for all (a statement behind the stream time is late and rightly silent);
            # regions where eight in an hour fires (the border regions' threshold is higher).
            regions = [(code, form) for _, code, form in REGIONS if code not in BORDER][:6]
            reports = [
                {
                    "id": f"am-hung-{code}",
                    "published_at": "2026-02-01T05:00:00+00:00",
                    "text": f"Eight drones were shot down over the {form} Region from 05:00 to 07:00 "
                    "Moscow time on February 1, the Defence Ministry said.",
                }
                for code, form in regions
            ]
            codes = {code for code, _ in regions}
            asyncio.run(produce(broker.bootstrap, worker.topics["reports"], list(reports)))

            alerts = asyncio.run(
                consume_until(
                    broker.bootstrap,
                    worker.topics["alerts"],
                    lambda seen: codes <= {a["code"] for a in values(seen) if a["status"] == "firing"},
                    timeout=90,
                )
            )
            assert codes <= {a["code"] for a in values(alerts) if a["status"] == "firing"}

            def counted(body: dict[str, Any]) -> set[str]:
                return {r["code"] for r in body["windows"].get("1h", []) if r["count"] == 8}

            assert codes <= counted(
                worker.wait_api("/api/regions?closed=1", lambda b: codes <= counted(b), 60)
            )
            # It did try: each batch fails after its retries and is counted, not waited for.
            worker.wait_metric("skytally_alert_delivery_failures_total", {"target": "alertmanager"}, 1, 90)
            code, body = healthz(worker)
            assert (200, "ok") == (code, body["status"])
        finally:
            exit_code = worker.stop()
        assert 0 == exit_code, "the worker did not stop cleanly with Alertmanager hung"
