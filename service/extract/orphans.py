"""Leftovers of a sentence: counts without a place in their segment, places without a count.

A count pairs with a place in a neighbouring segment ("Over the Kharkiv region, 11 drones
..."); a typed count joined by "and" to a statement is another weapon of that statement
("four missiles and six drones over Crimea"); an increment or running total continues the
statement before it; a speaker's region takes a count that has no place; what is left is a
figure for the whole event (a total). A place after an interception verb with no number at
all gets a null row.
"""

from __future__ import annotations

from service.extract.numbers import Num
from service.extract.segments import Segment
from service.extract.statements import (
    ROW_KINDS,
    SentenceReading,
    Statement,
    Total,
    choose,
    emit,
    make,
    weapon_parts,
)


def link_orphans(
    segs: list[Segment],
    out: SentenceReading,
    sentence: int,
    derived: int | None,
    prior: Statement | None,
) -> None:
    """Pair leftovers across neighbouring segments; the rest become totals or null rows."""
    _pair_neighbours(segs, out, sentence, derived)
    for k, seg in enumerate(segs):
        if seg.done or not seg.nums or all(n.vague_all for n in seg.nums):
            continue
        nxt = segs[k + 1] if k + 1 < len(segs) else None
        prv = segs[k - 1] if k > 0 else None
        seg.done = (
            _merge_weapon(seg, nxt, prv)
            or _each_of_group(segs, k)
            or _continue(segs, k, out, sentence, prior)
            or _speaker(seg, out, sentence, derived)
            or _total(seg, nxt, prv, out, sentence)
        )
    for seg in segs:
        if seg.done or seg.had_nums or not seg.verb or seg.other_arms:
            continue
        for r in seg.refs:
            if r.role == "loc" and r.kind in ROW_KINDS:
                out.statements.append(Statement(list(r.codes), None, sentence))


def _pair_neighbours(segs: list[Segment], out: SentenceReading, sentence: int, derived: int | None) -> None:
    for k, seg in enumerate(segs):
        if seg.done or not seg.nums:
            continue
        for other in (_neighbour(segs, k, -1), _neighbour(segs, k, 1)):
            if other is None or other.done or other.nums:
                continue
            loc = [r for r in other.refs if r.role == "loc"]
            if not loc and seg.hi - seg.lo <= 2:
                # "Bryansk (12), Kursk (5)" / "Bryansk region: 5": a bare figure next to a name
                loc = [r for r in other.refs if r.role == "none" and r.kind in ROW_KINDS]
            if loc:
                res = make(seg.nums, choose(loc, seg.nums[0]), sentence, derived)
                emit(out, res)
                seg.stmt = other.stmt = res
                seg.done = other.done = True
                break


def _merge_weapon(seg: Segment, nxt: Segment | None, prv: Segment | None) -> bool:
    """'four ATACMS missiles and six drones over Crimea': one statement, two weapons."""
    if not all(n.weapon for n in seg.nums):
        return False
    kinds = {n.weapon for n in seg.nums if n.weapon}
    for cand, joined in ((nxt, seg.joined_next), (prv, seg.joined_prev)):
        if joined and cand is not None and isinstance(cand.stmt, Statement):
            if not any(n.weapon for n in cand.nums) and kinds:
                return False  # 'five drones [somewhere] and three over X': parallel items
            _merge_into(cand.stmt, seg.nums)
            return True
    return False


def _each_of_group(segs: list[Segment], k: int) -> bool:
    """'14 over the Kherson and Zaporizhzhia regions, seven over each': distribute the group."""
    first = segs[k].nums[0]
    if not first.each or first.value is None:
        return False
    earlier = [s.stmt for s in segs[:k] if isinstance(s.stmt, Statement)]
    if not earlier or len(set(earlier[-1].codes)) < 2:
        return False
    group = earlier[-1]
    group.count, group.each, group.approx = first.value, True, first.approx
    return True


def _continue(
    segs: list[Segment], k: int, out: SentenceReading, sentence: int, prior: Statement | None
) -> bool:
    """'... а з 02:00 до 06:00 — ще 3', 'це вже восьмий': continue the statement before."""
    seg = segs[k]
    first = seg.nums[0]
    earlier = [s.stmt for s in segs[:k] if isinstance(s.stmt, Statement)]
    later = [s.stmt for s in segs[k + 1 :] if isinstance(s.stmt, Statement)]
    anchor = earlier[-1] if earlier else (prior if first.running or not later else None)
    if anchor is None or not (first.running or (first.increment and not seg.colon_after)):
        return False
    out.statements.append(
        Statement(
            list(anchor.codes[:1]),
            first.value,
            sentence,
            approx=first.approx,
            lower=first.lower,
            running=first.running,
            increment=first.increment,
            by_weapon=weapon_parts(seg.nums),
        )
    )
    return True


def _speaker(seg: Segment, out: SentenceReading, sentence: int, derived: int | None) -> bool:
    """'его новгородский коллега — об одном сбитом дроне': the speaker's region."""
    spk = [r for r in seg.refs if r.role in ("spk", "none") and r.kind in ROW_KINDS]
    used = {c for st in out.statements for c in st.codes}
    if not spk or len({c for r in spk for c in r.codes} - used) != 1:
        return False
    spk = [r for r in spk if r.codes[0] not in used]
    emit(out, make(seg.nums, spk[0], sentence, derived))
    return True


def _total(
    seg: Segment, nxt: Segment | None, prv: Segment | None, out: SentenceReading, sentence: int
) -> bool:
    """A count claimed for no region: a total of the event (or nothing, if about a target)."""
    if any(r.role == "tgt" for r in seg.refs):
        return True
    typed = all(n.weapon for n in seg.nums)
    verb_near = (seg.joined_next and nxt is not None and nxt.verb) or (
        seg.joined_prev and prv is not None and (prv.verb or isinstance(prv.stmt, Total))
    )
    clause_verb = typed and any(s is not None and s.verb and not s.nums for s in (nxt, prv))
    if not (seg.verb or seg.total_word or verb_near or clause_verb):
        return False
    for n in seg.nums:
        tot = Total(n.value, sentence, n.approx, n.lower, n.increment or n.running, n.weapon)
        out.totals.append(tot)
        seg.stmt = tot
    return True


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
