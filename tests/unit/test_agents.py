"""The faust agents of stages 2 and 3 (faust's ``agent.test_context()``, no broker).

What a user would notice: a record a stage cannot process goes to the dead-letter topic with
the reason and its bytes, and the records after it are still counted.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import pytest

from service import agents
from service.app import buckets_table, statements_table, topics

GOOD_UPDATE = {
    "fingerprint": "f1",
    "code": "RU-KRS",
    "region": "Kursk Oblast",
    "count": 2,
    "event_time": "2026-11-20T03:30:00+00:00",
    "report_id": "r1",
    "source": "mod",
    "url": None,
    "claimed_total": 2,
    "evidence": "two over Kursk",
    "confidence": 0.9,
    "outlets": 1,
}


@pytest.fixture
def sent() -> Iterator[dict[str, list[dict[str, Any]]]]:
    """What the agents send, by topic (the topics' send is replaced; nothing leaves the process)."""
    out: dict[str, list[dict[str, Any]]] = {}
    topic_type = type(topics.dead_letter)
    original = topic_type.send

    async def record(self: Any, *args: Any, **kwargs: Any) -> None:
        out.setdefault(self.get_topic_name(), []).append(kwargs)

    with patch.object(topic_type, "send", record):
        yield out
    assert topic_type.send is original
    buckets_table.data.clear()
    statements_table.data.clear()


async def test_region_stage_dead_letters_a_bad_record_and_goes_on(sent: dict[str, list[Any]]) -> None:
    """A record missing its fields is dead-lettered with its bytes; the next one is counted."""
    async with agents.count_regions.test_context() as agent:
        await agent.put({"fingerprint": "broken"})
        await agent.put(GOOD_UPDATE)
    [letter] = sent[topics.dead_letter.get_topic_name()]
    value = letter["value"]
    assert ("processing_error", "count") == (value["reason"], value["stage"])
    assert {"fingerprint": "broken"} == json.loads(base64.b64decode(value["original_b64"]))
    counted = {c["value"]["window"]: c["value"]["count"] for c in sent[topics.region_counts.get_topic_name()]}
    assert 2 == counted["1h"]


async def test_statement_stage_dead_letters_a_record_that_is_not_a_result(sent: dict[str, list[Any]]) -> None:
    """A list instead of an extraction result: dead-lettered as invalid, nothing counted."""
    async with agents.merge_statements.test_context() as agent:
        await agent.put(["not", "a", "result"])
    [letter] = sent[topics.dead_letter.get_topic_name()]
    assert ("invalid_schema", "merge") == (letter["value"]["reason"], letter["value"]["stage"])
    assert topics.region_updates.get_topic_name() not in sent
