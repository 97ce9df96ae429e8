"""Sentence-level facts: spans, skipped sentences, list lines, verbs of interception.

A sentence is skipped (it still feeds anaphora) when it reports an earlier event ("a day
earlier", "минулої ночі", "Ранее, в ночь на четверг") or war-to-date statistics ("since the
start of the operation"). A short "Курская обл. — 5" line is a list line: it counts when the
report elsewhere claims interceptions.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from service.extract import lexicon as lx
from service.extract.classify import reporting_side
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


def _phrases(phrases: tuple[tuple[str, ...], ...]) -> tuple[re.Pattern[str], frozenset[str]]:
    """A regex over ' '-joined words, and the last words: without one of them, no match."""
    alts = sorted((re.escape(f" {' '.join(p)} ") for p in phrases), key=len, reverse=True)
    return re.compile("|".join(alts)), frozenset(p[-1] for p in phrases)


_BACKGROUND = _phrases(lx.BACKGROUND_PHRASES)
_SAME_DAY = _phrases(lx.SAME_DAY_PHRASES)
_CUMULATIVE = _phrases(lx.CUMULATIVE_PAIRS)
_DATED = frozenset(lx.WEEKDAYS) | _NIGHT_WORDS
_NUMBER_WORDS = frozenset(lx.NUMBER_WORDS)
_LIST_HEADS = frozenset(["—", "-", "•", "*", "над", "over", "in", "в", "у"])
_DASHES = frozenset(("—", "-", ":"))


def _has(wset: set[str], words: tuple[str, ...], phrases: tuple[re.Pattern[str], frozenset[str]]) -> bool:
    if wset.isdisjoint(phrases[1]):
        return False
    return phrases[0].search(f" {' '.join(words)} ") is not None


def analyse_sentences(
    norm: str, toks: list[Token], mentions: list[tuple[int, int, Mention]]
) -> list[SentenceInfo]:
    """Split into sentences and flag background, cumulative and list lines."""
    sorted_starts = sorted(s for s, _, _ in mentions)
    mention_starts = set(sorted_starts)
    infos: list[SentenceInfo] = []
    for lo, hi in _chunks(split_sentences(toks)):
        words, _, _, kinds = zip(*toks[lo:hi], strict=True)
        wset = set(words)
        info = SentenceInfo(lo, hi, norm[toks[lo].start : toks[hi - 1].end])
        background = _has(wset, words, _BACKGROUND)
        if not background and not wset.isdisjoint(lx.EARLIER_WORDS):
            background = not wset.isdisjoint(_DATED) and not _has(wset, words, _SAME_DAY)
        cumulative = _has(wset, words, _CUMULATIVE) or not wset.isdisjoint(_LOSS_WORDS)
        info.total_word = not wset.isdisjoint(lx.TOTAL_WORDS)
        info.skip = background or cumulative
        info.conflict = not wset.isdisjoint(_CONFLICT)
        info.has_num = has_num = "num" in kinds or not wset.isdisjoint(_NUMBER_WORDS)
        if not has_num or hi - lo > 30:
            infos.append(info)
            continue
        k = bisect_left(sorted_starts, lo)
        has_place = k < len(sorted_starts) and sorted_starts[k] < hi
        has_dash = not _DASHES.isdisjoint(words[:8])
        starts = (
            toks[lo].kind == "num"
            or words[0] in _NUMBER_WORDS
            or lo in mention_starts
            or words[0] in _LIST_HEADS
        )
        info.list_line = has_place and has_dash and starts
        infos.append(info)
    return infos


def intercepts(toks: list[Token], candidates: list[int], infos: list[SentenceInfo]) -> list[int]:
    """Token positions of verbs/nouns claiming an interception (not 'debris of a downed').

    ``candidates`` are the character starts where an interception prefix begins a word
    (``prefilter.scan`` finds them in one pass); only those tokens are checked, and only
    against the words of their own sentence.
    """
    out: list[int] = []
    n = len(toks)
    starts = [t.start for t in toks]
    los = [info.lo for info in infos]
    for pos in candidates:
        i = bisect_left(starts, pos)
        if i >= n or toks[i].start != pos or toks[i].kind != "word":
            continue
        k = bisect_right(los, i) - 1
        lo, hi = (infos[k].lo, infos[k].hi) if k >= 0 else (0, n)
        if i >= hi:
            continue  # not inside any sentence
        w = toks[i].text
        particle = lx.PHRASAL.get(w)
        if particle is not None and not (i + 1 < hi and toks[i + 1].text in particle):
            continue
        if w.startswith("landed") and not (i > lo and toks[i - 1].text == '"'):
            continue
        if any(toks[j].text.startswith(lx.DEBRIS_PREFIXES) for j in range(max(lo, i - 4), i)):
            continue
        out.append(i)
    return out


def capital_of(norm: str, mentions: list[Mention], lang: str) -> str:
    """Which capital "the capital"/"столица" means: Moscow or Kyiv, from the claimant."""
    codes = [m.place.code for m in mentions]
    if {"RU-MOW", "RU-MOS"} & set(codes):
        return "RU-MOW"
    if {"UA-30", "UA-32"} & set(codes):
        return "UA-30"
    side = reporting_side(norm, [], codes, lang)
    return "RU-MOW" if side == "RU" else "UA-30"
