"""Stage 1's pure helpers: dead-letter records that can always be sent, timestamps that cannot crash."""

from __future__ import annotations

import base64
import json

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
