"""Robustness: never raise, no absurd counts, linear time on adversarial input."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from service.extract import extract_report

_WORDS = st.sampled_from(
    [
        "over",
        "над",
        "the",
        "Kursk",
        "Region",
        "drones",
        "сбиты",
        "збито",
        "three",
        "3",
        "each",
        "по",
        "два",
        ",",
        ".",
        ":",
        "—",
        "\n",
        "respectively",
        "соответственно",
        "Kyiv",
        "Київщиною",
        "including",
        "в том числе",
        "12:30",
        "from",
        "to",
        "GMT",
        "a",
        "another",
        "ще",
        "один",
        "1 000",
        "25,634",
        "No.",
        "(+112)",
        "«",
        "»",
        "'",
        "all",
        "все",
        "більше",
        "about",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_never_raises_on_any_text(text: str) -> None:
    """Arbitrary Unicode text always gives a valid result without warnings of errors."""
    result = extract_report(text, report_id="h", published=dt.date(2025, 1, 1))
    assert not any(w.startswith("extract_error") for w in result.warnings)


@settings(max_examples=200, deadline=None)
@given(st.lists(_WORDS, max_size=80).map(" ".join))
def test_counts_sane_on_word_salad(text: str) -> None:
    """Report-like word salad: counts are never negative or absurd, and nothing raises."""
    result = extract_report(text, report_id="h", published=None)
    assert not any(w.startswith("extract_error") for w in result.warnings)
    for row in result.interceptions:
        assert row.count is None or 0 <= row.count <= 10_000
    assert result.claimed_total is None or 0 <= result.claimed_total <= 10_000
    assert 0.0 <= result.confidence <= 1.0


def test_one_megabyte_adversarial_repetition() -> None:
    """A 1 MB repetition of a report-like fragment finishes (linear time, no backtracking)."""
    unit = "Over the Kursk Region, 3 drones, 12:30 — над Курской и Брянской областями по два, "
    text = unit * (1_000_000 // len(unit))
    result = extract_report(text, report_id="big", published=dt.date(2025, 1, 1))
    assert result.id == "big"
    assert not any(w.startswith("extract_error") for w in result.warnings)


def test_pathological_punctuation() -> None:
    """Long runs of separators, digits and dashes do not break anything."""
    for text in ("1" * 100_000, "-" * 100_000, ("1:1." * 20_000), ("a " * 50_000), "\n" * 50_000):
        result = extract_report(text, report_id="p")
        assert result.id == "p"
        assert not any(w.startswith("extract_error") for w in result.warnings)


def test_deterministic() -> None:
    """The same input gives the same output."""
    text = "Air defences destroyed five drones over the Tula Region and two over Kaluga."
    a = extract_report(text, report_id="d", published=dt.date(2025, 1, 1))
    b = extract_report(text, report_id="d", published=dt.date(2025, 1, 1))
    assert a.model_dump() == b.model_dump()
