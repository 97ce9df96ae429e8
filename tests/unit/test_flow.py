"""Flow control between stage 1 and the later stages (service.flow, ReportIngestor)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry

from service.flow import Gate, newest, waiting
from service.ingest import MAX_RECORDS, ReportIngestor
from service.metrics import Metrics
from service.settings import Settings


def test_waiting_sums_the_partitions_known_at_both_ends() -> None:
    assert waiting([(120, 100), (50, 50), (None, 3), (7, None)]) == 20
    assert waiting([(None, 3), (7, None)]) is None  # nothing known: never a reason to hold
    assert waiting([]) is None
    assert waiting([(10, 12)]) == 0  # a stale high-water mark below the commit is not negative


def test_gate_holds_over_the_limit_and_goes_at_half() -> None:
    gate = Gate(1000)
    states = []
    for lag in (10, 999, 1000, 1001, 800, 501, 500, 700, 1000, 1200, None):
        gate.update(lag)
        states.append(gate.held)
    #           10     999    1000   1001  800   501   500    700    1000   1200  unknown
    assert states == [False, False, False, True, True, True, False, False, False, True, False]


def test_gate_reports_changes_only() -> None:
    gate = Gate(10)
    assert [gate.update(lag) for lag in (20, 30, 4, 3)] == [True, False, True, False]


def test_limit_zero_never_holds() -> None:
    gate = Gate(0)
    assert not gate.update(10**9)
    assert not gate.held


class FakeConsumer:
    """The part of AIOKafkaConsumer flow control uses."""

    def __init__(self, partitions: set[str]) -> None:
        self.partitions = partitions
        self.paused: set[str] = set()

    def assignment(self) -> set[str]:
        return set(self.partitions)

    def pause(self, *tps: Any) -> None:
        self.paused |= set(tps)

    def resume(self, *tps: Any) -> None:
        self.paused -= set(tps)


def test_stage_1_pauses_while_the_later_stages_are_behind_and_resumes() -> None:
    metrics = Metrics(CollectorRegistry())
    ingestor = ReportIngestor(Settings(ingest_max_ahead=100), runtime=SimpleNamespace(metrics=metrics))
    ingestor.consumer = consumer = FakeConsumer({"r0", "r1"})
    lag = {"now": 50}
    ingestor.behind = lambda: lag["now"]

    def held() -> float:
        return metrics.ingest_held._value.get()  # type: ignore[no-any-return]

    ingestor._flow_control()
    assert consumer.paused == set() and held() == 0

    lag["now"] = 500
    ingestor._flow_control()
    assert consumer.paused == {"r0", "r1"} and held() == 1

    consumer.partitions.add("r2")  # a rebalance assigns another partition while held
    lag["now"] = 60
    ingestor._flow_control()
    assert consumer.paused == {"r0", "r1", "r2"}

    lag["now"] = 40
    ingestor._flow_control()
    assert consumer.paused == set() and held() == 0


def test_no_lag_function_means_no_flow_control() -> None:
    ingestor = ReportIngestor(Settings(), runtime=SimpleNamespace(metrics=Metrics(CollectorRegistry())))
    ingestor.consumer = consumer = FakeConsumer({"r0"})
    ingestor._flow_control()
    assert consumer.paused == set()


def test_newest_takes_the_furthest_known_offset() -> None:
    assert newest(None, 7) == 7
    assert newest(12, 7) == 12
    assert newest(None, None) is None


def test_stage_1_remembers_how_far_it_wrote_into_each_interceptions_partition() -> None:
    settings = Settings()
    ingestor = ReportIngestor(settings, runtime=SimpleNamespace(metrics=Metrics(CollectorRegistry())))

    def meta(topic: str, partition: int, offset: int) -> Any:
        return SimpleNamespace(topic=topic, partition=partition, offset=offset)

    ingestor._note_written([
        meta(settings.topic_interceptions, 0, 41),
        meta(settings.topic_interceptions, 0, 40),  # acks of one batch come in any order
        meta(settings.topic_interceptions, 2, 5),
        meta(settings.topic_dead_letter, 1, 99),  # dead letters are nobody's input
    ])
    assert ingestor.written == {(settings.topic_interceptions, 0): 42, (settings.topic_interceptions, 2): 6}


class BufferedConsumer:
    """Fetched records per partition, handed out as aiokafka's getmany does: the first
    partition's buffer is drained before the next one's."""

    def __init__(self, buffers: dict[str, list[int]]) -> None:
        self.buffers = buffers

    def assignment(self) -> set[str]:
        return set(self.buffers)

    async def getmany(
        self, *tps: str, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        room = max_records if max_records is not None else 10**9
        for tp in tps or tuple(self.buffers):
            taken, self.buffers[tp] = self.buffers[tp][:room], self.buffers[tp][room:]
            if taken:
                out[tp] = taken
                room -= len(taken)
            if room == 0:
                break
        return out


async def test_stage_1_reads_an_even_share_from_every_partition_of_a_backlog() -> None:
    ingestor = ReportIngestor(Settings(), runtime=SimpleNamespace(metrics=Metrics(CollectorRegistry())))
    ingestor.consumer = BufferedConsumer(
        {"r0": list(range(3000)), "r1": list(range(3000)), "r2": list(range(10)), "r3": []}
    )
    read = dict.fromkeys(("r0", "r1", "r2", "r3"), 0)
    for _ in range(4):
        for tp, records in (await ingestor._fetch(500)).items():
            read[tp] += len(records)
    share = MAX_RECORDS // 4
    # Partitions with a backlog advance together; one with less is read whole; none starves.
    assert read == {"r0": 4 * share, "r1": 4 * share, "r2": 10, "r3": 0}


def test_the_worker_counts_what_its_later_stages_have_waiting(monkeypatch: Any) -> None:
    """downstream_waiting over faust's consumer: committed offsets, else read offsets; stage 1's
    own writes when faust's high-water mark is behind; partitions known at neither end left out."""
    from faust.types import TP

    from service import agents

    settings = agents.runtime.settings
    i0, i1, i2 = (TP(settings.topic_interceptions, p) for p in range(3))
    u0, reports = TP(settings.topic_region_updates, 0), TP(settings.topic_reports, 0)
    highwater = {i0: 150, i1: 60, i2: 5_000, u0: 9, reports: 10**6}

    class FakeFaustConsumer:
        def __init__(self) -> None:
            self._committed_offset = {i0: 100, u0: 7}  # i1: nothing committed yet, read to 40
            self._read_offset = {i1: 40}  # i2: nothing at all (retention deleted its start)

        def assignment(self) -> set[Any]:
            return {i0, i1, i2, u0, reports}

        def highwater(self, tp: Any) -> int:
            return highwater[tp]

    fake = FakeFaustConsumer()
    monkeypatch.setattr(type(agents.app), "consumer", property(lambda self: fake))
    # faust's consumer saw interceptions 0 up to 150, but stage 1 wrote up to 400 there; i2 must
    # not count (it would hold stage 1 for ever); the reports topic is stage 1's own input
    assert agents.downstream_waiting({i0: 400}) == (400 - 100) + (60 - 40) + (9 - 7)
