"""Text plumbing: normalisation, language detection, tokens and sentences.

Everything downstream works on a *normalised* copy of the report that has exactly the same
length as the original (one character in, one character out), so every offset found in the
normalised text is also an offset into the original and evidence spans can be cut from it.
All regular expressions here are linear: no nested quantifiers, no backtracking blow-ups.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_APOSTROPHES = "’‘ʼ`´ʹ′"
_DASHES = "–—−‒―"
_QUOTES = "«»“”„‟"


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for ch in _APOSTROPHES:
        table[ord(ch)] = "'"
    for ch in _DASHES:
        table[ord(ch)] = "—"
    for ch in _QUOTES:
        table[ord(ch)] = '"'
    table[ord("ё")] = "е"
    table[ord("Ё")] = "е"
    table[0xA0] = " "
    table[0x202F] = " "
    table[0x2009] = " "
    table[ord("\t")] = " "
    table[ord("\r")] = " "
    table[0x2011] = "-"
    table[0x2010] = "-"
    return table


_TABLE = _build_table()
# ``str.translate`` with a dict table looks up every character (slow on Cyrillic text); one C
# regex scan finds the few characters that change and only those go through Python.
_SPECIAL = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_TABLE)) + "]")
_MAP = {chr(c): v for c, v in _TABLE.items()}


def _swap(m: re.Match[str]) -> str:
    return _MAP[m.group()]


def normalise(text: str) -> str:
    """Lower-case and unify apostrophes/dashes/quotes/ё while keeping the length unchanged."""
    out = _SPECIAL.sub(_swap, text) if len(text) < 50_000 else text.translate(_TABLE)
    low = out.lower()
    if len(low) == len(out):
        return low
    # Rare characters whose lower case is longer (e.g. 'İ'): lower them one by one.
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in out)


_UK_LETTERS = frozenset("іїєґ")
_RU_LETTERS = frozenset("ыэъ")
_UK_WORDS = frozenset(
    ["та", "що", "збито", "знищено", "вночі", "дрони", "дронів", "ракети", "повідомив", "повідомили"]
)
_WORD = re.compile(r"\w+")
_CYR = re.compile(r"[а-яіїєґ]+")
_LAT = re.compile(r"[a-z]+")


def detect_language(norm: str) -> str:
    """Guess en/ru/uk from the script: Cyrillic with і/ї/є/ґ is uk, other Cyrillic ru, else en.

    A short Ukrainian text may lack і/ї/є/ґ ("Над Сумщиною збито два дрони"); when it has no
    Russian-only letter (ы/э/ъ) either, a few frequent Ukrainian words decide.
    """
    sample = norm[:4000]
    if sample.isascii():
        return "en"
    cyr = sum(map(len, _CYR.findall(sample)))  # letters, counted in runs (fewer objects)
    lat = sum(map(len, _LAT.findall(sample)))
    if cyr == 0 or cyr < lat:
        return "en"
    if any(c in _UK_LETTERS for c in sample):
        return "uk"
    if any(c in _RU_LETTERS for c in sample):
        return "ru"
    words = set(_WORD.findall(sample))
    return "uk" if words & _UK_WORDS else "ru"


class Token(NamedTuple):
    """One token of the normalised text: ``kind`` is word, num, time, date, punct or nl."""

    text: str
    start: int
    end: int
    kind: str


# The leading (?=[^ ]) lets the regex engine skip spaces without trying every branch.
_TOKEN_RE = re.compile(
    r"(?=[^ ])(?:(?P<word>[^\W\d_]\w*+(?:['\-/]\w++)*+)"
    r"|(?P<punct>[^\w\s])"
    r"|(?P<nl>\n)"
    r"|(?=\d)(?:(?P<date>\d{1,2}\.\d{1,2}\.\d{2,4})(?!\d)"
    r"|(?P<time>\d{1,2}[:.]\d{2})(?![\d.:]\d)"
    r"|(?P<hyph>\d+-[^\W\d_]\w*)"
    r"|(?P<num>\d{1,3}(?:(?: |,)\d{3}(?!\d))+|\d+)(?![^\W\d_]))"
    r"|(?P<w2>\w+(?:['\-/]\w+)*))"
)
_KINDS = {
    "hyph": "word",
    "w2": "word",
    "date": "date",
    "time": "time",
    "num": "num",
    "word": "word",
    "nl": "nl",
    "punct": "punct",
}
_NEW = tuple.__new__
# Token kind by the number of the regex group that matched (every token is one named group).
_KIND_OF_GROUP = ["punct"] * (_TOKEN_RE.groups + 1)
for _name, _index in _TOKEN_RE.groupindex.items():
    _KIND_OF_GROUP[_index] = _KINDS[_name]


def tokenize(norm: str, spans: list[tuple[int, int]] | None = None) -> list[Token]:
    """Split normalised text (or only the given character spans of it) into tokens.

    One linear regex pass per span; offsets are offsets into ``norm``. Spans must start and
    end where a token boundary is anyway (``prefilter.chunks`` guarantees it).
    """
    kinds = _KIND_OF_GROUP
    if spans is None:
        spans = [(0, len(norm))]
    out: list[Token] = []
    for lo, hi in spans:
        out += [
            _NEW(Token, (m.group(), m.start(), m.end(), kinds[m.lastindex or 0]))
            for m in _TOKEN_RE.finditer(norm, lo, hi)
        ]
    return out


# Abbreviations after which a full stop does not end a sentence.
ABBREVIATIONS = frozenset(
    {
        "a.m",
        "p.m",
        "am",
        "pm",
        "no",
        "st",
        "mr",
        "mrs",
        "dr",
        "gen",
        "lt",
        "col",
        "u.s",
        "obl",
        "обл",
        "г",
        "ул",
        "д",
        "им",
        "т",
        "ч",
        "тыс",
        "вул",
        "просп",
        "пос",
        "с",
        "м",
        "р-н",
        "smt",
        "vs",
        "approx",
        "est",
    }
)


def split_sentences(tokens: list[Token]) -> list[tuple[int, int]]:
    """Return [start, end) token ranges of sentences: split at . ! ? and newlines.

    A full stop after an abbreviation or an initial does not split. Ranges with nothing but
    punctuation and newlines are left out.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    content = False
    for i, tok in enumerate(tokens):
        kind = tok.kind
        if kind == "punct":
            text = tok.text
            if text not in _ENDERS:
                continue
            if text == "." and i > 0:
                prev = tokens[i - 1].text
                if prev in ABBREVIATIONS or _is_initial(prev):
                    continue
        elif kind != "nl":
            content = True
            continue
        if content:
            spans.append((start, i + 1))
        start = i + 1
        content = False
    if start < len(tokens) and content:
        spans.append((start, len(tokens)))
    return spans


_ENDERS = frozenset(".!?")


def _is_initial(word: str) -> bool:
    return len(word) == 1 and word.isalpha()
