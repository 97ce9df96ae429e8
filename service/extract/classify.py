"""Report-level classification: reporting side (rule 11) and weapon (rule 13).

The side is who makes the claim. The first explicit claimant in the text decides (the
Russian ministry or Russian(-installed) officials, the Ukrainian Air Force or military
administrations, a third country's military); without one, weaker cues ("enemy drones",
"ворожі"), then the countries of the places named, then the language.
"""

from __future__ import annotations

import re

_STRONG: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "RU",
        re.compile(
            r"russian defen[cs]e ministry|russia's defen[cs]e ministry|russian air defen|минобороны|"
            r"міноборони росії|министерств\w* обороны росси|russian-installed|moscow-installed|"
            r"назначенн\w* москвой|так званого|окупанти заявили|оккупационн|russian military|"
            r"російські військові|росіяни заявили|russian authorities|black sea fleet|"
            r"черноморского флота|the defen[cs]e ministry|defen[cs]e ministry said|оперштаб|"
            r"mayor of moscow|moscow's mayor|мэр москвы|russian air defence"
        ),
    ),
    (
        "UA",
        re.compile(
            r"ukraine's air force|ukrainian air force|повітряні сили|повітряних сил|"
            r"повітрян\w+ командуван|воздушные силы всу|air force|\bова\b|\bмва\b|кмва|кгва|"
            r"military administration|військов\w+ адміністрац|военной администрации|air command|"
            r"сили оборони півдня|сил оборони півдня|southern defen[cs]e forces|commander-in-chief|"
            r"генштаб зсу|\bсбу\b|ukraine's military|головне управління розвідки"
        ),
    ),
    (
        "other",
        re.compile(
            r"\b(?:belarus\S*|polish|poland's|romania\S*|moldova\S*|белорусск\w*|білоруськ\w*|"
            r"польск\w*|польськ\w*|румынск\w*|румунськ\w*|молдавск\w*|молдовськ\w*)"
            r"(?:\s+\S+){0,3}?\s+(?:air defen\w*|forces|military|\w*\s?ministry|army|"
            r"operational command|security council|сил\w*|пво|ппо|министерств\w*|міністерств\w*|"
            r"военн\w*|військов\w*)|оперативне командування польщі|"
            r"оперативное командование польши|polish operational command"
        ),
    ),
)
# One pass finds the earliest claimant of any side (group name = side).
_FIRST_CLAIMANT = re.compile("|".join(f"(?P<{side}>{rx.pattern})" for side, rx in _STRONG))
_WEAK_UA = re.compile(r"ворож|противник|вражеск|\bвраг|enemy|russian drones|russia attacked")
_WEAK_RU = re.compile(r"ukrainian drones|украинских беспилотник|беспилотник\w* всу|киевск\w+ режим")


def reporting_side(norm: str, row_codes: list[str], place_codes: list[str], lang: str) -> str | None:
    """RU, UA or other for a whole report."""
    if any("-" not in c for c in row_codes):
        return "other"
    m = _FIRST_CLAIMANT.search(norm)
    if m and m.lastgroup:
        return m.lastgroup
    ua, ru = len(_WEAK_UA.findall(norm)), len(_WEAK_RU.findall(norm))
    if ua != ru:
        return "UA" if ua > ru else "RU"
    for codes in (row_codes, place_codes):
        ru_n = sum(1 for c in codes if c.startswith("RU-") or c in ("UA-43", "UA-40"))
        ua_n = sum(1 for c in codes if c.startswith("UA-") and c not in ("UA-43", "UA-40"))
        if ru_n != ua_n:
            return "RU" if ru_n > ua_n else "UA"
    return {"uk": "UA", "ru": "RU"}.get(lang)


def mixed_sides(norm: str, row_codes: list[str]) -> bool:
    """A text quoting both sides' claims about their own territory (rule 11, mixed_sides)."""
    has_ru = any(c.startswith("RU-") for c in row_codes)
    has_ua = any(c.startswith("UA-") and c not in ("UA-43", "UA-40") for c in row_codes)
    return has_ru and has_ua and bool(_STRONG[0][1].search(norm)) and bool(_STRONG[1][1].search(norm))


def weapon_of(kinds: list[str], context: list[str] | None = None) -> str | None:
    """drone, missile or mixed from the weapon types of counted figures.

    An untyped "air targets" figure is mixed unless the same sentences name the type.
    """
    typed = {k for k in kinds if k in ("drone", "missile")}
    if not typed and "target" in kinds and context:
        typed = {k for k in context if k in ("drone", "missile")}
        if not typed:
            return "mixed"
    if len(typed) == 2:
        return "mixed"
    if typed:
        return typed.pop()
    if "target" in kinds:
        return "mixed"
    return None
