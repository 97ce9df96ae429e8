"""Sentence reading: turn one sentence into interception statements and total candidates.

A sentence is cut into *segments* at commas, semicolons, colons, brackets and clause
conjunctions, but never inside a list of places ("the Tula and Kaluga regions") or a
"respectively" run of numbers. Inside a segment a count pairs with a place that carries a
locative preposition; leftovers pair across neighbouring segments ("Over the Kharkiv region,
11 drones ..."). Segments about damage, debris, launches, targets or negations are blocked.
"""

from __future__ import annotations

from service.extract import lexicon as lx
from service.extract.numbers import Num
from service.extract.orphans import link_orphans
from service.extract.places import PlaceRef
from service.extract.segments import REGION_NOUNS, Segment, build_segments, resolve_respectively
from service.extract.statements import (
    ROW_KINDS,
    SentenceReading,
    Statement,
    Total,
    choose,
    counted,
    emit,
    make,
)
from service.extract.text import Token

__all__ = ["SentenceReading", "Statement", "Total", "launch_figures", "read_sentence"]


def read_sentence(
    toks: list[Token],
    lo: int,
    hi: int,
    sentence: int,
    refs: list[PlaceRef],
    nums: list[Num],
    *,
    intercept: list[int],
    list_line: bool,
    prior: Statement | None,
    text: str | None = None,
) -> SentenceReading:
    """Read one sentence (tokens [lo, hi)) given its place refs, numbers and verb positions.

    ``text`` is the sentence's normalised text when the caller has it (cheap word tests).
    """
    out = SentenceReading()
    for n in nums:
        if n.weapon and not n.drop:
            out.weapons.append(n.weapon)
        out.models.extend(n.models)
        if n.launched and n.value:
            out.launched.append(n.value)
    out.launched.extend(launch_figures(toks, [n for n in nums if not n.launched], lo))
    if not intercept and not list_line:
        return out
    pending = _pending(toks, lo, hi, refs, nums, intercept, list_line, text, out, sentence)
    _headline(pending)
    derived = _last_value(nums)
    deferred = [
        s for s in pending if s.subset or (s.nums and s.nums[0].of_them and _counted_before(s, pending))
    ]
    for seg in deferred:
        seg.done = True
    _pair_in_segments(toks, pending, out, sentence, derived)
    link_orphans(pending, out, sentence, derived, prior)
    if out.totals and not out.statements and refs:
        _official_region(toks, lo, refs, out)
    _parts(deferred, pending, out, sentence, derived)
    if len(out.statements) > 1:
        out.statements = _drop_breakdowns(out.statements, out, toks)
    if out.statements and prior is not None and _breakdown_of(toks, lo, hi, prior, out.statements, sentence):
        out.statements = []  # "12 над Курской областью. Из них 5 — над Курском": inside the 12
    if not out.statements and (
        any(n.vague_all for seg in pending if not seg.done for n in seg.nums)
        or any(n.all_of and not n.drop for n in nums)
    ):
        # "Seventeen were aimed at Kyiv, and every one was destroyed", "all 14 drones launched
        # at the Odesa region were destroyed": the target, null count (PATTERNS rule 3).
        for r in refs:
            if r.role == "tgt" and r.kind in ROW_KINDS:
                out.statements.append(Statement(list(dict.fromkeys(r.codes)), None, sentence))
    return out


_NONE: frozenset[int] = frozenset()


def _pending(
    toks: list[Token],
    lo: int,
    hi: int,
    refs: list[PlaceRef],
    nums: list[Num],
    intercept: list[int],
    list_line: bool,
    text: str | None,
    out: SentenceReading,
    sentence: int,
) -> list[Segment]:
    """The "respectively" pairs, then the segments that are not blocked (with what is left)."""
    used_nums: set[int] | frozenset[int] = _NONE
    used_refs: set[int] | frozenset[int] = _NONE
    if text is None or any(p in text for p in lx.RESPECTIVE_PREFIXES):
        pairs, used_nums, used_refs = resolve_respectively(toks, lo, hi, refs, nums)
        for n, r in pairs:
            emit(out, make([n], r, sentence, None))
    pending: list[Segment] = []
    for seg in build_segments(toks, lo, hi, refs, nums, intercept, list_line):
        if seg.nums:
            seg.nums = [n for n in seg.nums if counted(n) and (not used_nums or id(n) not in used_nums)]
        if used_refs and seg.refs:
            seg.refs = [r for r in seg.refs if id(r) not in used_refs]
        if not seg.blocked:
            pending.append(seg)
    return pending


def _headline(pending: list[Segment]) -> None:
    """'Sumy: air defence shot down 3 drones': a place heading the sentence places it."""
    if not pending or not pending[0].colon_after or pending[0].nums:
        return
    head = pending[0]
    if len(head.refs) == 1 and head.refs[0].role == "none" and head.hi - head.lo <= 3:
        head.refs[0].role = "loc"


def _counted_before(seg: Segment, pending: list[Segment]) -> bool:
    return any(s.nums for s in pending if s.hi <= seg.lo)


def _parts(
    deferred: list[Segment],
    pending: list[Segment],
    out: SentenceReading,
    sentence: int,
    derived: int | None,
) -> None:
    """'including ...', 'one of them ...': a subset of a region figure is not added, but the
    parts of an overall figure ('30 drones, including 10 over Bryansk') are region rows."""
    for seg in deferred:
        before = [s.stmt for s in pending if s.hi <= seg.lo and s.stmt is not None]
        if before and isinstance(before[-1], Statement):
            continue  # part of a region's figure: already counted there
        loc = [r for r in seg.refs if r.role == "loc" and r.kind in ROW_KINDS]
        if seg.nums and loc:
            res = make(seg.nums, choose(loc, seg.nums[0]), sentence, derived)
            emit(out, res)
            seg.stmt = res


def _absorb_all(seg: Segment, prev: Segment | None) -> None:
    """'... seven more were destroyed, all of them over X': 'all' takes the figure before it."""
    if (
        seg.nums
        and all(n.vague_all for n in seg.nums)
        and prev is not None
        and prev.nums
        and not prev.done
        and not any(r.role == "loc" for r in prev.refs)
    ):
        seg.nums = prev.nums
        prev.nums = []
        prev.done = True


def _dash_tail(toks: list[Token], seg: Segment, loc: list[PlaceRef]) -> bool:
    """'... 12 drones over the territories of the Belgorod region — 6': the place and the
    figure after its dash are one item; the figures before it are left for the orphans."""
    if len(seg.nums) < 2 or len(loc) != 1:
        return False
    tail, ref = seg.nums[-1], loc[0]
    k = ref.end
    while k < tail.tok - 1 and toks[k].text in REGION_NOUNS:
        k += 1
    return tail.tok == k + 1 and toks[k].text in _ITEM_DASHES and not tail.each


_ITEM_DASHES = frozenset(["—", "-"])


def _pair_in_segments(
    toks: list[Token], pending: list[Segment], out: SentenceReading, sentence: int, derived: int | None
) -> None:
    """Pair counts with locative places inside each segment."""
    for i, seg in enumerate(pending):
        if not seg.nums:
            continue  # nothing to pair (and nothing for "all" to take)
        if i > 0:
            _absorb_all(seg, pending[i - 1])
        if seg.done or not seg.refs:
            continue
        loc = [r for r in seg.refs if r.role == "loc"] or [
            r for r in seg.refs if r.role == "none" and r.kind in ROW_KINDS
        ]
        if not loc:
            continue
        if _dash_tail(toks, seg, loc):
            res = make(seg.nums[-1:], loc[0], sentence, derived)
            emit(out, res)
            seg.stmt = res
            seg.nums = seg.nums[:-1]
            seg.refs = []
            continue  # the figures before the item are left for the orphans (a total)
        if len(seg.nums) == len(loc) > 1:
            chunks = [([n], g) for n, g in zip(seg.nums, loc, strict=True)]
        else:
            chunks = [(seg.nums, choose(loc, seg.nums[0]))]
        for cnums, group in chunks:
            res = make(cnums, group, sentence, derived)
            if isinstance(res, Statement) and seg.total_word:
                res.running = True
            emit(out, res)
            seg.stmt = res
        seg.done = True


_BREAKDOWN = (
    ("из", "них"),
    ("з", "них"),
    ("of", "them"),
    ("of", "which"),
    ("в", "том"),
    ("including",),
    (":",),
    ("зокрема",),
    ("серед", "них"),
)


_BREAKDOWN_FIRST = frozenset(m[0] for m in _BREAKDOWN)


def _marked(toks: list[Token], lo: int, hi: int) -> bool:
    """A breakdown marker ('из них', 'of them', 'including') between two positions."""
    n = len(toks)
    for k in range(max(lo, 0), min(hi, n)):
        if toks[k].text not in _BREAKDOWN_FIRST:
            continue
        for m in _BREAKDOWN:
            if k + len(m) <= n and all(toks[k + d].text == w for d, w in enumerate(m)):
                return True
    return False


def _drop_breakdowns(sts: list[Statement], out: SentenceReading, toks: list[Token]) -> list[Statement]:
    """A figure followed by its breakdown in the same sentence.

    'seven over the region, five in X district and two near Y' keeps the seven only;
    '18 over the region, of them 11 over A, 4 over B and 3 over C' makes the 18 a total.
    """
    keep: list[Statement] = []
    skip: set[int] = set()
    for i, st in enumerate(sts):
        if i in skip:
            continue
        parts = [j for j in range(i + 1, len(sts)) if sts[j].count is not None and not sts[j].increment]
        total = sum(sts[j].count or 0 for j in parts)
        same = bool(parts) and all(set(sts[j].codes) == set(st.codes) for j in parts)
        listed = bool(parts) and _marked(toks, st.pos + 1, sts[parts[0]].pos)
        if same and st.count is not None and listed and total <= st.count:
            keep.append(st)  # 'four over X: two in A district, two in B' (B not in the gazetteer)
            skip.update(parts)
            continue
        if (
            st.count is not None
            and len(set(st.codes)) > 1
            and len(parts) >= 2
            and total == st.count
            and all(set(sts[j].codes) <= set(st.codes) for j in parts)
            and _marked(toks, st.pos + 1, sts[parts[0]].pos)
        ):
            # 'nine over the Tula and Ryazan regions: seven over Tula and two over Ryazan'
            out.totals.append(Total(st.count, st.sentence, st.approx, st.lower))
            continue
        if st.count is None or len(set(st.codes)) != 1 or not parts or total != st.count:
            keep.append(st)
            continue
        if same:
            keep.append(st)
            skip.update(parts)
        elif len(parts) >= 2 and not st.increment and _marked(toks, st.pos + 2, sts[parts[0]].pos):
            out.totals.append(Total(st.count, st.sentence, st.approx, st.lower))
        else:
            keep.append(st)
    return keep


_OFFICIALS = frozenset(lx.words("governor губернатор губернатора глава главы мэр мэра голова голови"))


def _official_region(toks: list[Token], lo: int, refs: list[PlaceRef], out: SentenceReading) -> None:
    """'Глава Чувашии сообщил, что ...: сбиты три дрона': a claim that names no place of
    interception belongs to the region of the one official who makes it (rule 20)."""
    if any(r.role == "loc" for r in refs) or len(out.totals) != 1:
        return
    spk = {c for r in refs if r.role == "spk" and r.kind in ROW_KINDS for c in r.codes}
    heads = [r for r in refs if r.role == "spk" and r.tok > lo and toks[r.tok - 1].text in _OFFICIALS]
    if len(spk) != 1 or not heads or heads[0].tok - lo > 3:
        return
    tot = out.totals[0]
    if tot.value is None or tot.increment or tot.scope != "none":
        return
    out.totals = []
    out.statements.append(Statement([heads[0].codes[0]], tot.value, tot.sentence, tot.approx, tot.lower))


def _breakdown_of(
    toks: list[Token], lo: int, hi: int, prior: Statement, sts: list[Statement], sentence: int
) -> bool:
    """A sentence opening with 'из них' / 'of them' that only splits the previous sentence's
    one-region figure into its towns and districts (a subset: rule 7)."""
    if prior.sentence != sentence - 1 or prior.count is None or len(set(prior.codes)) != 1:
        return False
    if not _marked(toks, lo, min(hi, lo + 1)):
        return False
    counts = [st.count or 0 for st in sts]
    return all(st.codes == prior.codes[:1] * len(st.codes) for st in sts) and sum(counts) <= prior.count


def _last_value(nums: list[Num]) -> int | None:
    vals = [n.value for n in nums if n.value is not None and not n.drop]
    return vals[-1] if vals else None


_LAUNCH_ATTACK = lx.LAUNCH_PREFIXES + lx.ATTACK_PREFIXES


_LAUNCHY: dict[str, bool] = {}


def launch_figures(toks: list[Token], nums: list[Num], lo: int) -> list[int]:
    """A number after 'launched/attacked' in the same sentence (from token ``lo``) is launched."""
    cache = _LAUNCHY
    for n in nums:
        if n.drop or n.value is None:
            continue
        for j in range(max(lo, n.tok - 8), n.tok):
            w = toks[j].text
            hit = cache.get(w)
            if hit is None:
                hit = w.startswith(_LAUNCH_ATTACK)
                if len(cache) < 65536:
                    cache[w] = hit
            if hit:
                return [n.value]
    return []
