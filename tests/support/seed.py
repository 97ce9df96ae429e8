"""Where the shared seed report lives and what the issue says it must give (one place for both)."""

from __future__ import annotations

from pathlib import Path

#: ../shared/samples/seed_report.txt beside the repository (CI and developer machines have it).
SEED_PATH = Path(__file__).resolve().parents[3] / "shared" / "samples" / "seed_report.txt"

#: Region rows the seed must produce (Tula and Kaluga share a group of two, so their rows are null).
SEED_ROWS: dict[str, int | None] = {
    "Rostov Oblast": 8,
    "Stavropol Krai": 4,
    "Oryol Oblast": 3,
    "Bryansk Oblast": 3,
    "Moscow": 1,
    "Kursk Oblast": 1,
    "Tula Oblast": None,
    "Kaluga Oblast": None,
}
SEED_TOTAL = 22
