"""Backtesting rules offline over a report archive."""

from __future__ import annotations

import json
from pathlib import Path

from service.backtest import backtest_file
from service.settings import Settings

ROSTOV = "Nine drones were shot down over the Rostov Region from 04:00 to 07:00 Moscow time on March 1."


def write_archive(path: Path) -> None:
    """An archive: a republished statement over threshold, a small one, and a broken line."""
    lines = [
        {
            "id": "a",
            "source": "mod",
            "published_at": "2026-03-01T05:00:00+00:00",
            "text": ROSTOV,
        },
        {
            "id": "b",
            "source": "wire",
            "published_at": "2026-03-01T05:30:00+00:00",
            "text": ROSTOV,
        },
        {
            "id": "c",
            "source": "gov",
            "published_at": "2026-03-02T10:00:00+00:00",
            "text": "One drone was destroyed over the Tula Region.",
        },
        {"raw": "{broken"},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")


def test_backtest_counts_each_alert_once(tmp_path: Path) -> None:
    """A republished statement above the 1 h level raises one alert; small counts raise none."""
    archive = tmp_path / "archive.jsonl"
    write_archive(archive)
    result = backtest_file(archive, Settings(windows="1h,24h,night"))
    assert 1 == result.fired()[("threshold", "1h", "Rostov Oblast")]
    assert not any(region == "Tula Oblast" for _, _, region in result.fired())
    assert {"not_json": 1} == dict(result.unreadable)


def test_stricter_rules_raise_fewer_alerts(tmp_path: Path) -> None:
    """A rules file with a higher 1 h level silences the same archive: the tuning loop works."""
    archive = tmp_path / "archive.jsonl"
    write_archive(archive)
    rules = tmp_path / "rules.toml"
    rules.write_text('[threshold."1h"]\nwarning = 20\nresolve = 10\n', encoding="utf-8")
    result = backtest_file(archive, Settings(windows="1h,24h,night", rules=rules))
    assert {} == dict(result.fired())
