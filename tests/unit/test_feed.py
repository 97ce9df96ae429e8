"""Feed files: reports, raw payloads, plain text, and clear errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from service.errors import ConfigError
from service.feed import bundled_samples, read_feed


def test_dev_corpus_lines_become_reports(tmp_path: Path) -> None:
    """A corpus line keeps the report fields, maps published to published_at, drops gold."""
    path = tmp_path / "f.jsonl"
    path.write_text(
        json.dumps({"id": "a", "text": "t", "published": "2025-01-02", "gold": {"x": 1}, "notes": "n"})
        + "\n",
        encoding="utf-8",
    )
    (payload,) = read_feed(path)
    assert {"id": "a", "text": "t", "published_at": "2025-01-02"} == json.loads(payload.value)
    assert b"a" == payload.key


def test_raw_lines_are_sent_byte_for_byte(tmp_path: Path) -> None:
    """raw and raw_b64 lines carry deliberately bad bytes unchanged."""
    path = tmp_path / "f.jsonl"
    lines = [{"raw": "{broken"}, {"raw_b64": base64.b64encode(b"\xff\x00").decode()}]
    path.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    assert [b"{broken", b"\xff\x00"] == [p.value for p in read_feed(path)]


def test_plain_text_file_is_one_report(tmp_path: Path) -> None:
    """A non-JSONL file is sent whole as one plain-text report."""
    path = tmp_path / "report.txt"
    path.write_text("Two drones were downed.", encoding="utf-8")
    assert [b"Two drones were downed."] == [p.value for p in read_feed(path)]


def test_broken_jsonl_names_the_line(tmp_path: Path) -> None:
    """A line that is not JSON is reported with file and line number."""
    path = tmp_path / "f.jsonl"
    path.write_text('{"text": "ok"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"f.jsonl:2"):
        list(read_feed(path))


def test_bundled_samples_include_bad_input() -> None:
    """The demo feed has good reports and a few bad messages to show dead-lettering."""
    payloads = list(read_feed(bundled_samples()))
    assert 10 <= sum(1 for p in payloads if p.report_id)
    assert 1 <= sum(1 for p in payloads if p.report_id is None)
