"""The gazetteer: canonical regions and their aliases, matched in one Aho-Corasick pass.

Data lives in ``service/data/gazetteer.tsv`` (checked-in data, not code). Each alias may use
brace groups that expand to Russian/Ukrainian case forms, so the file lists a stem once and
the loader generates every inflected form (``ростовск{A}`` -> ростовская, ростовской, ...).
All forms go into a single automaton over normalised text; a match is kept only on word
boundaries, and overlapping matches resolve to the longest one (so "Moscow Region" beats
"Moscow" and "Bilhorod-Dnistrovskyi" beats "Belgorod").
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import ahocorasick

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "gazetteer.tsv"

_MACROS: dict[str, list[str]] = {
    "F": ["ая", "ой", "ую", "ою"],
    "A": ["ая", "ой", "ую", "ою", "ий", "ого", "ому", "им", "ом"],
    "UF": ["а", "ої", "ій", "у", "ою"],
    "UA": ["а", "ої", "ій", "у", "ою", "ий", "ого", "ому", "им", "ім"],
    "SH": ["а", "ы", "и", "е", "і", "у", "ой", "ою", "ей"],
    "N": ["а", "ы", "и", "е", "і", "у", "ой", "ою", "ей", "ею", "ї", "єю"],
    "SOFT": ["ь", "я", "ю", "е", "ем", "і", "ею", "и", "ью", "ем"],
    "C": ["", "а", "у", "е", "і", "ом", "ем", "ові"],
    "YA": ["ия", "ии", "ию", "ией", "ія", "ії", "ію", "ією"],
    "KR": ["край", "края", "краю", "краем", "крае", "краї", "краєм"],
    "R": ["район", "района", "району", "районом", "районе", "районі"],
    "REG": ["регион", "региона", "региону", "регионом", "регионе"],
    "OB": ["область", "области", "областью", "обл", "області", "областю"],
}

_BRACE = re.compile(r"\{([^{}]*)\}")

# Cities that are federal subjects themselves, and the oblast around them ("the Moscow and
# Tula regions" names the oblast, not the city).
OBLAST_TWIN = {"RU-MOW": "RU-MOS", "UA-30": "UA-32"}


@dataclass(frozen=True, slots=True)
class Place:
    """A gazetteer entry: ``code`` is the counted region; ``kind`` as in the data file."""

    code: str
    name: str
    kind: str


class Mention(NamedTuple):
    """A place found in the text: character span in the normalised text and the entry."""

    start: int
    end: int
    place: Place


def expand(alias: str) -> list[str]:
    """Expand brace groups and macros of one alias into every concrete form."""
    parts: list[list[str]] = []
    pos = 0
    for m in _BRACE.finditer(alias):
        parts.append([alias[pos : m.start()]])
        body = m.group(1)
        parts.append(_MACROS[body] if body in _MACROS else body.split(","))
        pos = m.end()
    parts.append([alias[pos:]])
    return ["".join(p).strip() for p in itertools.product(*parts)]


class Gazetteer:
    """Canonical places plus an automaton over all alias forms."""

    def __init__(self, rows: list[tuple[str, str, str, list[str]]]) -> None:
        self.regions: dict[str, str] = {}
        self.automaton = ahocorasick.Automaton()
        self.form_count = 0
        forms: dict[str, Place] = {}
        for code, name, kind, aliases in rows:
            place = Place(code, name, kind)
            if kind in ("region", "sea", "country"):
                self.regions.setdefault(code, name)
            for alias in aliases:
                for raw in expand(alias):
                    form = raw.lower().replace("ё", "е")
                    if form and form not in forms:
                        forms[form] = place
        for form, place in forms.items():
            self.automaton.add_word(form, (len(form), place))
        self.form_count = len(forms)
        self.automaton.make_automaton()

    def name_of(self, code: str) -> str:
        """Canonical English name of a region code."""
        return self.regions.get(code, code)

    def find(self, norm: str) -> list[Mention]:
        """All place mentions in normalised text: word-bounded, longest, non-overlapping.

        ``iter_long`` yields leftmost-longest matches in one pass. When such a match is not
        word-bounded ("moscow region" inside "moscow regional", "the black sea" inside
        "breathe black sea"), the span is re-read with every alias that fits in it.
        """
        out: list[Mention] = []
        n = len(norm)
        last_end = 0
        for end_idx, (length, place) in self.automaton.iter_long(norm):
            start = end_idx - length + 1
            end = end_idx + 1
            if start < last_end:
                continue
            before = norm[start - 1] if start > 0 else " "
            after = norm[end] if end < n else " "
            if before.isalnum() or before == "_" or after.isalnum() or after == "_":
                for m in self._bounded(norm, start, end):
                    if m.start >= last_end:
                        out.append(m)
                        last_end = m.end
                continue
            out.append(Mention(start, end, place))
            last_end = end
        return out

    def _bounded(self, norm: str, start: int, end: int) -> list[Mention]:
        """Word-bounded aliases inside [start, end): longest first, non-overlapping."""
        n = len(norm)
        found: list[tuple[int, int, Place]] = []
        for end_idx, (length, place) in self.automaton.iter(norm, start, end):
            s, e = end_idx - length + 1, end_idx + 1
            if (s > 0 and _wordy(norm[s - 1])) or (e < n and _wordy(norm[e])):
                continue
            found.append((s, e, place))
        found.sort(key=lambda t: (t[0], t[0] - t[1]))
        out: list[Mention] = []
        last = -1
        for s, e, place in found:
            if s >= last:
                out.append(Mention(s, e, place))
                last = e
        return out


def _wordy(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _read_rows(path: Path) -> list[tuple[str, str, str, list[str]]]:
    rows: list[tuple[str, str, str, list[str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 4:
            raise ValueError(f"bad gazetteer line: {line[:60]!r}")
        code, name, kind, aliases = cols
        rows.append((code, name, kind, [a for a in aliases.split("|") if a.strip()]))
    return rows


@lru_cache(maxsize=1)
def load() -> Gazetteer:
    """Load the checked-in gazetteer once (the only I/O of the extractor)."""
    return Gazetteer(_read_rows(DATA_FILE))
