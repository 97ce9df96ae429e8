"""Scoring (service.extract.evaluate) and the development-corpus targets."""

from __future__ import annotations

import json
from pathlib import Path

from service.extract.evaluate import format_mismatches, format_report, predict, score
from service.models import ExtractionResult, Interception

DEV = Path(__file__).resolve().parents[4] / "shared" / "samples" / "dev_reports.jsonl"

# Own gold items (used always; the shared corpus is scored too when present).
OWN_GOLD = [
    {
        "id": "g1",
        "language": "en",
        "published": "2025-06-01",
        "text": "Seven drones were shot down over the Kursk Region and two over the Oryol Region.",
        "gold": {
            "interceptions": [{"region": "Kursk Oblast", "count": 7}, {"region": "Oryol Oblast", "count": 2}],
            "claimed_total": None,
        },
    },
    {
        "id": "g2",
        "language": "ru",
        "published": "2025-06-01",
        "text": "Над Брянской областью сбиты четыре беспилотника.",
        "gold": {"interceptions": [{"region": "Bryansk Oblast", "count": 4}], "claimed_total": 4},
    },
    {
        "id": "g3",
        "language": "uk",
        "published": "2025-06-01",
        "text": "На Київщині працює ППО.",
        "gold": {"interceptions": [], "claimed_total": None, "air_defence_activity": ["Kyiv Oblast"]},
    },
]



def test_score_perfect_on_own_items() -> None:
    """Own gold items are read exactly; the table lists every language and 'all'."""
    report = score(OWN_GOLD, predict(OWN_GOLD))
    assert report.by_language["all"].exact_rate == 1.0
    assert report.by_language["all"].count_f1 == 1.0
    assert report.by_language["all"].clean_negative_rate == 1.0
    table = format_report(report)
    assert "all" in table and "uk" in table


def test_score_counts_errors() -> None:
    """A wrong count lowers region+count F1 but not region F1; missing ids are listed."""
    gold = OWN_GOLD[:1]
    wrong = ExtractionResult(
        id="g1",
        interceptions=[
            Interception(region="Kursk Oblast", code="RU-KRS", count=6),
            Interception(region="Oryol Oblast", code="RU-ORL", count=2),
        ],
    )
    report = score(gold, {"g1": wrong})
    c = report.by_language["all"]
    assert c.region_f1 == 1.0
    assert c.count_f1 == 0.5
    assert c.exact_rate == 0.0
    assert "Kursk Oblast" in format_mismatches(report)
    assert score(gold, {}).missing == ["g1"]


def test_dont_care_rows_not_penalised() -> None:
    """Predicting an air-defence-activity place is not a false positive."""
    item = OWN_GOLD[2]
    pred = ExtractionResult(
        id="g3", interceptions=[Interception(region="Kyiv Oblast", code="UA-32", count=None)]
    )
    report = score([item], {"g3": pred})
    assert report.by_language["all"].exact_rate == 1.0


def test_dev_corpus_targets() -> None:
    """On the development corpus each language reaches the targets (when the file exists)."""
    records = (
        [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
        if DEV.exists()
        else OWN_GOLD
    )
    report = score(records, predict(records))
    for lang in ("en", "ru", "uk"):
        c = report.by_language.get(lang)
        assert c is not None
        assert c.count_f1 >= 0.97, (lang, format_report(report))
        assert c.exact_rate >= 0.90, (lang, format_report(report))
        assert c.clean_negative_rate >= 0.95, lang
