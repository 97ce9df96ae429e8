"""Bad input is refused with a reason; good input becomes a report."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.decode import MAX_JSON_DEPTH, content_id, decode_report
from service.errors import InputError

LIMIT = 1024
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (None, "empty"),
        (b"x" * (LIMIT + 1), "too_large"),
        (b"\xff\xfe\xfa not utf-8", "not_utf8"),
        (b"\x00\x01\x02binary\x00", "binary"),
        (b'{"text": "unterminated', "not_json"),
        (b"[1, 2, 3]", "invalid_schema"),
        (b'{"source": "no text"}', "invalid_schema"),
        (b'{"text": 42}', "invalid_schema"),
        (b'{"text": "   "}', "empty_text"),
        (b"   \n  ", "empty_text"),
        (b"[" * (MAX_JSON_DEPTH + 5) + b"]" * (MAX_JSON_DEPTH + 5), "invalid_schema"),
    ],
)
def test_bad_input_gets_a_reason(raw: bytes | None, reason: str) -> None:
    """Each kind of bad message raises InputError with its machine-readable reason."""
    with pytest.raises(InputError) as info:
        decode_report(raw, max_bytes=LIMIT, message_time=NOW)
    assert reason == info.value.reason
    assert str(info.value)


def test_plain_text_body_is_a_report() -> None:
    """A plain UTF-8 body is the report text; id is a content hash, time the message time."""
    report = decode_report(
        "Над Курской областью сбит беспилотник.".encode(), max_bytes=LIMIT, message_time=NOW
    )
    assert "Над Курской областью сбит беспилотник." == report.text
    assert content_id(report.text) == report.id
    assert NOW == report.published_at


def test_json_report_keeps_its_fields() -> None:
    """A JSON report keeps id, source, url, language and its own published_at."""
    body = {
        "id": "r1",
        "source": "mod",
        "url": "https://example.org/1",
        "language": "en",
        "published_at": "2026-11-19T22:00:00+03:00",
        "text": "Two drones were downed.",
    }
    report = decode_report(json.dumps(body).encode(), max_bytes=LIMIT, message_time=NOW)
    assert ("r1", "mod", "en") == (report.id, report.source, report.language)
    assert datetime(2026, 11, 19, 19, 0, tzinfo=UTC) == report.published_at


def test_naive_published_at_is_taken_as_utc() -> None:
    """A published_at without offset is read as UTC rather than refused."""
    body = {"text": "One drone was shot down.", "published_at": "2026-11-19T22:00:00"}
    report = decode_report(json.dumps(body).encode(), max_bytes=LIMIT, message_time=NOW)
    assert UTC == report.published_at.tzinfo


@given(st.binary(max_size=2048))
def test_any_bytes_decode_or_raise_input_error(raw: bytes) -> None:
    """No byte string makes the decoder raise anything but InputError."""
    try:
        report = decode_report(raw, max_bytes=LIMIT, message_time=NOW)
    except InputError as err:
        assert err.reason
    else:
        assert report.text.strip()
        assert report.id


def test_brackets_inside_strings_are_not_nesting() -> None:
    """A text full of brackets and escaped quotes is a report, not JSON nested too deep."""
    text = '[[[{{{ \\" ' * 40 + "two drones over Kursk"
    raw = json.dumps({"id": "b1", "text": text}).encode()
    assert text == decode_report(raw, max_bytes=1 << 20).text


def test_deep_nesting_after_many_shallow_brackets_is_refused() -> None:
    """Many harmless brackets do not hide a real nesting bomb further on."""
    body = '{"id": "d", "text": "x", "tags": [' + "[], " * 50 + "[" * 40 + "]" * 40 + "]}"
    with pytest.raises(InputError) as err:
        decode_report(body.encode(), max_bytes=1 << 20)
    assert "invalid_schema" == err.value.reason


@pytest.mark.parametrize(
    "raw",
    [
        b'{"text": "two drones over \\ud800 Kursk"}',  # no id: the content hash needs UTF-8
        b'{"id": "s1", "text": "Seven drones over the Kursk\\udfff Region"}',
        b'{"id": "s2", "text": "\\udc00"}',
    ],
)
def test_lone_surrogate_in_text_is_refused(raw: bytes) -> None:
    """A JSON escape of a lone surrogate is not text: refused like one in any other field."""
    with pytest.raises(InputError) as err:
        decode_report(raw, max_bytes=LIMIT, message_time=NOW)
    assert "invalid_schema" == err.value.reason
    assert "surrogate" in str(err.value)


@pytest.mark.parametrize(
    "published",
    [
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "9999-12-31T22:00:00+00:00",
        "1899-12-31T23:00Z",
    ],
)
def test_publication_time_at_the_ends_of_time_is_refused(published: str) -> None:
    """Times whose windows cannot be computed are refused, not left to crash a later stage."""
    raw = json.dumps({"id": "t", "published_at": published, "text": "Two drones were downed."}).encode()
    with pytest.raises(InputError) as err:
        decode_report(raw, max_bytes=LIMIT, message_time=NOW)
    assert "invalid_schema" == err.value.reason


def test_message_time_at_the_end_of_time_is_refused() -> None:
    """The message timestamp stands in for a missing published_at, and is held to the same range."""
    end_of_time = datetime(9999, 12, 31, tzinfo=UTC)
    with pytest.raises(InputError):
        decode_report(b"Two drones were downed.", max_bytes=LIMIT, message_time=end_of_time)


def test_json_after_a_byte_order_mark_is_json() -> None:
    """Some producers prefix UTF-8 with a BOM: the report's fields are still read."""
    raw = "\ufeff".encode() + json.dumps({"id": "bom-1", "text": "Two drones over Kursk."}).encode()
    report = decode_report(raw, max_bytes=1 << 20)
    assert ("bom-1", "Two drones over Kursk.") == (report.id, report.text)
