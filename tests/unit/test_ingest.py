"""Stage 1's pure helpers: dead-letter records that can always be sent, timestamps that cannot crash."""

from __future__ import annotations

import base64
import json
from typing import Any

from service.errors import InputError
from service.ingest import MAX_DEAD_LETTER_ORIGINAL, dead_letter, message_time


def test_dead_letter_carries_the_original_bytes() -> None:
    """Reason, place and the exact original bytes."""
    letter = dead_letter(InputError("not_utf8", "bad"), "reports", 2, 41, 1_700_000_000_000, b"\xff\x00")
    assert ("not_utf8", "reports", 2, 41) == (letter.reason, letter.topic, letter.partition, letter.offset)
    assert b"\xff\x00" == base64.b64decode(letter.original_b64)
    assert 2 == letter.original_size


def test_dead_letter_of_a_huge_message_still_fits_a_kafka_message() -> None:
    """Beyond the cap the letter holds the first bytes, says so, and keeps the full size."""
    raw = b"x" * (2 * 1024 * 1024)
    letter = dead_letter(InputError("too_large", "big"), "reports", 0, 7, None, raw)
    assert raw[:MAX_DEAD_LETTER_ORIGINAL] == base64.b64decode(letter.original_b64)
    assert len(raw) == letter.original_size
    assert "first" in letter.error
    assert len(json.dumps(letter.model_dump(mode="json")).encode()) < 1024 * 1024


def test_message_time_beyond_datetime_is_none() -> None:
    """Absent (0) or unrepresentable timestamps give None instead of raising."""
    assert message_time(0) is None
    assert message_time(None) is None
    assert message_time(2**62) is None
    stamp = message_time(1_700_000_000_000)
    assert stamp is not None
    assert 2023 == stamp.year


def test_extract_batch_gives_each_record_a_result_or_a_reason() -> None:
    """Good reports, undecodable bytes and an empty text in one batch, each with its outcome."""
    from service.ingest import extract_batch

    good = {"id": "a", "text": "Air defences destroyed three drones over Belgorod Oblast."}
    items = [
        (json.dumps(good).encode(), None),
        (b"\xff\xfe not text", 1_700_000_000_000),
        (json.dumps({"id": "c", "text": "   "}).encode(), None),
    ]
    outcomes = extract_batch(items, 1 << 16)
    assert 3 == len(outcomes)
    result, error, seconds = outcomes[0]
    assert error is None and result is not None and seconds >= 0
    assert [("RU-BEL", 3)] == [(i.code, i.count) for i in result.interceptions]
    assert [None, None] == [o[0] for o in outcomes[1:]]
    assert ["not_utf8", "empty_text"] == [o[1][0] for o in outcomes[1:] if o[1] is not None]


def test_an_unforeseen_extractor_failure_is_a_dead_letter_reason(monkeypatch: Any) -> None:
    """A bug in the extractor becomes an ``extraction_error`` outcome marked unexpected."""
    from service import ingest, pipeline

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("gazetteer")

    monkeypatch.setattr(pipeline, "read_message", broken)
    [(result, error, _)] = ingest.extract_batch([(b'{"text": "x"}', None)], 1 << 16)
    assert result is None
    assert error is not None and ("extraction_error", "extract", True) == (error[0], error[2], error[3])
    assert "KeyError" in error[1]


async def test_extraction_processes_give_the_same_outcomes_and_survive_a_dead_process() -> None:
    """With SKYTALLY_EXTRACT_PROCESSES=2 a batch is extracted in two processes, in order; when
    they are killed the batch is extracted in the worker and new processes are started."""
    import os
    import signal
    from types import SimpleNamespace

    from service.ingest import ReportIngestor, extract_batch
    from service.settings import Settings

    texts = [f"Air defences shot down {n} drones over Kursk Oblast." for n in range(2, 9)]
    records = [
        SimpleNamespace(value=json.dumps({"id": f"r{n}", "text": t}).encode(), timestamp=1_700_000_000_000)
        for n, t in enumerate(texts)  # a fixed message time: the results compare equal
    ]
    ingestor = ReportIngestor(Settings(extract_processes=2), runtime=SimpleNamespace())
    try:
        pooled = await ingestor._extract(records)
        local = extract_batch([(r.value, r.timestamp) for r in records], 1 << 18)
        assert [o[0].model_dump() for o in local] == [o[0].model_dump() for o in pooled]  # type: ignore[union-attr]
        for pid in list(ingestor.pool._processes):
            os.kill(pid, signal.SIGKILL)
        again = await ingestor._extract(records)
        assert [o[0].model_dump() for o in local] == [o[0].model_dump() for o in again]  # type: ignore[union-attr]
        assert [o[0].model_dump() for o in local] == [  # type: ignore[union-attr]
            o[0].model_dump() for o in await ingestor._extract(records)  # type: ignore[union-attr]
        ]
    finally:
        ingestor.pool.shutdown(wait=True)


def test_extraction_processes_leave_when_the_worker_is_killed() -> None:
    """A SIGKILLed worker cannot shut its pool down: its extraction processes notice and exit."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import sys\n"
        "from service.ingest import new_pool\n"
        "pool = new_pool(1)\n"
        "pool.submit(int, '1').result()\n"
        "print(*pool._processes, flush=True)\n"
        "sys.stdin.read()\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert worker.stdout is not None
    child = int(worker.stdout.readline())
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    deadline = time.monotonic() + 30  # the watch looks once a second
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(child, signal.SIGKILL)
    raise AssertionError(f"extraction process {child} outlived its worker")
