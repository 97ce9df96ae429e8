"""Sentence reading: turn one sentence into interception statements and total candidates.

A sentence is cut into *segments* at commas, semicolons, colons, brackets and clause
conjunctions, but never inside a list of places ("the Tula and Kaluga regions") or a
"respectively" run of numbers. Inside a segment a count pairs with a place that carries a
locative preposition; leftovers pair across neighbouring segments ("Over the Kharkiv region,
11 drones ..."). Segments about damage, debris, launches, targets or negations are blocked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service.extract import lexicon as lx
from service.extract.numbers import Num
from service.extract.places import PlaceRef
from service.extract.segments import Segment, build_segments, resolve_respectively
from service.extract.text import Token

ROW_KINDS = frozenset({"region", "city", "sea", "country"})


@dataclass(slots=True)
class Statement:
    """A claim of interceptions over one place (or a list of places) in one sentence."""

    codes: list[str]
    count: int | None
    sentence: int
    approx: bool = False
    lower: bool = False
    each: bool = False
    running: bool = False
    increment: bool = False
    by_weapon: dict[str, int | None] = field(default_factory=dict)
    local_source: bool = False
    conflict: bool = False
    nparts: int = 1


@dataclass(slots=True)
class Total:
    """A figure claimed for the whole event (no region attached)."""

    value: int | None
    sentence: int
    approx: bool = False
    lower: bool = False
    increment: bool = False
    weapon: str | None = None


@dataclass(slots=True)
class SentenceReading:
    """Everything one sentence contributes."""

    statements: list[Statement] = field(default_factory=list)
    totals: list[Total] = field(default_factory=list)
    launched: list[int] = field(default_factory=list)
    weapons: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


def _counted(num: Num) -> bool:
    return not num.drop and not num.launched and (
        num.weapon is None or num.weapon in lx.WEAPON_TYPES_COUNTED
    )


def _weapon_parts(nums: list[Num]) -> dict[str, int | None]:
    parts: dict[str, int | None] = {}
    for n in nums:
        kind = n.weapon if n.weapon in ("drone", "missile") else None
        if kind is None:
            continue
        old = parts.get(kind)
        parts[kind] = None if n.value is None else (old or 0) + n.value
    return parts


def _make(
    nums: list[Num], group: PlaceRef, sentence: int, derived: int | None
) -> Statement | Total:
    values = [n.value for n in nums]
    count: int | None = None if any(v is None for v in values) else sum(v or 0 for v in values)
    if count is None and derived is not None and all(n.vague_all for n in nums):
        count = derived
    first = nums[0]
    approx = any(n.approx for n in nums)
    lower = any(n.lower for n in nums)
    if group.kind not in ROW_KINDS:
        return Total(count, sentence, approx, lower, any(n.increment for n in nums),
                     first.weapon)
    st = Statement(
        list(group.codes), count, sentence, approx, lower, first.each,
        any(n.running for n in nums), any(n.increment for n in nums), _weapon_parts(nums),
    )
    st.nparts = len(nums)
    return st


def read_sentence(
    toks: list[Token], lo: int, hi: int, sentence: int, refs: list[PlaceRef], nums: list[Num],
    *, intercept: list[int], list_line: bool, prior: Statement | None,
) -> SentenceReading:
    """Read one sentence (tokens [lo, hi)) given its place refs, numbers and verb positions."""
    out = SentenceReading()
    for n in nums:
        if n.weapon and not n.drop:
            out.weapons.append(n.weapon)
        out.models.extend(n.models)
        if n.launched and n.value:
            out.launched.append(n.value)
    if not intercept and not list_line:
        _launch_figures(toks, nums, out)
        return out
    pairs, used_nums, used_refs = resolve_respectively(toks, lo, hi, refs, nums)
    for n, r in pairs:
        _emit(out, _make([n], r, sentence, None))
    segments = build_segments(toks, lo, hi, refs, nums, intercept, list_line)
    derived = _last_value(nums)
    last_st: Statement | None = None
    pending: list[Segment] = []
    for seg in segments:
        seg.nums = [n for n in seg.nums if id(n) not in used_nums and _counted(n)]
        seg.refs = [r for r in seg.refs if id(r) not in used_refs]
        if seg.blocked:
            continue
        if seg.subset or (seg.nums and seg.nums[0].of_them and last_st is not None):
            continue
        pending.append(seg)
    i = 0
    while i < len(pending):
        seg = pending[i]
        prev_seg = pending[i - 1] if i > 0 else None
        if (
            seg.nums and all(n.vague_all for n in seg.nums) and prev_seg is not None
            and prev_seg.nums and not prev_seg.done
            and not any(r.role == "loc" for r in prev_seg.refs)
        ):
            seg.nums = prev_seg.nums
            prev_seg.nums = []
            prev_seg.done = True
        loc = [r for r in seg.refs if r.role == "loc"] or [
            r for r in seg.refs if r.role == "none" and r.kind in ROW_KINDS
        ]
        if seg.nums and loc:
            if len(seg.nums) == len(loc) > 1:
                chunks = [([n], g) for n, g in zip(seg.nums, loc, strict=True)]
            else:
                chunks = [(seg.nums, _choose(loc, seg.nums[0]))]
            for cnums, group in chunks:
                res = _make(cnums, group, sentence, derived)
                _emit(out, res)
                seg.stmt = res
                if isinstance(res, Statement):
                    last_st = res
            seg.done = True
        i += 1
    _link_orphans(pending, out, sentence, derived, prior)
    return out


def _emit(out: SentenceReading, res: Statement | Total) -> None:
    if isinstance(res, Statement):
        out.statements.append(res)
    else:
        out.totals.append(res)


def _choose(groups: list[PlaceRef], num: Num) -> PlaceRef:
    rows = [g for g in groups if g.kind in ROW_KINDS]
    pool = rows or groups
    return min(pool, key=lambda g: abs(g.tok - num.tok))


def _last_value(nums: list[Num]) -> int | None:
    vals = [n.value for n in nums if n.value is not None and not n.drop]
    return vals[-1] if vals else None


def _link_orphans(
    segs: list[Segment], out: SentenceReading, sentence: int, derived: int | None,
    prior: Statement | None,
) -> None:
    """Pair leftovers across neighbouring segments; the rest become totals or null rows."""
    for k, seg in enumerate(segs):
        if seg.done or not seg.nums:
            continue
        for other in (_neighbour(segs, k, -1), _neighbour(segs, k, 1)):
            if other is None or other.done or other.nums:
                continue
            loc = [r for r in other.refs if r.role in ("loc",)]
            if loc:
                res = _make(seg.nums, _choose(loc, seg.nums[0]), sentence, derived)
                _emit(out, res)
                seg.stmt = other.stmt = res
                seg.done = other.done = True
                break
    for k, seg in enumerate(segs):
        if seg.done or not seg.nums:
            continue
        nxt = segs[k + 1] if k + 1 < len(segs) else None
        prv = segs[k - 1] if k > 0 else None
        nums = seg.nums
        typed = all(n.weapon for n in nums)
        for cand, joined in ((nxt, seg.joined_next), (prv, seg.joined_prev)):
            if typed and joined and cand is not None and isinstance(cand.stmt, Statement):
                _merge_into(cand.stmt, nums)
                seg.done = True
                break
        if seg.done:
            continue
        first = nums[0]
        earlier = [s.stmt for s in segs[:k] if isinstance(s.stmt, Statement)]
        anchor = earlier[-1] if earlier else (prior if first.running else None)
        if (first.running or (first.increment and not seg.colon_after)) and anchor is not None:
            st = Statement(list(anchor.codes[:1]), first.value, sentence, first.approx,
                           first.lower, False, first.running, first.increment,
                           _weapon_parts(nums))
            out.statements.append(st)
            seg.done = True
            continue
        spk = [r for r in seg.refs if r.role in ("spk", "none") and r.kind in ROW_KINDS]
        used = {c for st in out.statements for c in st.codes}
        if spk and len({c for r in spk for c in r.codes} - used) == 1:
            spk = [r for r in spk if r.codes[0] not in used]
            _emit(out, _make(nums, spk[0], sentence, derived))
            seg.done = True
            continue
        verb_near = (seg.joined_next and nxt is not None and nxt.verb) or (
            seg.joined_prev and prv is not None and (prv.verb or isinstance(prv.stmt, Total))
        )
        if seg.verb or seg.total_word or verb_near:
            for n in nums:
                tot = Total(n.value, sentence, n.approx, n.lower, n.increment or n.running,
                            n.weapon)
                out.totals.append(tot)
                seg.stmt = tot
            seg.done = True
    for seg in segs:
        if seg.done or seg.nums or not seg.verb:
            continue
        for r in seg.refs:
            if r.role == "loc" and r.kind in ROW_KINDS:
                out.statements.append(Statement(list(r.codes), None, sentence))


def _neighbour(segs: list[Segment], k: int, step: int) -> Segment | None:
    """The nearest segment in one direction, skipping empty asides ("по данным властей")."""
    j = k + step
    while 0 <= j < len(segs):
        if segs[j].nums or segs[j].refs or segs[j].verb:
            return segs[j]
        j += step
        if abs(j - k) > 2:
            break
    return None


def _merge_into(st: Statement, nums: list[Num]) -> None:
    for n in nums:
        st.count = None if st.count is None or n.value is None else st.count + n.value
        st.nparts += 1
        kind = n.weapon if n.weapon in ("drone", "missile") else None
        if kind:
            old = st.by_weapon.get(kind)
            st.by_weapon[kind] = None if n.value is None else (old or 0) + n.value
        st.approx = st.approx or n.approx


def _launch_figures(toks: list[Token], nums: list[Num], out: SentenceReading) -> None:
    """In a sentence without interception verbs, a number after 'launched/attacked' is launched."""
    for n in nums:
        if n.drop or n.value is None:
            continue
        before = [toks[j].text for j in range(max(0, n.tok - 8), n.tok)]
        if any(w.startswith(lx.LAUNCH_PREFIXES + lx.ATTACK_PREFIXES) for w in before):
            out.launched.append(n.value)
            return
