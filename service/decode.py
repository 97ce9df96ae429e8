"""Raw message bytes to a validated :class:`~service.models.ReportIn`, or an InputError.

Pure and total: every possible ``bytes`` value either decodes or raises ``InputError`` with
a reason code that the dead-letter record and the ``skytally_dead_letters_total`` metric carry.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

from pydantic import ValidationError

from service.errors import InputError
from service.models import ReportIn

#: JSON nested deeper than this is refused before parsing (json recursion is not bounded).
MAX_JSON_DEPTH = 32

#: Publication times outside this range are refused: near the ends of ``datetime``'s range a
#: window's bounds cannot be computed, and no genuine report is dated there.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)

# Control characters other than tab, newline and carriage return mean binary, not text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# JSON strings (possibly unterminated) and brackets: enough to measure nesting depth. The
# alternatives inside a string are disjoint, so matching is linear in the text length.
_JSON_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


def content_id(text: str) -> str:
    """A stable id for a report without one: a hash of its text."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _check_depth(body: str) -> None:
    if body.count("[") + body.count("{") <= MAX_JSON_DEPTH:
        return  # cannot be nested deeper than that: the usual case, checked in C
    depth = 0
    for match in _JSON_NESTING.finditer(body):
        bracket = match.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise InputError("invalid_schema", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        elif bracket in "]}":
            depth -= 1


def _looks_binary(body: str) -> bool:
    return _CONTROL.search(body, 0, 4096) is not None


def decode_report(raw: bytes | None, *, max_bytes: int, message_time: datetime | None = None) -> ReportIn:
    """Decode one message value; raise InputError saying which rule the message broke."""
    if raw is None or len(raw) == 0:
        raise InputError("empty", "message value is empty")
    if len(raw) > max_bytes:
        raise InputError(
            "too_large",
            f"message is {len(raw)} bytes; the limit is {max_bytes} (SKYTALLY_MAX_REPORT_BYTES)",
        )
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("not_utf8", f"message is not valid UTF-8: {exc}") from exc
    if _looks_binary(body):
        raise InputError("binary", "message contains control characters: binary, not text")
    stripped = body.lstrip().lstrip("\ufeff").lstrip()  # a UTF-8 byte-order mark is not text
    report = _decode_json(stripped) if stripped.startswith(("{", "[")) else ReportIn(text=body)
    if not report.text.strip():
        raise InputError("empty_text", "report text is empty", stage="validate")
    if report.id is None:
        report.id = content_id(report.text)
    if report.published_at is None and message_time is not None:
        report.published_at = message_time
    if report.published_at is not None and report.published_at.tzinfo is None:
        report.published_at = report.published_at.replace(tzinfo=UTC)
    if report.published_at is not None:
        _check_time(report.published_at)
    return report


def _check_time(published: datetime) -> None:
    try:
        utc: datetime | None = published.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise InputError(
            "invalid_schema",
            f"published_at {published.isoformat()} (the message timestamp when absent) is not "
            f"between {EARLIEST.year} and {LATEST.year - 1}",
        )


def _decode_json(body: str) -> ReportIn:
    _check_depth(body)
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError("not_json", f"message starts like JSON but does not parse: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError("invalid_schema", f"JSON message must be an object, got {type(data).__name__}")
    try:
        report = ReportIn.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise InputError("invalid_schema", f"report does not match the schema: {problems}") from exc
    # pydantic refuses lone surrogates (JSON escapes such as \ud800) in the constrained fields
    # but not in ``text``; such a text cannot be encoded, hashed or sent on.
    try:
        report.text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            "invalid_schema",
            f"report does not match the schema: text: lone surrogate U+{ord(exc.object[exc.start]):04X} "
            f"at character {exc.start} is not Unicode text",
        ) from exc
    return report
