"""Hostile input through the real worker: every bad message is dead-lettered, the stream goes on.

The corpus is drawn once per run by Hypothesis strategies from a fixed seed (printed; override
with ``SKYTALLY_FUZZ_SEED``), so a failure can be replayed exactly. It mixes, in a shuffled
order spread over the four input partitions:

* bad messages, each built to break one decoding rule (so its dead-letter reason is known):
  random bytes, invalid UTF-8, control characters, deep JSON, JSON over
  ``SKYTALLY_MAX_REPORT_BYTES`` and a megabyte text, a wrong type in each report field, lone
  surrogates behind JSON escapes, empty and null values;
* odd but valid reports that must be extracted, never dead-lettered: hostile Unicode (RTL
  and zero-width marks, escaped NUL, astral characters), long adversarial repetitions,
  brackets inside strings, unknown fields;
* good reports from the synthetic generator, whose final counts are known exactly.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from pydantic import ValidationError

from service.decode import content_id
from service.ingest import MAX_DEAD_LETTER_ORIGINAL
from service.models import ReportIn
from service.synthetic import generate, truth
from service.windows import parse_windows
from tests.support.counts import describe_difference, metric_samples, wait_counts
from tests.support.kafka_io import consume_until, values
from tests.support.skytally_worker import launch_worker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

FUZZ_SEED = int(os.environ.get("SKYTALLY_FUZZ_SEED", "20261125"))
#: Hypothesis examples drawn; each yields one message of every kind below.
EXAMPLES = 5
MAX_BYTES = 256 * 1024  # the worker's default SKYTALLY_MAX_REPORT_BYTES
WINDOWS = "1h,24h,night"
PARTITIONS = 4
#: The good reports' period; odd reports are published elsewhere in time so they cannot mix in.
GOOD_START = datetime(2023, 3, 1, 17, 0, tzinfo=UTC)
ODD_PUBLISHED = "2020-06-01T12:00:00+00:00"

CONTROL = [chr(c) for c in range(32) if c not in (9, 10, 13)]
#: Bytes that can never appear in UTF-8, or sequences that are not valid UTF-8 (overlong,
#: encoded surrogates, beyond U+10FFFF, lone continuation bytes, truncated sequences).
INVALID_UTF8 = [
    b"\xff",
    b"\xfe",
    b"\xc0\xaf",
    b"\xc1\xbf",
    b"\xe0\x80\xaf",
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf",
    b"\xf4\x90\x80\x80",
    b"\xf8\x88\x80\x80\x80",
    b"\x80",
    b"\xbf",
    b"\xe2\x82",
]
#: Direction overrides and isolates, zero-width characters, BOM, soft hyphen, combining marks,
#: tag characters, noncharacters, astral symbols, look-alike digits and letters.
HOSTILE = [
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2069",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u0301",
    "\u034f",
    "\U000e0041",
    "\ufffe",
    "\uffff",
    "\U0001f4a5",
    "\U0001d7d5",
    "\u0663",
    "\u0430",
    "\u00a0",
    "\u3000",
    "\u2028",
]
SENTENCES = [
    "Seven drones were shot down over the Kursk Region, the governor said.",
    "Russian air defences destroyed 12 Ukrainian drones: five over the Belgorod Region and seven "
    "over the Rostov Region, the Defence Ministry said.",
    "Над Курской областью сбиты три беспилотника.",
    "Сили ППО знешкодили 14 дронів над Сумщиною.",
]
REPEATED_UNITS = [
    "1 ",
    "drones ",
    "seven over the Belgorod Region, ",
    "from 10:00 to 11:00 Moscow time on March 3 ",
    "(",
    "9",
    "over the Kursk Region and ",
    "\u202e\u200b",
    "сбиты ",
]

#: Safe text for fillers: no control characters, no surrogates.
SAFE_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=80)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.text(max_size=20),
)
JSON_VALUES = st.one_of(
    JSON_SCALARS,
    st.lists(JSON_SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=6), JSON_SCALARS, max_size=3),
)


@dataclass(frozen=True)
class Message:
    """One input message and what must become of it."""

    kind: str
    raw: bytes | None
    reason: str | None = None  # the dead-letter reason it must get; None: it must be extracted
    report_id: str | None = None  # the id its extraction result carries


def dumps(value: Any) -> bytes:
    """Compact JSON, non-ASCII kept as UTF-8 (what producers send)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def schema_rejects(field: str, value: Any) -> bool:
    """True when a report with ``field`` set to ``value`` fails the report schema."""
    body = {"id": "probe", "text": "One drone was shot down.", field: value}
    try:
        ReportIn.model_validate(body)
    except ValidationError:
        return True
    return False


#: (draws, round number, unique tag) -> message; kinds with variants take the round's one.
Maker = Callable[[st.DataObject, int, str], Message]


def random_bytes(data: st.DataObject, n: int, tag: str) -> Message:
    body = data.draw(st.binary(max_size=3000))
    at = data.draw(st.integers(0, len(body)))
    return Message("random-bytes", body[:at] + b"\xff" + body[at:], "not_utf8")


def invalid_utf8(data: st.DataObject, n: int, tag: str) -> Message:
    head, tail = data.draw(SAFE_TEXT), data.draw(SAFE_TEXT)
    bad = data.draw(st.sampled_from(INVALID_UTF8))
    return Message("invalid-utf8", head.encode() + bad + tail.encode(), "not_utf8")


def control_chars(data: st.DataObject, n: int, tag: str) -> Message:
    head, tail = data.draw(SAFE_TEXT), data.draw(SAFE_TEXT)
    control = data.draw(st.sampled_from(CONTROL))
    return Message("control-chars", (head + control + tail).encode(), "binary")


def deep_json(data: st.DataObject, n: int, tag: str) -> Message:
    depth = data.draw(st.integers(33, 60_000))
    shape = ["arrays", "objects", "inside-report", "unterminated"][n % 4]
    body = {
        "arrays": "[" * depth + "]" * depth,
        "objects": '{"a":' * depth + "1" + "}" * depth,
        "inside-report": '{"text":"Two drones.","extra":' + "[" * depth + "]" * depth + "}",
        "unterminated": "{" * depth,
    }[shape]
    return Message(f"deep-json-{shape}", body.encode(), "invalid_schema")


def shallow_non_object(data: st.DataObject, n: int, tag: str) -> Message:
    value = data.draw(st.lists(JSON_VALUES, max_size=4))
    return Message("json-array", dumps(value), "invalid_schema")


def huge_json(data: st.DataObject, n: int, tag: str) -> Message:
    unit = data.draw(
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=8)
    )
    size = data.draw(st.integers(MAX_BYTES + 1, 3 * MAX_BYTES))
    reps = size // max(1, len(unit.encode())) + 1
    raw = dumps({"id": f"huge-{tag}", "text": unit * reps})
    assert len(raw) > MAX_BYTES
    return Message("huge-json", raw, "too_large")


def wrong_type(offset: int) -> Maker:
    """A report with one field of the wrong type (two makers: rounds cover every field)."""

    def make(data: st.DataObject, n: int, tag: str) -> Message:
        fields = sorted(ReportIn.model_fields)
        field = fields[(2 * n + offset) % len(fields)]
        value = data.draw(JSON_VALUES.filter(lambda v: schema_rejects(field, v)))
        body: dict[str, Any] = {
            "id": f"wrong-{tag}",
            "text": "Two drones were shot down over the Kursk Region.",
        }
        body[field] = value
        return Message(f"wrong-type-{field}", dumps(body), "invalid_schema")

    return make


def extreme_time(data: st.DataObject, n: int, tag: str) -> Message:
    """A published_at that parses but lies at the end of time, on a report that has counts."""
    published = [
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "9999-12-31T22:00:00+00:00",
        "0001-01-01T01:00:00+00:00",
    ][n % 4]
    sentence = data.draw(st.sampled_from(SENTENCES[:2]))
    return Message(
        "extreme-time",
        dumps({"id": f"time-{tag}", "published_at": published, "text": sentence}),
        "invalid_schema",
    )


def missing_or_long(data: st.DataObject, n: int, tag: str) -> Message:
    case = ["no-text", "long-id", "long-language"][n % 3]
    body: dict[str, Any] = {"id": f"long-{tag}", "text": "One drone was shot down."}
    if case == "no-text":
        del body["text"]
    elif case == "long-id":
        body["id"] = "x" * data.draw(st.integers(513, 5000))
    else:
        body["language"] = data.draw(st.text(min_size=17, max_size=40).filter(lambda s: len(s) > 16))
    return Message(case, dumps(body), "invalid_schema")


def surrogate_escape(data: st.DataObject, n: int, tag: str) -> Message:
    """A lone surrogate behind a JSON escape: valid UTF-8 bytes, but not Unicode text."""
    field = ["text", "id", "text", "source"][n % 4]
    code = data.draw(st.integers(0xD800, 0xDFFF))
    sentence = data.draw(st.sampled_from(SENTENCES))
    at = data.draw(st.integers(0, len(sentence)))
    escaped = json.dumps(sentence[:at]).rstrip('"') + f"\\u{code:04x}" + json.dumps(sentence[at:]).lstrip('"')
    fields = {"text": json.dumps(sentence), "id": json.dumps(f"sur-{tag}"), "source": '"mod"'}
    fields[field] = escaped
    with_id = data.draw(st.booleans()) or field == "id"
    members = [f'"{k}":{v}' for k, v in fields.items() if with_id or k != "id"]
    return Message(f"surrogate-{field}", ("{" + ",".join(members) + "}").encode(), "invalid_schema")


def empty_value(data: st.DataObject, n: int, tag: str) -> Message:
    raw = data.draw(st.sampled_from([None, b""]))
    return Message("empty", raw, "empty")


def blank_text(data: st.DataObject, n: int, tag: str) -> Message:
    blank = data.draw(st.text(st.sampled_from(" \t\n\r\u00a0\u2003\u3000"), max_size=40))
    as_json = data.draw(st.booleans())
    raw = dumps({"id": f"blank-{tag}", "text": blank}) if as_json else blank.encode()
    return Message("blank-text", raw or b" ", "empty_text")


def hostile_unicode(data: st.DataObject, n: int, tag: str) -> Message:
    """A real sentence with direction marks, zero-width and odd characters spliced in."""
    text = data.draw(st.sampled_from(SENTENCES))
    for _ in range(data.draw(st.integers(1, 12))):
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + data.draw(st.sampled_from([*HOSTILE, "\x00", "\x07"])) + text[at:]
    report_id = f"odd-{tag}-" + data.draw(st.sampled_from(HOSTILE))
    body = {
        "id": report_id,
        "source": data.draw(st.sampled_from(HOSTILE)) + "mod",
        "url": "https://example.org/" + data.draw(st.sampled_from(HOSTILE)),
        "published_at": ODD_PUBLISHED,
        "text": text,
    }
    # JSON escapes carry the NUL and BEL: raw control bytes would make it binary.
    return Message("hostile-unicode", dumps(body), report_id=report_id)


def repetition(data: st.DataObject, n: int, tag: str) -> Message:
    """A long text repeating one unit, under the size limit: slow paths in the extractor."""
    # Not starting like JSON: a plain text body starting with "{" or "[" is read as JSON.
    plain = SAFE_TEXT.filter(lambda s: s.strip() != "" and not s.lstrip().startswith(("{", "[")))
    unit = data.draw(st.sampled_from(REPEATED_UNITS) | plain)
    size = data.draw(st.integers(10_000, 120_000))
    text = unit * (size // len(unit.encode()) + 1)
    if data.draw(st.booleans()):
        return Message("repetition-text", text.encode(), report_id=content_id(text))
    report_id = f"rep-{tag}"
    return Message(
        "repetition-json",
        dumps({"id": report_id, "published_at": ODD_PUBLISHED, "text": text}),
        report_id=report_id,
    )


def odd_but_valid_json(data: st.DataObject, n: int, tag: str) -> Message:
    """Brackets inside strings, unknown fields, odd whitespace: all valid."""
    report_id = f"valid-{tag}"
    text = data.draw(st.sampled_from(SENTENCES)) + "[" * data.draw(st.integers(0, 5000))
    body = {
        "id": report_id,
        "published_at": ODD_PUBLISHED,
        "text": text,
        "extra": data.draw(JSON_VALUES),
        "nested": {"deep": [[[[["fine"]]]]]},
    }
    pad = data.draw(st.text(st.sampled_from(" \t\r\n"), max_size=5))
    return Message("odd-valid-json", pad.encode() + dumps(body) + pad.encode(), report_id=report_id)


MAKERS: list[Maker] = [
    random_bytes,
    invalid_utf8,
    control_chars,
    deep_json,
    shallow_non_object,
    huge_json,
    wrong_type(0),
    wrong_type(1),
    extreme_time,
    missing_or_long,
    surrogate_escape,
    empty_value,
    blank_text,
    hostile_unicode,
    repetition,
    odd_but_valid_json,
]


def build_corpus(seed: int) -> list[Message]:
    """Hypothesis draws EXAMPLES rounds of one message per maker; deterministic for a seed."""
    rounds: list[list[Message]] = []

    @settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis_seed(seed)
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        n = len(rounds)
        rounds.append([make(data, n, f"{n}-{i}") for i, make in enumerate(MAKERS)])

    draw()
    corpus = [m for r in rounds for m in r]
    megabyte = ("drones " * (1_000_000 // 7)).encode()
    corpus.append(Message("megabyte-text", megabyte, "too_large"))
    return corpus


@dataclass(frozen=True)
class Sent:
    """A produced message and where it landed."""

    message: Message
    partition: int
    offset: int


async def produce_spread(bootstrap: str, topic: str, messages: list[Message]) -> list[Sent]:
    """Send round-robin over the partitions in list order, each with a key (a null value needs one)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, request_timeout_ms=30_000
    )
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value=m.raw, key=f"fuzz-{i}".encode(), partition=i % PARTITIONS)
            for i, m in enumerate(messages)
        ]
        acks = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [Sent(m, a.partition, a.offset) for m, a in zip(messages, acks, strict=True)]


def test_fuzzed_input_is_dead_lettered_and_good_reports_still_count(broker: Any, tmp_path: Path) -> None:
    """Every bad message dead-lettered once with reason and bytes; every valid one extracted; exact counts."""
    print(f"fuzz seed {FUZZ_SEED} (set SKYTALLY_FUZZ_SEED to replay)")
    corpus = build_corpus(FUZZ_SEED)
    reports, statements = generate(12, seed=FUZZ_SEED, start=GOOD_START)
    good = [Message("good", dumps(r), report_id=r["id"]) for r in reports]
    messages = corpus + good
    random.Random(FUZZ_SEED).shuffle(messages)
    bad = [m for m in messages if m.reason is not None]
    extracted = {m.report_id for m in messages if m.report_id is not None}
    print(f"{len(bad)} bad, {len(extracted) - len(good)} odd but valid, {len(good)} good messages")

    worker = launch_worker(broker.bootstrap, tmp_path, "fuzz", SKYTALLY_WINDOWS=WINDOWS)
    try:
        sent = asyncio.run(produce_spread(broker.bootstrap, worker.topics["reports"], messages))
        by_place = {(s.partition, s.offset): s.message for s in sent}
        bad_places = {place for place, m in by_place.items() if m.reason is not None}

        def letter_places(records: list[Any]) -> set[tuple[int, int]]:
            return {(v["partition"], v["offset"]) for v in values(records) if isinstance(v, dict)}

        dead = asyncio.run(
            consume_until(
                broker.bootstrap,
                worker.topics["dead-letter"],
                lambda seen: bad_places <= letter_places(seen),
                timeout=120,
            )
        )
        letters = [v for v in values(dead) if isinstance(v, dict)]
        assert bad_places == letter_places(dead), "valid messages were dead-lettered"
        assert len(bad) == len(letters), "a message was dead-lettered more than once"
        for letter in letters:
            message = by_place[(letter["partition"], letter["offset"])]
            what = f"{message.kind} at {letter['partition']}:{letter['offset']} (seed {FUZZ_SEED})"
            assert message.reason == letter["reason"], f"{what}: {letter['error']}"
            raw = message.raw or b""
            # A dead letter must fit a Kafka message: beyond that it holds the first bytes only.
            assert raw[:MAX_DEAD_LETTER_ORIGINAL] == base64.b64decode(letter["original_b64"]), what
            assert len(raw) == letter["original_size"], what
            assert worker.topics["reports"] == letter["topic"], what
            assert letter["error"], what

        out = asyncio.run(
            consume_until(
                broker.bootstrap,
                worker.topics["interceptions"],
                lambda seen: extracted <= {v.get("id") for v in values(seen) if isinstance(v, dict)},
                timeout=120,
            )
        )
        assert extracted <= {v.get("id") for v in values(out) if isinstance(v, dict)}

        expected = truth(statements, parse_windows(WINDOWS))
        served = wait_counts(worker, expected, timeout=90, keep=lambda key: "|2023-" in key)
        assert "" == describe_difference(expected, served)

        want = Counter(m.reason for m in bad)
        letters_metric = metric_samples(worker, "skytally_dead_letters_total")
        by_reason: Counter[str] = Counter()
        for labels, value in letters_metric.items():
            by_reason[dict(labels)["reason"]] += int(value)
        assert want == by_reason
        assert len(messages) == worker.metric("skytally_reports_consumed_total")
        assert worker.proc.poll() is None, "the worker exited"
        assert "ok" == worker.get("/healthz")["status"]
    finally:
        code = worker.stop()
    assert 0 == code, f"worker exit code {code}"
