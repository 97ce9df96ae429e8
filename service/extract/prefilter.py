"""Cheap prefilter: which stretches of a report are worth tokenizing at all.

News articles carry paragraphs of colour around the figures. Tokenizing and analysing those
costs far more than the figures themselves, so the text is first cut into *chunks* at places
where the sentence splitter always cuts (a newline, "!" or "?", a full stop after a word of
two or more letters that is not an abbreviation), and only chunks that can contribute are
tokenized. A chunk can contribute when it has a word of interception, follows a chunk that
has one (a list continuing the claim), has a "total" word, or has a number together with a
place, a launch/attack word, a clock time or a dated night. Every other chunk only names
places, which are still remembered for anaphora (``Prefiltered.dropped``).

One Aho-Corasick pass finds every cue word; one regex pass finds the cut points. Both are
linear, and the per-chunk checks only look at the cues found.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

import ahocorasick

from service.extract import lexicon as lx
from service.extract.classify import THIRD_COUNTRY_HINTS
from service.extract.gazetteer import Mention
from service.extract.text import ABBREVIATIONS

VERB, NUMBER, TOTAL, LAUNCH, DIGIT, NIGHT, PLACE, THIRD = 1, 2, 4, 8, 16, 32, 64, 128
_WHOLE = NUMBER | TOTAL  # whole words: bounded on both sides
_FREE = DIGIT | NIGHT | THIRD  # anywhere, even inside a word
_NOT_BEFORE = frozenset("'-")  # "(?<![\w'\-])" of the verb pattern


def _automaton(verbs_only: bool = False) -> ahocorasick.Automaton:
    kinds: dict[str, int] = {}
    cues: tuple[tuple[int, tuple[str, ...]], ...] = (
        (VERB, lx.INTERCEPT_PREFIXES),
        (NUMBER, tuple(lx.NUMBER_WORDS)),
        (TOTAL, tuple(lx.TOTAL_WORDS)),
        (LAUNCH, lx.LAUNCH_PREFIXES + lx.ATTACK_PREFIXES),
        (DIGIT, tuple("0123456789")),
        (NIGHT, ("night", "ніч на", "ночь на")),
        (THIRD, THIRD_COUNTRY_HINTS),
    )
    for bit, items in cues[:1] if verbs_only else cues:
        for word in items:
            kinds[word] = kinds.get(word, 0) | bit
    auto = ahocorasick.Automaton()
    for word, bits in kinds.items():
        auto.add_word(word, (len(word), bits))
    auto.make_automaton()
    return auto


_AUTO = _automaton()
_VERB_AUTO = _automaton(verbs_only=True)
_CUT = re.compile(r"[.!?\n]")
_CLOCK = re.compile(r"\d[:.]\d\d|\d\s?[ap]\.?\s?m\b|\d\s?(?:gmt|utc)\b")
_WORDY = re.compile(r"\w")
_RUN = re.compile(r"\w{2,40}\Z")


def scan(norm: str, auto: ahocorasick.Automaton = _AUTO) -> tuple[list[int], list[tuple[int, int]]]:
    """One automaton pass: verb candidates (as the verb regex would find them) and cue hits.

    Returns the character starts of verb candidates and (start, bits) of every cue.
    """
    n = len(norm)
    found: list[tuple[int, int, int]] = []
    for end_idx, (length, kind) in auto.iter(norm):
        start = end_idx - length + 1
        bits = kind
        if not bits & _FREE:
            if start > 0:
                before = norm[start - 1]
                if before.isalnum() or before == "_":
                    continue
                if before in _NOT_BEFORE:
                    bits &= ~VERB
            if bits & _WHOLE and end_idx + 1 < n:
                after = norm[end_idx + 1]
                if after.isalnum() or after == "_":
                    bits &= ~_WHOLE
            if not bits:
                continue
        found.append((start, -length, bits))
    found.sort()
    verbs: list[int] = []
    last_end = -1
    for start, neg_len, bits in found:
        # The verb regex is a leftmost-longest alternation scanned left to right: a match
        # hides any candidate that starts inside it ("repelled and destroyed").
        if bits & VERB and start >= last_end:
            verbs.append(start)
            last_end = start - neg_len
    return verbs, [(s, b) for s, _, b in found]


def sentence_cuts(norm: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """Split [lo, hi) where the sentence splitter always splits (a superset of no cuts)."""
    out: list[tuple[int, int]] = []
    start = lo
    for m in _CUT.finditer(norm, lo, hi):
        pos = m.start()
        if norm[pos] == "." and not _word_stop(norm, pos):
            continue
        out.append((start, pos + 1))
        start = pos + 1
    if start < hi:
        out.append((start, hi))
    return out


def _word_stop(norm: str, pos: int) -> bool:
    """A full stop right after a word of 2+ letters that is not an abbreviation."""
    m = _RUN.search(norm, max(0, pos - 41), pos)
    if m is None:
        return False
    k = m.start()
    if not norm[k].isalpha():
        return False
    if k > 0 and (norm[k - 1].isalnum() or norm[k - 1] in "_'-/"):
        return False  # a longer run, or a compound word ("р-н.")
    return norm[k:pos] not in ABBREVIATIONS


@dataclass(slots=True)
class Prefiltered:
    """Character spans to tokenize, with the chunks dropped between them."""

    spans: list[tuple[int, int]]
    gaps: list[int]  # character starts of kept spans that follow a dropped sentence
    dropped: list[Mention]  # mentions inside dropped chunks (they still feed anaphora)
    verbs: list[int]
    # Long texts only (None otherwise): where digits are, and whether a third country is named.
    digits: list[int] | None = None
    third_country: bool | None = None


def prefilter(norm: str, mentions: list[Mention]) -> Prefiltered:
    """Choose the chunks of ``norm`` that can contribute a count, a total or a period."""
    if len(norm) < _SHORT:
        verbs, _ = scan(norm, _VERB_AUTO)
        return Prefiltered([(0, len(norm))] if norm else [], [], [], verbs)
    verbs, hits = scan(norm)
    points = sorted([*hits, *((m.start, PLACE) for m in mentions)])
    pos = [p for p, _ in points]
    parts: list[tuple[int, int]] = []
    keep: list[bool] = []
    carry = False
    for para in sentence_paragraphs(norm):
        a, b = bisect_left(pos, para[0]), bisect_left(pos, para[1])
        if not carry and not any(points[k][1] & _TRIGGERS for k in range(a, b)):
            parts.append(para)  # nothing that could keep a chunk: one dropped chunk
            keep.append(False)
            continue
        for lo, hi in sentence_cuts(norm, *para):
            bits = 0
            for k in range(bisect_left(pos, lo, a, b), bisect_left(pos, hi, a, b)):
                bits |= points[k][1]
            ok, carry = _keep(norm, lo, hi, bits, carry)
            parts.append((lo, hi))
            keep.append(ok)
    out = _spans(parts, keep, mentions, norm, verbs)
    out.digits = [p for p, bits in hits if bits & DIGIT]
    out.third_country = any(bits & THIRD for _, bits in hits)
    return out


_TRIGGERS = VERB | TOTAL | NUMBER | DIGIT  # a chunk without one of these is kept only as a carry
_SHORT = 600  # shorter texts are tokenized whole: the chunking would cost more than it saves


def sentence_paragraphs(norm: str) -> list[tuple[int, int]]:
    """[start, end) of each line, the newline included."""
    out: list[tuple[int, int]] = []
    start = 0
    while True:
        nl = norm.find("\n", start)
        if nl < 0:
            if start < len(norm):
                out.append((start, len(norm)))
            return out
        out.append((start, nl + 1))
        start = nl + 1


def _keep(norm: str, lo: int, hi: int, bits: int, carry: bool) -> tuple[bool, bool]:
    """(keep this chunk, carry to the next wordy chunk) from the cue bits found in it."""
    wordy = bool(bits) or _WORDY.search(norm, lo, hi) is not None
    ok = bool(bits & (VERB | TOTAL)) or (carry and wordy)
    if not ok and bits & (NUMBER | DIGIT) and bits & (PLACE | LAUNCH | DIGIT | NIGHT):
        clock = bool(bits & DIGIT) and _CLOCK.search(norm, lo, hi) is not None
        ok = bool(bits & (PLACE | LAUNCH)) or clock or bits & (NIGHT | DIGIT) == NIGHT | DIGIT
    return ok, (bool(bits & VERB) if wordy else carry)


def _spans(
    parts: list[tuple[int, int]], keep: list[bool], mentions: list[Mention], norm: str, verbs: list[int]
) -> Prefiltered:
    spans: list[tuple[int, int]] = []
    gaps: list[int] = []
    gap = False
    for (lo, hi), ok in zip(parts, keep, strict=True):
        if not ok:
            gap = gap or _WORDY.search(norm, lo, hi) is not None
            continue
        if gap:
            gaps.append(lo)
            gap = False
        if spans and spans[-1][1] == lo:
            spans[-1] = (spans[-1][0], hi)
        else:
            spans.append((lo, hi))
    starts = [s for s, _ in spans]
    dropped = [m for m in mentions if not _inside(starts, spans, m.start)]
    kept_verbs = [v for v in verbs if _inside(starts, spans, v)]
    return Prefiltered(spans, gaps, dropped, kept_verbs)


def _inside(starts: list[int], spans: list[tuple[int, int]], pos: int) -> bool:
    k = bisect_left(starts, pos + 1) - 1
    return k >= 0 and spans[k][0] <= pos < spans[k][1]
