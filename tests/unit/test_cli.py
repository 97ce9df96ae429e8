"""The skytally command: offline extraction and clear configuration errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def skytally(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m service ARGS` the way a user runs `skytally ARGS`."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SKYTALLY_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        input=stdin,
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_extract_plain_text_prints_one_json_result() -> None:
    """`extract -` reads a report on stdin and prints one ExtractionResult."""
    proc = skytally(
        "extract", "-", "--published", "2026-11-20", stdin="Two drones were shot down over the Kursk Region."
    )
    assert 0 == proc.returncode, proc.stderr
    result = json.loads(proc.stdout)
    assert {
        "id",
        "interceptions",
        "groups",
        "claimed_total",
        "parts_sum",
        "consistent",
        "weapon",
        "reporting_side",
        "period_start",
        "period_end",
        "warnings",
    } <= set(result)


def test_extract_jsonl_keeps_ids_and_order(tmp_path: Path) -> None:
    """`extract --jsonl` writes one result line per input line, same id, same order."""
    lines = [
        {
            "id": f"r{i}",
            "text": f"{i} drones were destroyed over the Bryansk Region.",
            "published": "2026-11-20",
            "language": "en",
        }
        for i in range(2, 7)
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    proc = skytally("extract", str(path), "--jsonl")
    assert 0 == proc.returncode, proc.stderr
    assert [x["id"] for x in lines] == [json.loads(line)["id"] for line in proc.stdout.splitlines()]


def test_missing_file_is_a_clear_error() -> None:
    """A missing input file exits 2 with the file named."""
    proc = skytally("extract", "/nonexistent/report.txt")
    assert 2 == proc.returncode
    assert "/nonexistent/report.txt" in proc.stderr


def test_bad_setting_is_one_line_not_a_traceback() -> None:
    """An invalid SKYTALLY_* value exits 2 naming the variable."""
    proc = skytally("worker", env={"SKYTALLY_WEB_PORT": "not-a-port"})
    assert 2 == proc.returncode
    assert "SKYTALLY_WEB_PORT" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_rules_file_names_the_line(tmp_path: Path) -> None:
    """A worker with a broken rules file refuses to start and names the file and line."""
    rules = tmp_path / "rules.toml"
    rules.write_text('[threshold."1h"]\nwarning = 5\nresolve = 2\ncritcal = 9\n', encoding="utf-8")
    proc = skytally("worker", env={"SKYTALLY_RULES": str(rules)})
    assert 2 == proc.returncode
    assert f"{rules}:4" in proc.stderr


def test_worker_help_needs_no_broker() -> None:
    """`skytally worker --help` prints faust's worker options; it does not try to reach Kafka."""
    proc = skytally("worker", "--help", env={"SKYTALLY_KAFKA_BOOTSTRAP": "127.0.0.1:1"})
    assert 0 == proc.returncode, proc.stderr
    assert "--web-port" in proc.stdout
    assert "cannot reach Kafka" not in proc.stderr
