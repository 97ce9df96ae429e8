"""Combining statements of a report into per-region rows, groups and the claimed total.

Rules (PATTERNS.md 3, 4, 8, 10): several statements about one region are summed; a stated
running total replaces its increments; the same figure restated in another sentence counts
once; a figure shared by several regions without "each" is a group whose regions get null
rows, split only when the stated total forces N x k.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service.extract.reader import Statement, Total


@dataclass(slots=True)
class Row:
    """Accumulated count of one region."""

    code: str
    count: int | None = None
    approx: bool = False
    lower: bool = False
    by_weapon: dict[str, int | None] = field(default_factory=dict)
    sentences: list[int] = field(default_factory=list)
    statements: int = 0
    running: bool = False
    last: int | None = None


@dataclass(slots=True)
class GroupAcc:
    """A figure shared by several regions."""

    codes: list[str]
    count: int | None
    sentence: int
    split: bool = False


@dataclass(slots=True)
class Combined:
    """Rows in first-mention order, groups, and the claimed total."""

    rows: dict[str, Row] = field(default_factory=dict)
    groups: list[GroupAcc] = field(default_factory=list)
    total: int | None = None
    total_approx: bool = False


def _add(row: Row, st: Statement, count: int | None) -> None:
    row.sentences.append(st.sentence)
    if count is None:
        return
    if st.running:
        if row.count is None or count >= row.count:
            row.count = count
        row.running = True
        row.statements = 1
    elif row.last == count and not st.increment and row.sentences[:-1] and row.sentences[-2] != st.sentence:
        return  # the same figure restated (lead and quote): counted once
    elif st.conflict and row.count is not None:
        return
    else:
        row.count = count if row.count is None else row.count + count
        row.statements += st.nparts
        row.running = False
    row.last = count
    row.approx = row.approx or st.approx
    row.lower = row.lower or st.lower
    for k, v in st.by_weapon.items():
        old = row.by_weapon.get(k)
        row.by_weapon[k] = None if v is None else (old or 0) + v


def combine(statements: list[Statement], totals: list[Total]) -> Combined:
    """Merge statements into rows/groups and decide the claimed total."""
    out = Combined()
    for st in statements:
        distinct = list(dict.fromkeys(st.codes))
        if st.each:
            for code in st.codes:
                _add(out.rows.setdefault(code, Row(code)), st, st.count)
        elif len(distinct) == 1:
            _add(out.rows.setdefault(distinct[0], Row(code=distinct[0])), st, st.count)
        else:
            if st.count is not None:
                out.groups.append(GroupAcc(distinct, st.count, st.sentence))
            for code in distinct:
                row = out.rows.setdefault(code, Row(code))
                row.sentences.append(st.sentence)
    out.total, out.total_approx = _claimed_total(out, statements, totals)
    _resolve_groups(out)
    return out


def _claimed_total(
    out: Combined, statements: list[Statement], totals: list[Total]
) -> tuple[int | None, bool]:
    """Rule 10: an overall figure when stated, else the figure of a one-statement report."""
    cands = [t for t in totals if (t.value is not None or t.lower) and not t.increment]
    if cands:
        return _stated_total(cands, totals)
    if any(t.increment for t in totals):
        return None, False  # only increments/windows: the reader would have to add them up
    return _single_figure(out)


def _stated_total(cands: list[Total], totals: list[Total]) -> tuple[int | None, bool]:
    first = cands[0].sentence
    if any(t.increment and t.sentence > first for t in totals):
        return None, False
    same = [t for t in cands if t.sentence == first]
    same = [t for t in same if t.scope != "direction"] or same
    if any(t.lower or t.value is None for t in same):
        return None, False
    values = [t.value for t in same if t.value is not None]
    return sum(values), any(t.approx for t in same)


def _single_figure(out: Combined) -> tuple[int | None, bool]:
    counted = [r for r in out.rows.values() if r.count is not None]
    if out.groups:
        if len(out.groups) == 1 and not counted:
            return out.groups[0].count, False
        return None, False
    if len(counted) == 1 and len(out.rows) == 1:
        row = counted[0]
        if (row.statements == 1 or row.running) and not row.lower:
            return row.count, row.approx
    return None, False


def _resolve_groups(out: Combined) -> None:
    """Split a group when the stated total leaves exactly N x k for it (rule 4)."""
    if out.total is None or len(out.groups) != 1:
        return
    group = out.groups[0]
    if group.count is None:
        return
    others = sum(r.count for r in out.rows.values() if r.count is not None)
    if out.total - others == group.count * len(group.codes) and len(group.codes) > 1:
        group.split = True
        for code in group.codes:
            out.rows[code].count = group.count


def parts_sum(out: Combined) -> int:
    """Sum of region counts plus counts of groups that were not split."""
    rows = sum(r.count for r in out.rows.values() if r.count is not None)
    return rows + sum(g.count or 0 for g in out.groups if not g.split)
