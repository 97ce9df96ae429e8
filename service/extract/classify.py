"""Report-level classification: reporting side (rule 11) and weapon (rule 13).

The side is who makes the claim: cue phrases for the Russian ministry and Russian(-installed)
officials, the Ukrainian Air Force and military administrations, and third countries; when
cues are silent, the countries of the counted regions decide.
"""

from __future__ import annotations

import re

_RU = re.compile(
    r"russian defen[cs]e ministry|russia's defen[cs]e ministry|russian air defen|минобороны|"
    r"міноборони росії|министерств[оа] обороны росси|russian-installed|moscow-installed|"
    r"назначенн\w* москвой|так званого|окупант|оккупац|russian military|російські військові|"
    r"росіяни заявили|russian authorities|black sea fleet|черноморского флота|"
    r"the defen[cs]e ministry|defen[cs]e ministry said|оперштаб|the ministry"
)
_UA = re.compile(
    r"ukraine's air force|ukrainian air force|повітряні сили|повітряних сил|повітрян\w+ командуван|"
    r"воздушные силы всу|air force|\bова\b|\bмва\b|кмва|кгва|military administration|"
    r"військов\w+ адміністрац|военной администрации|air command|сили оборони півдня|"
    r"сил оборони півдня|southern defen[cs]e forces|commander-in-chief|генштаб зсу|"
    r"ukrainian officials|ukraine's"
)
_OTHER = re.compile(
    r"belarus|белорус|білорус|poland|polish|польш|польщ|romania|румын|румун|moldova|молдов"
)


def reporting_side(norm: str, row_codes: list[str]) -> str | None:
    """RU, UA or other for a whole report."""
    ru = len(_RU.findall(norm))
    ua = len(_UA.findall(norm))
    countries = [c for c in row_codes if "-" not in c]
    if countries or (_OTHER.search(norm) and not row_codes and ru + ua == 0):
        return "other"
    if ru or ua:
        first_ru = _RU.search(norm)
        first_ua = _UA.search(norm)
        if ru and ua and first_ru and first_ua:
            return "RU" if first_ru.start() < first_ua.start() else "UA"
        return "RU" if ru > ua else "UA"
    ru_rows = sum(1 for c in row_codes if c.startswith("RU-"))
    ua_rows = sum(1 for c in row_codes if c.startswith("UA-") and c not in ("UA-43", "UA-40"))
    if ru_rows or ua_rows:
        return "RU" if ru_rows >= ua_rows else "UA"
    if any(c in ("UA-43", "UA-40") for c in row_codes):
        return "RU"
    return None


def mixed_sides(norm: str, row_codes: list[str]) -> bool:
    """A text quoting both sides' claims about their own territory (rule 11, mixed_sides)."""
    has_ru = any(c.startswith("RU-") for c in row_codes)
    has_ua = any(c.startswith("UA-") and c not in ("UA-43", "UA-40") for c in row_codes)
    return has_ru and has_ua and bool(_RU.search(norm)) and bool(_UA.search(norm))


def weapon_of(kinds: list[str]) -> str | None:
    """drone, missile or mixed from the weapon types of counted figures."""
    typed = {k for k in kinds if k in ("drone", "missile")}
    if len(typed) == 2:
        return "mixed"
    if typed:
        return typed.pop()
    if "target" in kinds:
        return "mixed"
    return None
