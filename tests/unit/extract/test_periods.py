"""Clock-time periods (rule 12): Moscow and Kyiv time, dates, DST, GMT, single times."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from service.extract.periods import kyiv_offset
from service.models import ExtractionResult

Reader = Callable[..., ExtractionResult]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="minutes") if value else None


CASES: list[tuple[str, str, str, dt.date, str | None, str | None]] = [
    (
        "msk_window_ru",
        "ru",
        "С 14:00 до 17:00 мск над Курской областью уничтожены три беспилотника.",
        dt.date(2025, 4, 2),
        "2025-04-02T14:00+03:00",
        "2025-04-02T17:00+03:00",
    ),
    (
        "msk_window_en_pm",
        "en",
        "Between 2 p.m. and 5 p.m. Moscow time, three drones were destroyed over the Kursk Region.",
        dt.date(2025, 4, 2),
        "2025-04-02T14:00+03:00",
        "2025-04-02T17:00+03:00",
    ),
    (
        "cross_midnight_dated",
        "en",
        "From 10:50 pm on May 6 to 4:30 am on May 7, air defences intercepted 9 drones over "
        "the Bryansk Region.",
        dt.date(2025, 5, 7),
        "2025-05-06T22:50+03:00",
        "2025-05-07T04:30+03:00",
    ),
    (
        "cross_midnight_undated_kyiv_winter",
        "uk",
        "З 21:00 до 05:00 над Сумщиною збито 7 ворожих дронів, повідомили Повітряні сили.",
        dt.date(2025, 1, 20),
        "2025-01-19T21:00+02:00",
        "2025-01-20T05:00+02:00",
    ),
    (
        "kyiv_summer",
        "uk",
        "З 22:00 до 04:00 над Одещиною збито 5 дронів, повідомила ОВА.",
        dt.date(2025, 7, 20),
        "2025-07-19T22:00+03:00",
        "2025-07-20T04:00+03:00",
    ),
    (
        "dst_spring_boundary",
        "uk",
        "У ніч на 30 березня (з 19:00 29 березня) ворог атакував 40 дронами. Станом на 08:00 "
        "збито 30 БпЛА, повідомили Повітряні сили.",
        dt.date(2025, 3, 30),
        "2025-03-29T19:00+02:00",
        "2025-03-30T08:00+03:00",
    ),
    (
        "gmt_converted",
        "en",
        "From 1200 to 1500 GMT, four drones were destroyed over the Belgorod Region, the "
        "Defence Ministry said.",
        dt.date(2025, 6, 1),
        "2025-06-01T15:00+03:00",
        "2025-06-01T18:00+03:00",
    ),
    (
        "single_time",
        "en",
        "At about 4:40 p.m. Moscow time, a drone was destroyed over the Oryol Region, the "
        "Defence Ministry said.",
        dt.date(2025, 6, 1),
        "2025-06-01T16:40+03:00",
        None,
    ),
    (
        "dot_separated_ru",
        "ru",
        "С 9.00 до 12.00 мск над Белгородской областью сбиты шесть беспилотников.",
        dt.date(2025, 6, 1),
        "2025-06-01T09:00+03:00",
        "2025-06-01T12:00+03:00",
    ),
    (
        "new_year_published_the_day_before_in_utc",
        "en",
        "From 00:00 to 01:00 Moscow time on January 1, air defences shot down four drones over the Oryol "
        "Region.",
        dt.date(2026, 12, 31),
        "2027-01-01T00:00+03:00",
        "2027-01-01T01:00+03:00",
    ),
    (
        "last_night_of_the_year_published_on_new_years_day",
        "ru",
        "В период с 22:00 31 декабря до 02:00 1 января по московскому времени над Курской областью "
        "сбиты три беспилотника.",
        dt.date(2027, 1, 1),
        "2026-12-31T22:00+03:00",
        "2027-01-01T02:00+03:00",
    ),
    (
        "ru_date_after_the_zone",
        "ru",
        "С 22:00 до 23:30 мск 30 декабря над Курской областью сбиты три беспилотника.",
        dt.date(2026, 12, 31),
        "2026-12-30T22:00+03:00",
        "2026-12-30T23:30+03:00",
    ),
    (
        "uk_date_after_the_zone",
        "uk",
        "З 20:00 до 23:00 за київським часом 30 грудня над Сумщиною збито два дрони.",
        dt.date(2026, 12, 31),
        "2026-12-30T20:00+02:00",
        "2026-12-30T23:00+02:00",
    ),
    (
        "alert_time_ignored",
        "uk",
        "Тривогу оголосили о 23:10. Над Полтавщиною збито два дрони.",
        dt.date(2025, 6, 1),
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("name", "lang", "text", "published", "start", "end"), CASES, ids=[c[0] for c in CASES]
)
def test_period(
    read: Reader,
    name: str,
    lang: str,
    text: str,
    published: dt.date,
    start: str | None,
    end: str | None,
) -> None:
    """Clock times become the exact window; other times are ignored."""
    result = read(text, published=published, language=lang)
    if result.period_assumed:
        assert start is None, name
        return
    assert (_iso(result.period_start), _iso(result.period_end)) == (start, end), name


def test_overnight_is_assumed(read: Reader) -> None:
    """'Overnight' without clock times gives an assumed night window with a warning."""
    result = read(
        "Overnight, air defences shot down five drones over the Tver Region.", published=dt.date(2025, 6, 1)
    )
    assert result.period_assumed is True
    assert "assumed_period" in result.warnings
    assert result.period_start is not None and result.period_end is not None
    assert result.period_start < result.period_end


def test_no_published_no_timestamps(read: Reader) -> None:
    """Without a publication date the year is unknown: no timestamps."""
    result = read("С 14:00 до 17:00 мск над Курской областью уничтожены три беспилотника.", published=None)
    assert result.period_start is None and result.period_end is None


@pytest.mark.parametrize(
    ("day", "hour", "offset"),
    [
        (dt.date(2025, 3, 30), 2, 2),
        (dt.date(2025, 3, 30), 3, 3),
        (dt.date(2025, 10, 26), 3, 3),
        (dt.date(2025, 10, 26), 4, 2),
        (dt.date(2025, 1, 10), 12, 2),
        (dt.date(2025, 7, 10), 12, 3),
    ],
)
def test_kyiv_offset(day: dt.date, hour: int, offset: int) -> None:
    """Kyiv DST switches on the last Sundays of March (03:00) and October (04:00)."""
    assert kyiv_offset(day, hour) == offset
