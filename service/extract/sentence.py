"""Sentence-level facts: spans, skipped sentences, list lines, verbs of interception.

A sentence is skipped (it still feeds anaphora) when it reports an earlier event ("a day
earlier", "минулої ночі", "Ранее, в ночь на четверг") or war-to-date statistics ("since the
start of the operation"). A short "Курская обл. — 5" line is a list line: it counts when the
report elsewhere claims interceptions.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from service.extract import lexicon as lx
from service.extract.gazetteer import Mention
from service.extract.text import Token, split_sentences

MAX_SENTENCE_TOKENS = 200
_NIGHT_WORDS = frozenset(["ночь", "ночи", "ночью", "ночі", "night", "evening", "вечер", "вечером", "ввечері"])
_CONFLICT = frozenset(["however", "only", "однако", "лишь", "только", "лише", "проте", "натомість"])
_LOSS_WORDS = frozenset(["втрати", "втрат", "потери", "потерь", "losses"])


@dataclass(slots=True)
class SentenceInfo:
    """One sentence: token range, its normalised text and flags."""

    lo: int
    hi: int
    text: str
    skip: bool = False
    list_line: bool = False
    conflict: bool = False
    total_word: bool = False
    has_num: bool = False


def _chunks(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in spans:
        cut = lo
        while hi - cut > MAX_SENTENCE_TOKENS:
            out.append((cut, cut + MAX_SENTENCE_TOKENS))
            cut += MAX_SENTENCE_TOKENS
        out.append((cut, hi))
    return out


def _phrases(phrases: tuple[tuple[str, ...], ...]) -> re.Pattern[str]:
    alts = sorted((re.escape(f" {' '.join(p)} ") for p in phrases), key=len, reverse=True)
    return re.compile("|".join(alts))


_BACKGROUND = _phrases(lx.BACKGROUND_PHRASES)
_SAME_DAY = _phrases(lx.SAME_DAY_PHRASES)
_CUMULATIVE = _phrases(lx.CUMULATIVE_PAIRS)
_DATED = frozenset(lx.WEEKDAYS) | _NIGHT_WORDS
_NUMBER_WORDS = frozenset(lx.NUMBER_WORDS)
_LIST_HEADS = frozenset(["—", "-", "•", "*", "над", "over", "in", "в", "у"])


def _has(joined: str, phrases: re.Pattern[str]) -> bool:
    return phrases.search(joined) is not None


def analyse_sentences(
    norm: str, toks: list[Token], mentions: list[tuple[int, int, Mention]]
) -> list[SentenceInfo]:
    """Split into sentences and flag background, cumulative and list lines."""
    sorted_starts = sorted(s for s, _, _ in mentions)
    mention_starts = set(sorted_starts)
    infos: list[SentenceInfo] = []
    for lo, hi in _chunks(split_sentences(toks)):
        words = [toks[i].text for i in range(lo, hi)]
        wset = set(words)
        joined = f" {' '.join(words)} "
        info = SentenceInfo(lo, hi, norm[toks[lo].start : toks[hi - 1].end])
        background = _has(joined, _BACKGROUND)
        if not background and not wset.isdisjoint(lx.EARLIER_WORDS):
            background = not wset.isdisjoint(_DATED) and not _has(joined, _SAME_DAY)
        cumulative = _has(joined, _CUMULATIVE) or not wset.isdisjoint(_LOSS_WORDS)
        info.total_word = not wset.isdisjoint(lx.TOTAL_WORDS)
        info.skip = background or cumulative
        info.conflict = not wset.isdisjoint(_CONFLICT)
        info.has_num = has_num = not wset.isdisjoint(_NUMBER_WORDS) or any(
            toks[i].kind == "num" for i in range(lo, hi)
        )
        k = bisect_left(sorted_starts, lo)
        has_place = k < len(sorted_starts) and sorted_starts[k] < hi
        has_dash = not set(words[:8]).isdisjoint(("—", "-", ":"))
        starts = bool(words) and (
            toks[lo].kind == "num"
            or words[0] in _NUMBER_WORDS
            or lo in mention_starts
            or words[0] in _LIST_HEADS
        )
        info.list_line = hi - lo <= 30 and has_num and has_place and has_dash and starts
        infos.append(info)
    return infos


@lru_cache(maxsize=65536)
def _intercept_word(w: str) -> bool:
    return w.startswith(lx.INTERCEPT_PREFIXES)


def intercepts(toks: list[Token]) -> list[int]:
    """Token positions of verbs/nouns claiming an interception (not 'debris of a downed')."""
    out: list[int] = []
    n = len(toks)
    for i, tok in enumerate(toks):
        w = tok.text.strip('"')
        if tok.kind != "word" or not _intercept_word(w):
            continue
        particle = lx.PHRASAL.get(w)
        if particle is not None and not (i + 1 < n and toks[i + 1].text == particle):
            continue
        if w.startswith(("landed",)) and not (i > 0 and toks[i - 1].text == '"'):
            continue
        if any(toks[j].text.startswith(lx.DEBRIS_PREFIXES) for j in range(max(0, i - 4), i)):
            continue
        out.append(i)
    return out


def capital_of(norm: str, mentions: list[tuple[int, int, Mention]], lang: str) -> str:
    """Which capital "the capital"/"столица" means in this text."""
    codes = {m.place.code for _, _, m in mentions}
    if codes & {"RU-MOW", "RU-MOS"}:
        return "RU-MOW"
    if codes & {"UA-30", "UA-32"} or lang == "uk":
        return "UA-30"
    if "ukrain" in norm or "украин" in norm or "всу" in norm:
        return "UA-30"
    return "RU-MOW"
