"""Clock-time periods (rule 12): windows in Moscow or Kyiv time, with dates and DST.

Only clock times written in the text become timestamps. A time takes its date from the
text ("at 11:23 pm on November 11", "с 23:00 18 января", "in the night to 3 April") or from
the publication date; an evening start of an overnight window falls on the day before.
Moscow time is +03:00 all year; Kyiv time follows EU DST (last Sunday of March 03:00 to last
Sunday of October 04:00 local). GMT/UTC times are converted. Regexes here are linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache

from service.extract import lexicon as lx

_MONTH_ALT = "|".join(sorted((re.escape(m) for m in lx.MONTHS), key=len, reverse=True))
# The leading (?=\d) lets the regex engine skip to digits instead of trying every position.
_CLOCK = re.compile(
    r"(?=\d)(?<![\d.:,])(?:(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:\s?(?P<ap>[ap])\.?\s?m\b\.?)?"
    r"|(?P<h2>\d{1,2})\s?(?P<ap2>[ap])\.?\s?m\b\.?"
    r"|(?P<hm>[0-2]\d[0-5]\d)(?=\s*(?:-\s*[0-2]\d[0-5]\d\s*)?(?:gmt|utc)|\s+(?:and|to)\s+"
    r"[0-2]\d[0-5]\d\s*(?:gmt|utc)))(?!\d|:\d)"
)
_DATE_AFTER = re.compile(
    r"\s{0,3}(?:(?:moscow|kyiv|local)\s+time\s*|(?:по\s+)?мск\.?\s*"
    r"|по\s+(?:московскому|киевскому|местному)\s+времени\s*|за\s+(?:київським|місцевим)\s+часом\s*)?"
    r"(?:\([^()\n]{0,30}\)\s*)?(?:on\s+|of\s+)?"
    rf"(?:(?P<d1>\d{{1,2}})\s+(?P<m1>{_MONTH_ALT})\b|(?P<m2>{_MONTH_ALT})\s+(?P<d2>\d{{1,2}})\b)"
)
_NIGHT = re.compile(
    r"(?:ніч на|ночь на|night to|night into|overnight into|night of)\s+"
    rf"(?:(?P<d1>\d{{1,2}})\s+(?P<m1>{_MONTH_ALT})\b|(?P<m2>{_MONTH_ALT})\s+(?P<d2>\d{{1,2}})\b)"
)
_WD_ALT = "|".join(sorted((re.escape(w) for w in lx.WEEKDAYS), key=len, reverse=True))
_WEEKDAY_AFTER = re.compile(
    rf"\s{{0,3}}(?:(?:moscow|kyiv|local)\s+time\s*)?(?:on\s+|в\s+|у\s+)?(?P<wd>{_WD_ALT})\b"
)
_RANGE_GLUE = re.compile(r"\b(?:to|and|until|till|до|по)\b|[-—]")
_ASOF = re.compile(r"(?:as of|станом на|по состоянию на|as at)\s*$")
_SKIP = re.compile(
    r"тривог|тревог|siren|alert|blast|bang|explosion|вибух|взрыв|хлопк|posted|wrote|heard|"
    r"написал|написав|опубликова|опублікува"
)
_CONTEXT = re.compile(
    r"intercept|shot|destroy|down|attack|raid|launch|сбит|уничтож|перехват|перехвач|збит|знищ|атак|"
    r"пво|ппо|air defen|began|crossing|подавл"
)
_UTC = re.compile(r"\b(?:gmt|utc)\b")
# Every _CLOCK match has one of these in the same sentence (a cheap test that starts at a digit).
_HINT = re.compile(r"\d(?:[:.]\d\d|\s?[ap]\.?\s?m\b|\s?(?:gmt|utc)\b)")
_MSK = timezone(timedelta(hours=3), "MSK")
_OFFSETS = {2: timezone(timedelta(hours=2)), 3: timezone(timedelta(hours=3))}


@dataclass(slots=True)
class _Clock:
    pos: int
    end: int
    hour: int
    minute: int
    day: date | None
    utc: bool


@lru_cache(maxsize=256)
def _last_sunday(year: int, month: int) -> date:
    d = date(year, month, 31)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def kyiv_offset(day: date, hour: int) -> int:
    """Kyiv UTC offset in hours for a local wall-clock time."""
    start = _last_sunday(day.year, 3)
    end = _last_sunday(day.year, 10)
    after_start = day > start or (day == start and hour >= 3)
    before_end = day < end or (day == end and hour < 4)
    return 3 if after_start and before_end else 2


def _aware(day: date, hour: int, minute: int, zone: str) -> datetime:
    offset = 3 if zone == "msk" else kyiv_offset(day, hour)
    return datetime(day.year, day.month, day.day, hour % 24, minute, tzinfo=_OFFSETS[offset])


def _from_utc(day: date, hour: int, minute: int, zone: str) -> datetime:
    utc = datetime(day.year, day.month, day.day, hour % 24, minute, tzinfo=UTC)
    if zone == "msk":
        return utc.astimezone(_MSK)
    local = utc + timedelta(hours=2)
    offset = kyiv_offset(local.date(), local.hour)
    return utc.astimezone(_OFFSETS[offset])


def _date(m: re.Match[str], published: date) -> date | None:
    """The day a "January 1" names: in the year that puts it nearest the publication date
    (a report published on December 31 in UTC about "January 1" Moscow time is about the
    next year's)."""
    day = m.group("d1") or m.group("d2")
    month = m.group("m1") or m.group("m2")
    found: list[date] = []
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            found.append(date(year, lx.MONTHS[month], int(day)))
        except (ValueError, KeyError):
            continue
    return min(found, key=lambda d: abs((d - published).days), default=None)


def _weekday_date(published: date, weekday: int) -> date:
    return published - timedelta(days=(published.weekday() - weekday) % 7)


def _clocks(sentence: str, published: date) -> list[_Clock]:
    has_utc = ("gmt" in sentence or "utc" in sentence) and _UTC.search(sentence) is not None
    out: list[_Clock] = []
    for m in _CLOCK.finditer(sentence):
        if m.group("hm"):
            hour, minute, ampm = int(m.group("hm")[:2]), int(m.group("hm")[2:]), None
        elif m.group("h2"):
            hour, minute, ampm = int(m.group("h2")), 0, m.group("ap2")
        else:
            hour, minute, ampm = int(m.group("h")), int(m.group("m")), m.group("ap")
        if ampm == "p" and hour < 12:
            hour += 12
        elif ampm == "a" and hour == 12:
            hour = 0
        if hour > 24 or minute > 59:
            continue
        dm = _DATE_AFTER.match(sentence, m.end())
        day = _date(dm, published) if dm else None
        if day is None:
            wm = _WEEKDAY_AFTER.match(sentence, m.end())
            if wm:
                day = _weekday_date(published, lx.WEEKDAYS[wm.group("wd")])
        utc = bool(m.group("hm")) or (has_utc and _UTC.match(sentence[m.end() :].lstrip()) is not None)
        out.append(_Clock(m.start(), dm.end() if dm else m.end(), hour, minute, day, utc))
    return out


def find_period(
    sentences: list[str], published: date | None, zone: str
) -> tuple[datetime | None, datetime | None]:
    """(start, end) of the reported window from the clock times in the given sentences."""
    if published is None:
        return None, None
    starts: list[datetime] = []
    ends: list[datetime] = []
    night: date | None = None
    for sent in sentences:
        nm = _NIGHT.search(sent) if ("night" in sent or "ніч на" in sent or "ночь на" in sent) else None
        if nm:
            night = _date(nm, published) or night
    base = night or published
    for sent in sentences:
        if not _HINT.search(sent) or not _CONTEXT.search(sent):
            continue
        clocks = [
            c for c in _clocks(sent, published) if not _SKIP.search(sent[max(0, c.pos - 50) : c.pos])
        ]
        k = 0
        while k < len(clocks):
            c1 = clocks[k]
            c2 = clocks[k + 1] if k + 1 < len(clocks) else None
            if _ASOF.search(sent[max(0, c1.pos - 25) : c1.pos]):
                ends.append(_stamp(c1, c1.day or base, zone))
                k += 1
                continue
            if c2 is not None and _is_range(sent[c1.end : c2.pos]) and c1.utc == c2.utc:
                d2 = c2.day or (c1.day + timedelta(days=int(c2.hour < c1.hour)) if c1.day else base)
                d1 = c1.day or (d2 if c1.hour <= c2.hour else d2 - timedelta(days=1))
                starts.append(_stamp(c1, d1, zone))
                ends.append(_stamp(c2, d2, zone))
                k += 2
                continue
            d = c1.day or (base - timedelta(days=1) if night and c1.hour >= 12 else base)
            starts.append(_stamp(c1, d, zone))
            k += 1
    start = min(starts) if starts else None
    end = max(ends) if ends else None
    if start is not None and end is not None and end <= start:
        end = None
    if start is None:
        end = None
    return start, end


def _is_range(between: str) -> bool:
    return len(between) <= 60 and bool(_RANGE_GLUE.search(between))


def _stamp(c: _Clock, day: date, zone: str) -> datetime:
    if c.utc:
        return _from_utc(day, c.hour, c.minute, zone)
    if c.hour == 24:
        return _aware(day + timedelta(days=1), 0, c.minute, zone)
    return _aware(day, c.hour, c.minute, zone)


def assumed_night(published: date, zone: str) -> tuple[datetime, datetime]:
    """The usual overnight window (20:00 the day before to 08:00) for an 'overnight' report."""
    return (
        _aware(published - timedelta(days=1), 20, 0, zone),
        _aware(published, 8, 0, zone),
    )
