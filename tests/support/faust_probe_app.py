"""A tiny faust app for broker tests, run as ``python -m faust -A tests.support.faust_probe_app``.

Configured only by environment (the test passes it to
:func:`tests.support.faust_worker.start_worker`): ``PROBE_BOOTSTRAP``, ``PROBE_APP_ID``,
``PROBE_IN``, ``PROBE_OUT``, ``PROBE_SESSION_S``, ``PROBE_HEARTBEAT_S`` and ``PROBE_DATADIR``
(else faust writes ``<app-id>-data`` into its cwd). The agent copies every input value to
the output topic wrapped as ``{"seen": value}``, so a test can tell the worker has joined its
group and is processing.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import faust

app = faust.App(
    os.environ["PROBE_APP_ID"],
    broker=f"kafka://{os.environ['PROBE_BOOTSTRAP']}",
    store="memory://",
    datadir=os.environ.get("PROBE_DATADIR") or None,
    web_enabled=False,
    topic_partitions=4,
    topic_replication_factor=1,
    broker_session_timeout=float(os.environ.get("PROBE_SESSION_S", "6")),
    broker_heartbeat_interval=float(os.environ.get("PROBE_HEARTBEAT_S", "1")),
    consumer_auto_offset_reset="earliest",
)

inbound = app.topic(os.environ["PROBE_IN"], value_serializer="json")
outbound = app.topic(os.environ["PROBE_OUT"], value_serializer="json")


@app.agent(inbound)
async def echo(stream: faust.StreamT[Any]) -> AsyncIterator[None]:
    """Forward each value to the output topic."""
    async for value in stream:
        await outbound.send(value={"seen": value})
        yield None
