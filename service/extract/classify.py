"""Report-level classification: reporting side (rule 11) and weapon (rule 13).

The side is who makes the claim. The first explicit claimant in the text decides (the
Russian ministry or Russian(-installed) officials, the Ukrainian Air Force or military
administrations, a third country's military); without one, weaker cues ("enemy drones",
"ворожі"), then the countries of the places named, then the language.
"""

from __future__ import annotations

import re

import ahocorasick

# Claimant phrases (normalised text), by side. Literal phrases in one Aho-Corasick pass: the
# earliest one names the claimant. A leading space marks a phrase that must start a word.
_CLAIMANTS: dict[str, str] = {
    "RU": (
        "russian defence ministry|russian defense ministry|russia's defence ministry|"
        "russia's defense ministry|russian air defen|минобороны|міноборони росії|"
        "министерство обороны росси|министерства обороны росси|russian-installed|"
        "moscow-installed|назначенный москвой|назначенного москвой|назначенным москвой|"
        "так званого|окупанти заявили|оккупационн|russian military|російські військові|"
        "росіяни заявили|russian authorities|black sea fleet|черноморского флота|"
        "the defence ministry|the defense ministry|defence ministry said|defense ministry said|"
        "оперштаб|mayor of moscow|moscow's mayor|мэр москвы|мэра москвы|глава республики|"
        "russia's ministry of defen|russian ministry of defen"
    ),
    "UA": (
        "ukraine's air force|ukrainian air force|повітряні сили|повітряних сил|"
        "повітряне командуван|повітряного командуван|повітряному командуван|"
        "воздушные силы всу|air force| ова | ова,| ова.| мва | кмва| кгва|"
        "military administration|військова адміністрац|військової адміністрац|"
        "військовій адміністрац|военной администрации|военная администрация|air command|"
        "сили оборони півдня|сил оборони півдня|southern defence forces|"
        "southern defense forces|commander-in-chief|генштаб зсу| сбу |ukraine's military|"
        "головне управління розвідки"
    ),
}
_OTHER = re.compile(
    r"\b(?:belarus\S*|polish|poland's|romania\S*|moldova\S*|белорусск\w*|білоруськ\w*|"
    r"польск\w*|польськ\w*|румынск\w*|румунськ\w*|молдавск\w*|молдовськ\w*)"
    r"(?:\s+\S+){0,3}?\s+(?:air defen\w*|forces|military|\w*\s?ministry|army|"
    r"operational command|security council|сил\w*|пво|ппо|министерств\w*|міністерств\w*|"
    r"военн\w*|військов\w*)|оперативне командування польщі|"
    r"оперативное командование польши|polish operational command"
)
THIRD_COUNTRY_HINTS = (
    "belarus",
    "белорус",
    "білорус",
    "polish",
    "poland",
    "польс",
    "польщ",
    "romania",
    "румын",
    "румун",
    "moldova",
    "молдав",
    "молдов",
)


def _hint_automaton() -> ahocorasick.Automaton:
    auto = ahocorasick.Automaton()
    for hint in THIRD_COUNTRY_HINTS:
        auto.add_word(hint, hint)
    auto.make_automaton()
    return auto


_HINT_AUTO = _hint_automaton()


def _claimant_automaton() -> ahocorasick.Automaton:
    auto = ahocorasick.Automaton()
    for side, phrases in _CLAIMANTS.items():
        for phrase in phrases.split("|"):
            auto.add_word(phrase, (len(phrase), side))
    auto.make_automaton()
    return auto


_AUTO = _claimant_automaton()
_WEAK_UA = ("ворож", "противник", "вражеск", "враг", "enemy", "russian drones", "russia attacked")
_WEAK_RU = re.compile(r"украинских беспилотник|беспилотник\w* всу|киевск\w+ режим")


def _weak_automaton() -> ahocorasick.Automaton:
    auto = ahocorasick.Automaton()
    for phrase in _WEAK_UA:
        auto.add_word(phrase, (len(phrase), "UA"))
    for phrase in ("ukrainian drones", "украинских беспилотник", " всу", "киевск"):
        auto.add_word(phrase, (len(phrase), "RU"))
    auto.make_automaton()
    return auto


_WEAK_AUTO = _weak_automaton()


def _weak_counts(norm: str) -> tuple[int, int]:
    """Weak cues per side: 'enemy drones' (UA), 'Ukrainian drones', 'киевский режим' (RU)."""
    ua = ru = 0
    ru_regex = False
    for end, (length, side) in _WEAK_AUTO.iter(norm):
        start = end - length + 1
        if side == "UA":
            if length == 4 and start > 0 and (norm[start - 1].isalnum() or norm[start - 1] == "_"):
                continue  # "\bвраг"
            ua += 1
        elif length == 16 and norm[start] == "u":
            ru += 1
        else:
            ru_regex = True
    if ru_regex:
        ru += len(_WEAK_RU.findall(norm))
    return ua, ru


def first_claimant(norm: str, third: bool | None = None) -> str | None:
    """RU, UA or other: the side of the earliest explicit claimant phrase, if any.

    ``third`` says whether a third-country hint occurs, when the caller already knows.
    """
    best: tuple[int, str] | None = None
    for end, (length, side) in _AUTO.iter(f" {norm} "):
        best = (end - length, side)
        break
    if third is None:
        third = next(_HINT_AUTO.iter(norm), None) is not None
    if third:
        m = _OTHER.search(norm)
        if m and (best is None or m.start() < best[0]):
            return "other"
    return best[1] if best else None


def reporting_side(
    norm: str, row_codes: list[str], place_codes: list[str], lang: str, third: bool | None = None
) -> str | None:
    """RU, UA or other for a whole report (``third``: see :func:`first_claimant`)."""
    if any("-" not in c for c in row_codes):
        return "other"
    side = first_claimant(norm, third)
    if side is not None:
        return side
    ua, ru = _weak_counts(norm)
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
    if not (has_ru and has_ua):
        return False
    sides = {side for _, (_, side) in _AUTO.iter(f" {norm} ")}
    return {"RU", "UA"} <= sides


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
