"""Counts in text: digits, number words in en/ru/uk case forms, articles and vague quantities.

A :class:`Num` is a candidate count at a token position with its modifiers (approximate,
lower bound, distributive "each"/"по", increment "another"/"ещё", running total "уже",
weapon noun). Numbers that are dates, clock times, years, house numbers, loss-table
figures, casualties or distances are dropped here, before any pairing with places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from service.extract import lexicon as lx
from service.extract.text import Token

_MAX_COUNT = 10_000
_STREET_PREFIXES = ("улиц", "вулиц", "street", "road", "avenue", "проспект", "просп", "шосс")
_STREET_EXACT = frozenset({"ул", "вул", "пр", "st", "str"})
_HOUSE_WORDS = frozenset({"№", "no", "house", "дом", "д", "будинок", "будинку", "дома", "#"})
_THEM = frozenset({"them", "них", "those", "these"})
_ALREADY = frozenset({"already", "уже", "вже"})
_ALL_WORDS = frozenset({"all", "все", "всех", "усі", "всі"})
_EN_SINGULAR = frozenset({"drone", "uav", "missile", "rocket", "shahed"})
_NOT_AFTER_ARTICLE = frozenset(
    lx.words(
        "attack attacks strike strikes alert threat warfare panic system systems launcher launchers "
        "battery unit units crew factory plant production fragment fragments debris wreckage part parts"
    )
)
_AND = frozenset({"and", "и", "і", "й", "та"})
_TIME_AFTER = frozenset({"a", "p", "am", "pm", "gmt", "utc", "мск", "msk", "h", "год", "ч"})


@dataclass(slots=True)
class Num:
    """One candidate count; ``value`` None means a vague or 'all' quantity."""

    tok: int
    end: int
    value: int | None
    approx: bool = False
    lower: bool = False
    each: bool = False
    increment: bool = False
    running: bool = False
    vague_all: bool = False
    all_of: bool = False  # "all 14 drones": every one of a stated number
    weapon: str | None = None
    launched: bool = False
    of_them: bool = False
    drop: bool = False
    models: list[str] = field(default_factory=list)


@lru_cache(maxsize=65536)
def _weapon_of(word: str) -> str | None:
    for prefix, kind in lx.WEAPON_PREFIXES:
        if word.startswith(prefix):
            return kind
    return None


def weapon_of(word: str) -> str | None:
    """Weapon type of a noun token (drone/missile/target/bomb/boat/aircraft/other)."""
    return _weapon_of(word.strip('"'))


@lru_cache(maxsize=65536)
def _is_verb(word: str) -> bool:
    return word.startswith(lx.INTERCEPT_PREFIXES)


@lru_cache(maxsize=65536)
def _non_count(word: str) -> bool:
    return word.startswith(lx.NON_COUNT_PREFIXES)


def _word_value(toks: list[Token], i: int) -> tuple[int, int] | None:
    """Value of a number word at i (with compounds like 'twenty-one', 'двадцать два')."""
    w = toks[i].text
    if "-" in w and toks[i].kind == "word":
        parts = w.split("-")
        if len(parts) == 2 and parts[0] in lx.NUMBER_WORDS and parts[1] in lx.NUMBER_WORDS:
            a, b = lx.NUMBER_WORDS[parts[0]], lx.NUMBER_WORDS[parts[1]]
            if a in lx.TENS and b < 10:
                return a + b, i + 1
        return None
    if w not in lx.NUMBER_WORDS:
        return None
    value = lx.NUMBER_WORDS[w]
    end = i + 1
    if w not in lx.PLAIN_NUMERALS:
        return value, end
    n = len(toks)
    if value < 10 and end < n and toks[end].text == "hundred":
        value, end = value * 100, end + 1  # "two hundred"
    if value >= 100 and end < n:
        j = end + 1 if toks[end].text == "and" else end
        rest = _compound(toks, j, 100)
        if rest is not None:
            value, end = value + rest[0], rest[1]
        return value, end
    rest = _compound(toks, end, 10) if value in lx.TENS else None
    if rest is not None:
        value, end = value + rest[0], rest[1]
    return value, end


def _compound(toks: list[Token], j: int, below: int) -> tuple[int, int] | None:
    """The rest of a compound numeral at j: tens and units below 100, or units below 10."""
    if j >= len(toks) or toks[j].text not in lx.PLAIN_NUMERALS:
        return None
    value = lx.NUMBER_WORDS[toks[j].text]
    if value >= below:
        return None
    if value in lx.TENS:
        units = _compound(toks, j + 1, 10)
        if units is not None:
            return value + units[0], units[1]
    return value, j + 1


def _digit_value(tok: Token) -> int | None:
    digits = tok.text.replace(" ", "").replace(",", "")
    return int(digits) if digits.isdigit() and len(digits) <= 6 else None


def read_numbers(toks: list[Token], lo: int, hi: int) -> list[Num]:
    """Candidate counts among tokens[lo:hi] (one sentence), in order."""
    out: list[Num] = []
    utc: bool | None = None
    cands = _CANDIDATES
    skip_to = lo
    i = lo - 1
    for tok in toks[lo:hi]:
        i += 1
        if i < skip_to:
            continue  # inside the number read before ("twenty one")
        kind = tok.kind
        if kind == "word":
            w = tok.text
            if w not in cands and "-" not in w:
                continue
            num = _read_word_number(toks, i, lo, hi)
            if num is None:
                continue
        elif kind == "num":
            value = _digit_value(tok)
            if value is None:
                continue
            num = Num(i, i + 1, value)
            clockish = len(tok.text) == 4 and value % 100 < 60 and value < 2400
            if clockish and utc is None:
                utc = any(toks[k].text in ("gmt", "utc") for k in range(lo, hi))
            if _is_non_count_digit(toks, i, lo, hi, value) or (utc and clockish):
                num.drop = True
        else:
            continue
        _look_left(toks, lo, hi, num)
        _look_right(toks, hi, num)
        if num.value is not None and num.value > _MAX_COUNT:
            num.drop = True
        out.append(num)
        skip_to = num.end
    return out


_DIGIT_CASE = re.compile(r"(\d{1,4})-(?:х|ти|ми|ми|и|ух|ех|ох|ма|ом|ю|ть)")


def _cardinal(toks: list[Token], i: int, lo: int, hi: int) -> Num | None:
    """A number word, with 'every one' (all) and 'one of the most ...' (no count)."""
    m = _DIGIT_CASE.fullmatch(toks[i].text)
    if m:  # ru/uk digits with a case ending: "2-х", "10-ти", "5-ма"
        return Num(i, i + 1, int(m.group(1)))
    wv = _word_value(toks, i)
    if wv is None:
        return None
    prev = toks[i - 1].text if i > lo else ""
    nxt = toks[i + 1].text if i + 1 < hi else ""
    nxt2 = toks[i + 2].text if i + 2 < hi else ""
    if toks[i].text == "one" and prev in ("every", "each"):
        return Num(i, i + 1, None, vague_all=True)
    if (toks[i].text == "one" and prev == "no") or (
        wv[0] == 1 and nxt == "of" and nxt2 not in ("them", "those", "these")
    ):
        return Num(i, i + 1, None, drop=True)  # "one of the most intense nights"
    return Num(i, wv[1], wv[0])


def _article(toks: list[Token], i: int, lo: int, hi: int) -> Num | None:
    """'a drone', 'an aircraft-type Ukrainian drone' = 1 (not 'a drone attack')."""
    if toks[i].text not in ("a", "an"):
        return None
    for j in range(i + 1, min(i + 5, hi)):  # "a Russian Kh-101 cruise missile"
        t = toks[j].text.strip('"')
        if t in lx.SINGULAR_WEAPONS:
            after = toks[j + 1].text if j + 1 < hi else ""
            return None if after in _NOT_AFTER_ARTICLE else Num(i, i + 1, 1)
        if toks[j].kind != "word" or t in ("of", "and"):
            break
    return None


def _another(toks: list[Token], i: int, lo: int, hi: int) -> Num | None:
    """'another (drone)' = one more, unless 'another five' or 'another night'."""
    if toks[i].text != "another":
        return None
    nxt = toks[i + 1].text if i + 1 < hi else ""
    if nxt in lx.NUMBER_WORDS or nxt in ("time", "day", "night", "attack", "long", "wave"):
        return None
    if i + 1 < hi and toks[i + 1].kind == "num":
        return None
    return Num(i, i + 1, 1, increment=True)


def _ordinal(toks: list[Token], i: int, lo: int, hi: int) -> Num | None:
    """'already the sixth', 'це вже восьмий': a running count."""
    w = toks[i].text
    prev = toks[i - 1].text if i > lo else ""
    prev2 = toks[i - 2].text if i > lo + 1 else ""
    if w not in lx.ORDINALS:
        return None
    if prev in _ALREADY or (prev == "the" and prev2 in _ALREADY):
        return Num(i, i + 1, lx.ORDINALS[w], running=True)
    return None


def _vague(toks: list[Token], i: int, lo: int, hi: int) -> Num | None:
    """'several', 'a number of', 'все' -> a claim without a number (null count)."""
    w = toks[i].text
    nxt = toks[i + 1].text if i + 1 < hi else ""
    if w == "number" and i > lo and toks[i - 1].text == "a" and nxt == "of":
        return Num(i, i + 2, None)
    if w not in lx.VAGUE_WORDS:
        return None
    if nxt in lx.NUMBER_WORDS or (i + 1 < hi and toks[i + 1].kind == "num"):
        return None  # "усі три", "all 12": the number itself counts
    return Num(i, i + 1, None, vague_all=w in _ALL_WORDS)


def _bare_singular(toks: list[Token], i: int, lo: int, hi: int) -> Num | None:
    """ru/uk singular noun without a numeral: 'сбит беспилотник', 'збито ворожий БпЛА' = 1."""
    w = toks[i].text.strip('"')
    prev = toks[i - 1].text if i > lo else ""
    counted_before = any(
        toks[j].kind == "num" or toks[j].text in lx.NUMBER_WORDS for j in range(max(lo, i - 3), i)
    )
    if counted_before or any(toks[j].text in lx.ORDINALS for j in range(max(lo, i - 6), i)):
        return None  # "п'ятий збитий над містом дрон": the noun of an ordinal, not one more
    if w in lx.SINGULAR_WEAPONS and w not in _EN_SINGULAR:
        return Num(i, i + 1, 1, weapon=_weapon_of(w))
    if w == "бпла" and prev.endswith(("ий", "ый", "ой")):
        return Num(i, i + 1, 1, weapon="drone")
    return None


_WORD_READERS = (_cardinal, _article, _another, _ordinal, _vague, _bare_singular)


_CANDIDATES = frozenset(
    set(lx.NUMBER_WORDS)
    | set(lx.ORDINALS)
    | set(lx.VAGUE_WORDS)
    | set(lx.SINGULAR_WEAPONS)
    | {"a", "an", "another", "number", "бпла"}
)


def _read_word_number(toks: list[Token], i: int, lo: int, hi: int) -> Num | None:
    w = toks[i].text
    if w not in _CANDIDATES and "-" not in w and w.strip('"') not in _CANDIDATES:
        return None
    for reader in _WORD_READERS:
        num = reader(toks, i, lo, hi)
        if num is not None:
            return num
    return None


def _is_non_count_digit(toks: list[Token], i: int, lo: int, hi: int, value: int) -> bool:
    """Dates, clock times, percentages, years, loss-table increments, house numbers."""
    nxt = toks[i + 1].text if i + 1 < hi else ""
    nxt2 = toks[i + 2].text if i + 2 < hi else ""
    prev = toks[i - 1].text if i > lo else ""
    dated = nxt in lx.MONTHS or prev in lx.MONTHS or nxt in _TIME_AFTER or nxt == "%"
    table = (nxt == "(" and nxt2.startswith("+")) or prev in ("+",)
    span = nxt in ("-", "—") and i + 2 < hi and toks[i + 2].kind == "num" and value >= 100
    year = 1900 <= value <= 2100 and len(toks[i].text) == 4
    street = any(
        toks[j].text.startswith(_STREET_PREFIXES) or toks[j].text in _STREET_EXACT
        for j in range(max(lo, i - 4), i)
    )
    return dated or table or span or year or prev in _HOUSE_WORDS or street


def _look_left(toks: list[Token], lo: int, hi: int, num: Num) -> None:
    """Approximation, lower bound, 'по', increment, running and launched markers."""
    i = num.tok
    p1 = toks[i - 1].text if i - 1 >= lo else ""
    p2 = toks[i - 2].text if i - 2 >= lo else ""
    if p1 in lx.APPROX_WORDS or (p1 == "to" and p2 == "up"):
        num.approx = True
    if p1 in lx.LOWER_WORDS or (p2, p1) in lx.LOWER_PAIRS or (p1 == "over" and num.value):
        num.approx = num.lower = True
    if p2 in lx.LOWER_WORDS and p1 in lx.APPROX_WORDS:
        num.lower = True
    if p1 == "по":
        num.each = True
    if p1 in _ALL_WORDS and num.value is not None:
        num.all_of = True
    if p1 in lx.INCREMENT_WORDS or p2 in ("ещё", "еще", "ще") or p1 == "one":
        num.increment = True
    if p1 in ("уже", "вже", "already") or (p1 == "to" and _has_before(toks, lo, i, ("bringing", "brings"))):
        num.running = True
    if (
        (p1 in ("of", "из", "із", "з") and (p2.isdigit() or p2 in lx.NUMBER_WORDS or p2 == "out"))
        or (p1 == "the" and p2 == "of")
        or (
            p1 in ("из", "із")
            and num.end < hi
            and toks[num.end].text.startswith(("ракет", "дрон", "беспилот", "безпілот", "бпла", "шахед"))
        )
    ):
        num.launched = True


_STOP_RIGHT = frozenset(
    lx.words(
        "over above near in within on off across around at from to into над в во у на под під "
        "поблизу біля около возле с з із из до по за were was had have has are is been be fell that "
        "which who которые які что що"
    )
)


def _look_right(toks: list[Token], hi: int, num: Num) -> None:
    """'three each', 'two more', 'four of them', and the weapon noun after a count."""
    j = num.end
    while j < hi and j - num.end < 5:
        t = toks[j].text.strip('"')
        if t in lx.EACH_WORDS:
            num.each = True
        if t in ("of", "из", "з", "із") and j + 1 < hi and toks[j + 1].text in _THEM:
            num.of_them = True
            return
        if t in _STOP_RIGHT or _is_verb(t):
            return
        if t in _AND:
            return  # "Курской области — 4 и Воронежской области": the next list item
        if t in ("of", "из", "із", "з") and j + 1 < hi and toks[j + 1].kind == "num":
            j += 2  # "13 of 16 drones": the noun after the launched figure
            continue
        if t == "more" or t in ("ещё", "еще", "ще"):
            num.increment = True
        elif toks[j].kind in ("punct", "nl", "num", "time"):
            if toks[j].text != '"':
                return
        elif t not in lx.EACH_WORDS and _noun(toks, j, t, num):
            return
        j += 1


def _noun(toks: list[Token], j: int, t: str, num: Num) -> bool:
    """Classify the word after a count; True when the count's noun has been found."""
    kind = _weapon_of(t)
    if kind is not None:
        if num.weapon is None:
            num.weapon = kind
        if "-" in t or (kind == "missile" and t[:1] in "kхs"):
            num.models.append(t)
        if kind == "drone" and j > num.end and toks[j - 1].text in lx.SEA_DRONE_WORDS:
            num.weapon = "boat"
        elif kind == "drone" and j + 1 < len(toks) and _weapon_of(toks[j + 1].text) == "boat":
            num.weapon = "boat"  # "беспилотных катеров", "unmanned boats": uncrewed boats
        return True
    if _non_count(t) and num.weapon is None:
        num.drop = True
        return True
    return t in lx.NUMBER_WORDS


def _has_before(toks: list[Token], lo: int, i: int, words: tuple[str, ...]) -> bool:
    return any(toks[j].text in words for j in range(max(lo, i - 12), i))
