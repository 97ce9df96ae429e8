"""Cutting a sentence into segments, and the "respectively" pairing.

Segments end at punctuation and clause conjunctions, except inside a place list. Each
segment records what it contains (counts, places, an interception verb) and the cues that
block it: negation, or damage/debris/launch/target words without an interception verb.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field

from service.extract import lexicon as lx
from service.extract.numbers import Num, weapon_of
from service.extract.places import PlaceRef
from service.extract.text import Token

_PUNCT_BOUNDARY = frozenset(",;:()[]")
_AND_WORDS = frozenset(["and", "и", "і", "й", "та"])
_CLAUSE_WORDS = frozenset(
    lx.words(
        "while but whereas where after when а но але проте однако где де після после while whilst "
        "although though"
    )
)
_CONNECTORS = frozenset([",", "and", "и", "і", "й", "та", "the", "over", "над", "of", "a"])
# "не менее", "не уточнил", and "не долетіли до цілі" / "did not reach their targets" (they
# were downed): a negation that does not deny the interception.
_NEG_EXCEPT_NEXT = (
    "менее",
    "менше",
    "более",
    "уточн",
    "только",
    "лише",
    "лишь",
    "раз",
    "долет",
    "досягл",
    "достиг",
    "reach",
)


@dataclass(slots=True)
class Segment:
    """A stretch of one sentence between boundaries, with its counts and places."""

    lo: int
    hi: int
    nums: list[Num] = field(default_factory=list)
    refs: list[PlaceRef] = field(default_factory=list)
    verb: bool = False
    blocked: bool = False
    subset: bool = False
    total_word: bool = False
    list_line: bool = False
    joined_prev: bool = False
    joined_next: bool = False
    colon_after: bool = False
    done: bool = False
    stmt: object | None = None
    lost: bool = False
    had_nums: bool = False
    other_arms: bool = False  # names only aircraft, bombs or boats (never interceptions)


def _starts_with_number(toks: list[Token], seg: Segment, first: set[int]) -> bool:
    for i in range(seg.lo, min(seg.hi, seg.lo + 3)):
        if i in first:
            return True
        if toks[i].text not in lx.APPROX_WORDS and toks[i].text not in lx.LOWER_WORDS:
            return False
    return False


def _protected(refs: list[PlaceRef]) -> set[int]:
    inside: set[int] = set()
    for r in refs:
        inside.update(range(r.tok, r.end))
    return inside


_CUT_KINDS: dict[str, str] = {
    **dict.fromkeys(_PUNCT_BOUNDARY, "punct"),
    ":": "colon",
    "—": "dash",
    "-": "dash",
    **dict.fromkeys(_AND_WORDS, "and"),
    **dict.fromkeys(_CLAUSE_WORDS, "clause"),
}


def build_segments(
    toks: list[Token],
    lo: int,
    hi: int,
    refs: list[PlaceRef],
    nums: list[Num],
    intercept: list[int],
    list_line: bool,
) -> list[Segment]:
    """Split tokens [lo, hi) into segments and annotate each.

    One pass over the tokens finds the cuts and the tokens that carry a context cue; each
    segment then looks only at its own cue tokens.
    """
    cuts, cued, cue_flags, subset_words = _scan(toks, lo, hi, _protected(refs) if refs else _NOTHING)
    if cuts and _DASH_CUTS & {kind for _, kind in cuts}:
        cuts = _breakdown_dashes(toks, hi, cuts, nums, {r.end for r in refs})
    segs: list[Segment] = []
    start = lo
    kinds: list[str] = []
    for pos, kind in [*cuts, (hi, "end")]:
        if pos > start:
            segs.append(Segment(start, pos))
            kinds.append(kind)
        elif segs:
            kinds[-1] = kinds[-1] if kinds[-1] == "and" else kind
        start = pos + 1
    if nums and "punct" in kinds:
        first = {n.tok for n in nums}
        for k in range(len(segs) - 1):
            if kinds[k] == "punct" and _starts_with_number(toks, segs[k + 1], first):
                kinds[k] = "and"
    _fill(segs, kinds, refs, nums, intercept, list_line)
    for seg in segs:
        a, b = bisect_left(cued, seg.lo), bisect_left(cued, seg.hi)
        if a < b or subset_words:
            _annotate(toks, seg, zip(cued[a:b], cue_flags[a:b], strict=True), subset_words)
    return segs


_DASH_CUTS = frozenset(["dash"])


def _fill(
    segs: list[Segment],
    kinds: list[str],
    refs: list[PlaceRef],
    nums: list[Num],
    intercept: list[int],
    list_line: bool,
) -> None:
    """Joins to the neighbours, and the counts, places and verbs inside each segment."""
    ntok = [n.tok for n in nums]  # in text order, like refs and intercept
    rtok = [r.tok for r in refs]
    prev_kind = ""
    for seg, kind in zip(segs, kinds, strict=True):
        seg.joined_next = kind == "and"
        seg.joined_prev = prev_kind == "and"
        seg.colon_after = kind == "colon"
        seg.list_line = list_line
        prev_kind = kind
        s_lo, s_hi = seg.lo, seg.hi
        a, b = bisect_left(ntok, s_lo), bisect_left(ntok, s_hi)
        if a < b:
            seg.nums = nums[a:b]
            seg.had_nums = any(not n.drop for n in seg.nums)
        a, b = bisect_left(rtok, s_lo), bisect_left(rtok, s_hi)
        if a < b:
            seg.refs = refs[a:b]
        k = bisect_left(intercept, s_lo)
        seg.verb = k < len(intercept) and intercept[k] < s_hi


def _breakdown_dashes(
    toks: list[Token], hi: int, cuts: list[tuple[int, str]], nums: list[Num], ref_ends: set[int]
) -> list[tuple[int, str]]:
    """A spaced dash between a figure and another figure introduces a breakdown, like a colon
    ("8 drones — 5 over Bryansk and 3 over Kursk"); every other dash is no cut ("Курская — 4"),
    nor is a dash right after a place ("12 БПЛА над Белгородской областью — 6, ...")."""
    out: list[tuple[int, str]] = []
    starts = {n.tok for n in nums}
    prev = -1
    for pos, kind in cuts:
        if kind != "dash":
            out.append((pos, kind))
            prev = pos
            continue
        nxt = pos + 1
        spaced = (
            pos > 0 and nxt < hi and toks[pos - 1].end < toks[pos].start < toks[pos].end < toks[nxt].start
        )
        figure_after = nxt < hi and (toks[nxt].kind == "num" or toks[nxt].text in lx.NUMBER_WORDS)
        figure_before = any(n.tok < pos and n.tok > prev and not n.drop for n in nums)
        item = _after_place(toks, pos, ref_ends)
        if spaced and figure_after and figure_before and nxt in starts and not item:
            out.append((pos, "colon"))
            prev = pos
    return out


REGION_NOUNS = frozenset(
    lx.words("области область обл . края край краю республики республіки області region oblast krai")
)


def _after_place(toks: list[Token], pos: int, ref_ends: set[int]) -> bool:
    """The dash at ``pos`` follows a place name (and its region noun)."""
    k = pos
    while k > 0 and pos - k < 2 and toks[k - 1].text in REGION_NOUNS:
        k -= 1
    return k in ref_ends


def _scan(
    toks: list[Token], lo: int, hi: int, inside: set[int] | frozenset[int]
) -> tuple[list[tuple[int, str]], list[int], list[int], bool]:
    """One pass: the cuts, the tokens with a context cue (and their flags), any subset word."""
    cuts: list[tuple[int, str]] = []
    cued: list[int] = []
    cue_flags: list[int] = []
    cache = _WORD_CACHE
    subset_words = False
    i = lo
    for tok in toks[lo:hi]:
        info = cache.get(tok.text)
        if info is None:
            info = _word_info(tok.text)
        if info is not _PLAIN:
            kind, f = info
            if kind is not None and i not in inside:
                cuts.append((i, kind))
            elif f:
                cued.append(i)
                cue_flags.append(f)
                subset_words = subset_words or bool(f & _SUBSET)
        i += 1
    return cuts, cued, cue_flags, subset_words


_NOTHING: frozenset[int] = frozenset()
_PLAIN: tuple[str | None, int] = (None, 0)
_WORD_CACHE: dict[str, tuple[str | None, int]] = {}


def _word_info(w: str) -> tuple[str | None, int]:
    """(cut kind, cue flags) of a word, cached (bounded: hostile text cannot grow it forever)."""
    kind = _CUT_KINDS.get(w)
    f = _flags(w)
    info = _PLAIN if kind is None and not f else (kind, f)
    if len(_WORD_CACHE) < 65536:
        _WORD_CACHE[w] = info
    return info


_NEG, _CUE, _TGT, _TOTAL, _LOST, _LAUNCH, _SUBSET = 1, 2, 4, 8, 16, 32, 64
_COUNTED_ARMS, _OTHER_ARMS = 128, 256  # drone/missile/target nouns; aircraft/bomb/boat nouns
_ARMS = _COUNTED_ARMS | _OTHER_ARMS
_RESP6 = frozenset(p[:6] for p in lx.RESPECTIVE_PREFIXES)
_SUBSET_FIRSTS = frozenset(p[0] for p in lx.SUBSET_WORDS)
_SUBSET_LASTS = frozenset([*(p[-1] for p in lx.SUBSET_WORDS), "них"])
_SUBSET_STRINGS = tuple(f" {' '.join(p)} " for p in lx.SUBSET_WORDS)


def _flags(w: str) -> int:
    """Context cues carried by one word (cached: the vocabulary of reports is small)."""
    f = 0
    if w in lx.NEGATION_WORDS:
        f |= _NEG
    if w.startswith(lx.DEBRIS_PREFIXES + lx.DAMAGE_PREFIXES + lx.LAUNCH_PREFIXES):
        f |= _CUE
    if w.startswith(lx.LAUNCH_PREFIXES):
        f |= _LAUNCH
    if w in lx.TARGET_WORDS or (w.startswith(lx.ATTACK_PREFIXES) and w != "attacks"):
        f |= _TGT
    if w in lx.TOTAL_WORDS:
        f |= _TOTAL
    if w.startswith(("втрачен", "потерян", "lost", "left")):
        f |= _LOST
    if w in _SUBSET_LASTS:  # a subset phrase cannot match without its last word
        f |= _SUBSET
    kind = weapon_of(w)
    if kind in lx.WEAPON_TYPES_COUNTED:
        f |= _COUNTED_ARMS
    elif kind in ("aircraft", "bomb", "boat"):
        f |= _OTHER_ARMS
    return f


def _annotate(toks: list[Token], seg: Segment, cued: Iterable[tuple[int, int]], subset_words: bool) -> None:
    """Negation, damage/launch/target cues, totals and subsets of one segment."""
    negated = cue = False
    arms = 0
    s_lo, s_hi = seg.lo, seg.hi
    for i, f in cued:
        nxt = toks[i + 1].text if i + 1 < s_hi else ""
        if f & _NEG and not nxt.startswith(_NEG_EXCEPT_NEXT):
            negated = True
        prv = toks[i - 1].text if i > s_lo else ""
        if (f & _CUE and not (f & _LAUNCH and weapon_of(prv))) or (f & _TGT and weapon_of(nxt) is None):
            cue = True  # ('missiles launched by Russia' is a participle, not a launch site)
        if f & _TOTAL:
            seg.total_word = True
        if f & _LOST:
            seg.lost = True
        if f & _ARMS:
            arms |= f & _ARMS
    if subset_words:
        words = [t.text for t in toks[s_lo:s_hi]]
        if not _SUBSET_FIRSTS.isdisjoint(words):
            joined = f" {' '.join(words)} "
            seg.subset = any(p in joined for p in _SUBSET_STRINGS)
        if "один" in words and "из" in words and "них" in words:
            seg.subset = True
    seg.blocked = negated or (cue and not seg.verb) or (seg.lost and not seg.verb)
    seg.other_arms = arms == _OTHER_ARMS


def resolve_respectively(
    toks: list[Token], lo: int, hi: int, refs: list[PlaceRef], nums: list[Num]
) -> tuple[list[tuple[Num, PlaceRef]], set[int], set[int]]:
    """Pair a run of numbers with a list of places in order when "respectively" is said."""
    resp = [
        i
        for i in range(lo, hi)
        if toks[i].text[:6] in _RESP6 and toks[i].text.startswith(lx.RESPECTIVE_PREFIXES)
    ]
    if not resp:
        return [], set(), set()
    anchor = resp[0]
    usable = [n for n in nums if not n.drop and not n.launched]
    runs: list[list[Num]] = []
    for n in usable:
        if runs and _adjacent(toks, runs[-1][-1], n):
            runs[-1].append(n)
        else:
            runs.append([n])
    runs = [r for r in runs if len(r) >= 2]
    if not runs:
        return [], set(), set()
    run = min(runs, key=lambda r: abs(r[0].tok - anchor))
    groups = [r for r in refs if len(r.codes) == len(run) and r.role in ("loc", "none")]
    if not groups:
        return [], set(), set()
    group = min(groups, key=lambda g: abs(g.tok - run[0].tok))
    pairs = [
        (n, PlaceRef(group.tok, group.end, [code], group.kind, "loc"))
        for n, code in zip(run, group.codes, strict=True)
    ]
    return pairs, {id(n) for n in run}, {id(group)}


def _adjacent(toks: list[Token], a: Num, b: Num) -> bool:
    between = [toks[i].text for i in range(a.end, b.tok)]
    return len(between) <= 2 and all(w in _CONNECTORS for w in between)
