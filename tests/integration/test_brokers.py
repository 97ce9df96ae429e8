"""The test brokers themselves: round trip, a faust worker's first message, Tansu lifecycle."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from service.broker import BrokerStartError, EmbeddedTansu, log_tail, probe_metadata
from tests.support.brokers import AnyBroker
from tests.support.faust_worker import start_worker, stop_worker
from tests.support.kafka_io import consume_until, create_topics, produce, values

pytestmark = pytest.mark.integration

FAUST_FIRST_MESSAGE_LIMIT_S = 90.0


def _alive(pid: int) -> bool:
    """True if ``pid`` is a running (not zombie) process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _live_processes_with(marker: str) -> list[int]:
    """Pids of live processes whose command line contains ``marker`` (e.g. a cluster id)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if marker.encode() in cmdline and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


async def test_round_trip(broker: AnyBroker, topic_prefix: str) -> None:
    """Values, key and timestamp sent with acks=all come back from the beginning in order."""
    topic = f"{topic_prefix}.round-trip"
    await create_topics(broker.bootstrap, [topic], partitions=4)
    sent = [{"region": "UA-32", "n": 1}, "plain text", b"\x00raw"]
    stamp = 1_700_000_000_000
    meta = await produce(broker.bootstrap, topic, sent, key="UA-32", timestamp_ms=stamp)
    assert len({m.partition for m in meta}) == 1, "one key must map to one partition"

    records = await consume_until(broker.bootstrap, topic, 3, timeout=30)

    assert values(records) == [{"region": "UA-32", "n": 1}, "plain text", "\x00raw"]
    assert {r.key for r in records} == {b"UA-32"}
    assert {r.timestamp for r in records} == {stamp}


async def test_faust_worker_processes_first_message(
    broker: AnyBroker, topic_prefix: str, unique_id: str, tmp_path: Path
) -> None:
    """A faust worker (session 6 s, heartbeat 1 s) joins and processes a message in bounds."""
    inbound, outbound = f"{topic_prefix}.in", f"{topic_prefix}.out"
    await create_topics(broker.bootstrap, [inbound, outbound], partitions=4)
    log = tmp_path / "worker.log"
    env = {
        "PROBE_BOOTSTRAP": broker.bootstrap,
        "PROBE_APP_ID": f"probe-{unique_id}",
        "PROBE_IN": inbound,
        "PROBE_OUT": outbound,
        "PROBE_SESSION_S": "6",
        "PROBE_HEARTBEAT_S": "1",
        "PROBE_DATADIR": str(tmp_path / "faust-data"),
    }
    started = time.time()
    worker = start_worker("tests.support.faust_probe_app", env, log)
    try:
        await produce(broker.bootstrap, inbound, [{"report": 1}], key="k")
        try:
            out = await consume_until(broker.bootstrap, outbound, 1, timeout=FAUST_FIRST_MESSAGE_LIMIT_S)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- faust worker log ---\n{log_tail(log, 40)}") from exc
        join_s = out[0].timestamp / 1000 - started
        print(f"[faust] {broker.kind}: first message processed {join_s:.2f} s after start")
        assert values(out) == [{"seen": {"report": 1}}]
        assert worker.poll() is None, f"worker exited early:\n{log_tail(log, 40)}"
    finally:
        stop_worker(worker)
    assert not _alive(worker.pid)


async def test_embedded_tansu_lifecycle(topic_prefix: str) -> None:
    """EmbeddedTansu answers Metadata with its own cluster id, carries data, leaves no process."""
    async with EmbeddedTansu() as tansu:
        pid = tansu.pid
        assert pid is not None
        host, port = tansu.bootstrap.split(":")
        answer = probe_metadata(host, int(port))
        assert answer.cluster_id == tansu.cluster_id
        assert (host, int(port)) in {(h, p) for _, h, p in answer.brokers}
        topic = f"{topic_prefix}.tansu"
        await produce(tansu.bootstrap, topic, ["hello"])
        assert values(await consume_until(tansu.bootstrap, topic, 1, timeout=30)) == ["hello"]
    assert not _alive(pid), f"tansu pid {pid} still running after stop"
    assert _live_processes_with(tansu.cluster_id) == []
    assert tansu.log_path is None, "temporary log folder should be removed after a clean stop"


def test_embedded_tansu_reports_taken_port(tmp_path: Path) -> None:
    """On a taken port EmbeddedTansu fails with cause 'port' and a hint, leaving no process."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        tansu = EmbeddedTansu(port=port, start_timeout=10, log_path=tmp_path / "tansu.log")
        with pytest.raises(BrokerStartError) as caught:
            tansu.start()
    assert caught.value.cause == "port"
    assert "already in use" in str(caught.value)
    assert "What to do" in str(caught.value)
    assert _live_processes_with(tansu.cluster_id) == []


async def test_restart_keeps_data_as_documented(fresh_broker: AnyBroker, topic_prefix: str) -> None:
    """After stop+start on the same address Kafka still has the data; Tansu comes back empty."""
    topic = f"{topic_prefix}.restart"
    await create_topics(fresh_broker.bootstrap, [topic], partitions=1)
    await produce(fresh_broker.bootstrap, topic, ["before-1", "before-2"])
    address = fresh_broker.bootstrap

    fresh_broker.restart()

    assert fresh_broker.bootstrap == address
    await produce(fresh_broker.bootstrap, topic, ["after"])
    expected = ["before-1", "before-2", "after"] if fresh_broker.keeps_data_on_restart else ["after"]
    records = await consume_until(fresh_broker.bootstrap, topic, len(expected), timeout=60)
    assert values(records) == expected
