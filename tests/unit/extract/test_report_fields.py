"""Report-level fields: claimed total, parts, side, weapon, launched, warnings, evidence."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from service.models import ExtractionResult

Reader = Callable[..., ExtractionResult]

TOTALS: list[tuple[str, str, int | None]] = [
    (
        "adds_up",
        "The ministry said 9 drones were destroyed: six over the Kursk Region and three "
        "over the Oryol Region.",
        9,
    ),
    (
        "national_partial",
        "The air force said 40 drones were shot down nationwide. The Odesa "
        "governor said five were destroyed over his region.",
        40,
    ),
    (
        "per_weapon_sum",
        "Ukraine's air force said it destroyed three of four missiles and 20 of 25 drones overnight.",
        23,
    ),
    (
        "lower_bound_total",
        "More than 40 drones were destroyed over southern Russia, including 12 over the Rostov Region.",
        None,
    ),
    ("approx_total_kept", "About 30 drones were shot down over the Kharkiv region.", 30),
    ("single_region_figure", "Two drones were shot down over the Kursk Region.", 2),
    (
        "separate_regions_only",
        "Five drones were downed over the Tver Region. Three drones were downed over the Pskov Region.",
        None,
    ),
    (
        "bombs_excluded",
        "Air defences shot down three guided aerial bombs and 20 drones over the "
        "past day, the Defence Ministry said.",
        20,
    ),
    (
        "including_breakdown",
        "Russia's defence ministry said air defence units destroyed 30 "
        "Ukrainian drones overnight, including 10 over the Bryansk region.",
        30,
    ),
    ("ru_vsego", "Курская обл. — 3\nБрянская обл. — 2\nИтого за ночь силами ПВО уничтожено 5 БПЛА.", 5),
    ("uk_zahalom", "Над Сумщиною збито 4 дрони. Загалом у країні знешкоджено 35 БпЛА.", 35),
]


@pytest.mark.parametrize(("name", "text", "total"), TOTALS, ids=[t[0] for t in TOTALS])
def test_claimed_total(read: Reader, name: str, text: str, total: int | None) -> None:
    """Rule 10: the stated overall figure, or the single figure, else null."""
    assert read(text).claimed_total == total, name


def test_including_breakdown_rows(read: Reader) -> None:
    """'30 drones, including 10 over Bryansk' is a breakdown of a total, not a subset."""
    result = read(
        "The ministry said it destroyed 30 drones, including 10 over the Bryansk "
        "region and 8 over the Kursk region."
    )
    assert {r.region: r.count for r in result.interceptions} == {"Bryansk Oblast": 10, "Kursk Oblast": 8}


def test_parts_and_consistency(read: Reader) -> None:
    """parts_sum adds rows and groups; consistent compares it with the total."""
    result = read(
        "In total, 10 drones were intercepted: six over the Kursk Region and four over "
        "the Tula and Kaluga regions."
    )
    assert result.parts_sum == 10
    assert result.consistent is True
    assert result.groups and result.groups[0].count == 4
    assert "ambiguous_group" in result.warnings


def test_parts_do_not_add_up(read: Reader) -> None:
    """A national figure larger than the rows gives a warning."""
    result = read(
        "Ukraine's air force said 50 drones were downed. Over the Kyiv region, seven were destroyed."
    )
    assert result.claimed_total == 50
    assert result.consistent is False
    assert "parts_do_not_add_up" in result.warnings


@pytest.mark.parametrize(
    ("text", "side"),
    [
        ("Russia's Defence Ministry said four drones were destroyed over the Bryansk Region.", "RU"),
        ("Ukraine's air force said 12 drones were shot down over the Sumy region.", "UA"),
        ("Над Харківщиною збито 5 ворожих дронів, повідомили в ОВА.", "UA"),
        ("Міноборони Росії заявило про знищення 6 дронів над Курською областю.", "RU"),
        ("Belarusian air defence forces destroyed two drones over the Gomel region.", "other"),
        ("The Russian-installed governor said three drones were shot down over Melitopol.", "RU"),
    ],
)
def test_reporting_side(read: Reader, text: str, side: str) -> None:
    """Rule 11: the claimant decides, not the language."""
    assert read(text).reporting_side == side


@pytest.mark.parametrize(
    ("text", "weapon"),
    [
        ("Four drones were shot down over the Kursk Region.", "drone"),
        ("Two Kh-59 missiles were destroyed over the Dnipropetrovsk region.", "missile"),
        ("Над Белгородской областью сбиты две ракеты и три беспилотника.", "mixed"),
        ("Над Полтавщиною знищено 5 повітряних цілей.", "mixed"),
        ("Six HIMARS rockets were intercepted over the Belgorod Region.", "missile"),
    ],
)
def test_weapon(read: Reader, text: str, weapon: str) -> None:
    """Rule 13: drone, missile, or mixed (both, or untyped 'air targets')."""
    assert read(text).weapon == weapon


def test_by_weapon_in_mixed_row(read: Reader) -> None:
    """Several weapons over one region give by_weapon with the sum as count."""
    result = read("Air defences shot down three missiles and five drones over the Kursk Region.")
    row = result.interceptions[0]
    assert row.count == 8
    assert row.by_weapon == {"missile": 3, "drone": 5}


def test_launched_never_added(read: Reader) -> None:
    """'of the 60 launched' is the launched figure and not a count."""
    result = read(
        "Russia launched 60 drones overnight; air defence shot down 45 of them over "
        "the north and east of the country, Ukraine's air force said."
    )
    assert result.launched == 60
    assert result.claimed_total == 45
    assert result.interceptions == []


def test_models_are_not_counts(read: Reader) -> None:
    """Model numbers (Shahed-136, S-400, Kh-101) are names, not counts."""
    result = read("A Shahed-136 drone was shot down over the Sumy region by an S-300 unit.")
    assert {r.region: r.count for r in result.interceptions} == {"Sumy Oblast": 1}


def test_evidence_is_the_sentence(read: Reader) -> None:
    """Each row carries the sentence it comes from."""
    text = "It was a quiet evening. Three drones were shot down over the Tula Region."
    row = read(text).interceptions[0]
    assert row.evidence == "Three drones were shot down over the Tula Region."


def test_language_detection(read: Reader) -> None:
    """Language None is detected: і/ї/є/ґ -> uk, other Cyrillic -> ru, else en."""
    assert read("Над Сумщиною збито два дрони.").language == "uk"
    assert read("Над Курской областью сбиты два беспилотника.").language == "ru"
    assert read("Two drones were shot down over Kursk.").language == "en"


def test_empty_text(read: Reader) -> None:
    """An empty report gives an empty result with a warning, not an error."""
    result = read("")
    assert result.interceptions == [] and result.claimed_total is None
    assert "no_interceptions" in result.warnings


def test_mixed_sides_rows(read: Reader) -> None:
    """Claims from both sides: each row carries its own reporting side (rule 11)."""
    result = read(
        "Ukraine's air force said nine drones were shot down over the Chernihiv region, while "
        "Russia's Defence Ministry said six Ukrainian drones were destroyed over the Kursk Region."
    )
    sides = {r.region: r.reporting_side for r in result.interceptions}
    assert sides == {"Chernihiv Oblast": "UA", "Kursk Oblast": "RU"}
    assert result.reporting_side == "UA"
    assert "mixed_sides" in result.warnings


def test_conflicting_sources_keep_local(read: Reader) -> None:
    """A governor's figure and a smaller ministry figure: the local official's is kept."""
    result = read(
        "The governor of the Penza Region said six drones had been shot down over the region. "
        "The Defence Ministry, however, listed only four over the Penza Region."
    )
    assert {r.region: r.count for r in result.interceptions} == {"Penza Oblast": 6}


def test_repeated_claim_counted_once(read: Reader) -> None:
    """The same figure restated in a later quote is not added again."""
    result = read(
        "Four drones were destroyed over the Lipetsk Region, the governor said. 'Four drones "
        "were destroyed over the Lipetsk Region,' he repeated in a video address."
    )
    assert {r.region: r.count for r in result.interceptions} == {"Lipetsk Oblast": 4}


def test_sea_near_city_stays_city(read: Reader) -> None:
    """'Over the sea near Balaklava' from a Sevastopol official stays Sevastopol (rule 15)."""
    result = read("The governor of Sevastopol said two drones were shot down over the sea near Balaklava.")
    assert {r.region: r.count for r in result.interceptions} == {"Sevastopol": 2}


def test_total_only(read: Reader) -> None:
    """A total and no places: no rows, the total kept."""
    result = read("Russian air defences shot down 57 drones over the past day, the ministry said.")
    assert result.interceptions == []
    assert result.claimed_total == 57


def test_weekly_cumulative_not_added(read: Reader) -> None:
    """A week's or year's running statistic is not part of the night's count."""
    result = read(
        "Five drones were shot down over the Kursk Region. The governor said that over the past "
        "week 40 drones were shot down over the region."
    )
    assert {r.region: r.count for r in result.interceptions} == {"Kursk Oblast": 5}
