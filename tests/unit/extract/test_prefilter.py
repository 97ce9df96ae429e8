"""The prefilter: long texts read the same as their relevant sentences, only faster."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from service.extract.gazetteer import load
from service.extract.prefilter import prefilter, scan, sentence_cuts
from service.extract.text import normalise

Rows = Callable[..., dict[str, int | None]]

# Colour of the kind news pages carry: no figures, no interception words.
_COLOUR = (
    "Residents queued at the bakery as usual and the trams kept to their timetable. "
    "A local choir rehearsed in the cathedral while volunteers painted the school fence. "
    "The weather service promised a calm and cloudy afternoon with light winds.\n\n"
)


def _long(*parts: str) -> str:
    return _COLOUR * 3 + "\n\n".join(parts) + "\n\n" + _COLOUR * 3


def test_padding_does_not_change_the_reading(rows: Rows) -> None:
    core = "Air defence destroyed seven drones over the Kursk region and two over the Bryansk region."
    assert rows(_long(core)) == rows(core) == {"Kursk Oblast": 7, "Bryansk Oblast": 2}


def test_long_text_drops_colour_chunks() -> None:
    norm = normalise(_long("Four drones were shot down over the Oryol region."))
    pre = prefilter(norm, load().find(norm))
    kept = "".join(norm[a:b] for a, b in pre.spans)
    assert "shot down" in kept
    assert kept.count("choir") <= 1  # at most the sentence right after the claim
    assert len(kept) < len(norm) // 4


def test_list_after_the_claim_is_kept(rows: Rows) -> None:
    text = _long(
        "The ministry said 9 drones were destroyed overnight.\nKursk Oblast — 5\nBelgorod Oblast — 4"
    )
    assert rows(text) == {"Kursk Oblast": 5, "Belgorod Oblast": 4}


def test_anaphora_reaches_back_over_dropped_chunks(rows: Rows) -> None:
    text = _long(
        "The governor of the Voronezh region opened a new bridge.",
        "Later he wrote that three drones had been shot down over the region.",
    )
    assert rows(text) == {"Voronezh Oblast": 3}


def test_a_dropped_sentence_ends_a_list(rows: Rows) -> None:
    claim = "Two drones were shot down over the Tula region."
    aside = "The festival in the park went ahead."
    follow = "Over Kaluga, 4."
    assert rows(_long(claim, follow)) == {"Tula Oblast": 2, "Kaluga Oblast": 4}
    assert rows(_long(claim, aside, follow)) == {"Tula Oblast": 2}


def test_clock_window_in_an_otherwise_empty_sentence_is_read(read: Callable[..., object]) -> None:
    text = _long(
        "The attack lasted from 01:00 to 04:00 Moscow time.", "Six drones were shot down over Crimea."
    )
    result = read(text)
    assert result.period_start is not None  # type: ignore[attr-defined]
    assert result.period_end is not None  # type: ignore[attr-defined]


def test_launch_figure_stays_in_its_sentence(read: Callable[..., object]) -> None:
    result = read("Russia attacked overnight. 5 drones were shot down over the Kursk region.")
    assert result.launched is None  # type: ignore[attr-defined]
    result = read("Russia launched 40 drones overnight. 5 were shot down over the Kursk region.")
    assert result.launched == 40  # type: ignore[attr-defined]


def test_street_number_lookback_stays_in_its_sentence(rows: Rows) -> None:
    text = _long(
        "Debris fell on Lenin Street.",
        "Russia launched drones. 12 drones were shot down over the Kursk region.",
    )
    assert rows(text) == {"Kursk Oblast": 12}


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("one. two", ["one.", " two"]),
        ("st. petersburg was calm. yes", ["st. petersburg was calm.", " yes"]),
        ("the obl. centre! ok? fine\nnext", ["the obl. centre!", " ok?", " fine\n", "next"]),
        ("at 12.30 a.m. then", ["at 12.30 a.m. then"]),
        ("р-н. дальше", ["р-н. дальше"]),
    ],
)
def test_sentence_cuts_only_where_the_splitter_always_cuts(text: str, pieces: list[str]) -> None:
    assert [text[a:b] for a, b in sentence_cuts(text, 0, len(text))] == pieces


def test_scan_finds_verbs_like_the_verb_pattern() -> None:
    norm = "they repelled and destroyed it; pre-shot down; збито"
    verbs, _ = scan(norm)
    assert [norm[v : v + 4] for v in verbs] == ["repe", "збит"]
