"""The seed report must come out exactly as the issue specifies."""

from __future__ import annotations

import datetime as dt

import pytest

from service.extract import extract_report
from service.models import ExtractionResult
from tests.support.seed import SEED_PATH, SEED_ROWS, SEED_TOTAL

# Own wording with the same structure as the seed (used when the shared file is absent).
OWN_SEED = (
    "Russia's Defence Ministry said 22 Ukrainian UAVs were destroyed during the night. "
    "The raid lasted from 11:23 pm on November 11 until 7:00 am on November 12. "
    "Air defence units downed eight of them above the Rostov Region and four above Stavropol "
    "Krai, plus three apiece above the Oryol and Bryansk Regions. A further two were stopped "
    "above Tula and Kaluga, and one apiece was brought down near Moscow and Kursk. "
    "The UAVs had been aimed at Donetsk and at Kamensky District. "
    "Wreckage of a destroyed UAV started a blaze at a depot in Budennovsk, Stavropol Krai. "
    "Strikes were also reported in Mordovia, Dagestan and Ivanovo Oblast."
)


def _seed_text() -> str:
    return SEED_PATH.read_text(encoding="utf-8") if SEED_PATH.exists() else OWN_SEED


@pytest.fixture(scope="module")
def seed() -> ExtractionResult:
    """The extraction of the seed report."""
    return extract_report(_seed_text(), report_id="seed", published=dt.date(2025, 11, 12))


def test_seed_rows(seed: ExtractionResult) -> None:
    """Region rows and counts are exactly the expected ones."""
    rows = {r.region: r.count for r in seed.interceptions}
    assert rows == SEED_ROWS
    codes = {r.region: r.code for r in seed.interceptions}
    assert codes["Rostov Oblast"] == "RU-ROS"
    assert codes["Moscow"] == "RU-MOW"


def test_seed_group(seed: ExtractionResult) -> None:
    """Tula and Kaluga share a group of two (no 'each', total does not force a split)."""
    assert len(seed.groups) == 1
    assert seed.groups[0].regions == ["Tula Oblast", "Kaluga Oblast"]
    assert seed.groups[0].count == 2


def test_seed_totals(seed: ExtractionResult) -> None:
    """Claimed total 22 equals the parts."""
    assert seed.claimed_total == SEED_TOTAL
    assert seed.parts_sum == 22
    assert seed.consistent is True


def test_seed_metadata(seed: ExtractionResult) -> None:
    """Weapon, side and the exact clock period in Moscow time."""
    assert seed.weapon == "drone"
    assert seed.reporting_side == "RU"
    assert seed.period_start == dt.datetime(2025, 11, 11, 23, 23, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    assert seed.period_end == dt.datetime(2025, 11, 12, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    assert seed.period_assumed is False
