"""The ceiling for any faust agent on this machine: decode JSON, one table increment per event.

Run by ``bench_e2e`` as ``python -m faust -A tests.bench.trivial_app worker --without-web``;
configured by environment only: ``BENCH_BOOTSTRAP``, ``BENCH_APP_ID``, ``BENCH_IN`` (the
reports topic), ``BENCH_DATADIR``. The benchmark follows progress on the table's changelog
topic (``<app id>-per-source-changelog``): one record per event, stamped when it was sent.
Same broker settings as skytally's App (acks=all, 6 s session, earliest offsets) and the same
consumer guards (``service.faust_guards``: among them the 100 ms fetch wait), so the ceiling
is faust's, not a fetch that waits 1.5 s.
"""

from __future__ import annotations

import json
import os
from typing import Any

import faust

from service import faust_guards

faust_guards.install()

app = faust.App(
    os.environ["BENCH_APP_ID"],
    broker=f"kafka://{os.environ['BENCH_BOOTSTRAP']}",
    store="memory://",
    datadir=os.environ.get("BENCH_DATADIR") or None,
    web_enabled=False,
    topic_partitions=4,
    topic_replication_factor=1,
    broker_session_timeout=6.0,
    broker_heartbeat_interval=0.5,
    producer_acks=-1,
    consumer_auto_offset_reset="earliest",
)

reports = app.topic(
    os.environ["BENCH_IN"], key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
)
per_source = app.Table("per-source", default=int, partitions=4)


@app.agent(reports)
async def count(stream: Any) -> None:
    """json.loads each report and count it per source."""
    async for raw in stream:
        report = json.loads(raw)
        per_source[report.get("source") or "?"] += 1
