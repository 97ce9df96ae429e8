"""Statements and totals: what a sentence claims, and how counts become them.

A :class:`Statement` ties a count (or a null count) to one place or a list of places; a
:class:`Total` is a figure for the whole event (no region). ``make`` builds one from the
counts and the place list a segment pairs them with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service.extract import lexicon as lx
from service.extract.numbers import Num
from service.extract.places import PlaceRef

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
    pos: int = -1


@dataclass(slots=True)
class Total:
    """A figure claimed for the whole event (no region attached)."""

    value: int | None
    sentence: int
    approx: bool = False
    lower: bool = False
    increment: bool = False
    weapon: str | None = None
    scope: str = "none"


@dataclass(slots=True)
class SentenceReading:
    """Everything one sentence contributes."""

    statements: list[Statement] = field(default_factory=list)
    totals: list[Total] = field(default_factory=list)
    launched: list[int] = field(default_factory=list)
    weapons: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


def counted(num: Num) -> bool:
    return not num.drop and not num.launched and (num.weapon is None or num.weapon in lx.WEAPON_TYPES_COUNTED)


def weapon_parts(nums: list[Num]) -> dict[str, int | None]:
    parts: dict[str, int | None] = {}
    for n in nums:
        kind = n.weapon if n.weapon in ("drone", "missile") else None
        if kind is None:
            continue
        old = parts.get(kind)
        parts[kind] = None if n.value is None else (old or 0) + n.value
    return parts


def make(nums: list[Num], group: PlaceRef, sentence: int, derived: int | None) -> Statement | Total:
    first = nums[0]
    if len(nums) == 1:  # the usual case, without the generator expressions
        count = first.value
        if count is None and derived is not None and first.vague_all:
            count = derived
        approx, lower, running, increment = first.approx, first.lower, first.running, first.increment
    else:
        values = [n.value for n in nums]
        count = None if any(v is None for v in values) else sum(v or 0 for v in values)
        if count is None and derived is not None and all(n.vague_all for n in nums):
            count = derived
        approx = any(n.approx for n in nums)
        lower = any(n.lower for n in nums)
        running = any(n.running for n in nums)
        increment = any(n.increment for n in nums)
    if group.kind not in ROW_KINDS:
        return Total(count, sentence, approx, lower, increment, first.weapon, group.kind)
    st = Statement(
        list(group.codes),
        count,
        sentence,
        approx,
        lower,
        first.each or group.each_of,
        running,
        increment,
        weapon_parts(nums),
    )
    st.nparts = len(nums)
    st.pos = first.tok
    return st


def emit(out: SentenceReading, res: Statement | Total) -> None:
    if isinstance(res, Statement):
        out.statements.append(res)
    else:
        out.totals.append(res)


def choose(groups: list[PlaceRef], num: Num) -> PlaceRef:
    rows = [g for g in groups if g.kind in ROW_KINDS]
    pool = rows or groups
    return min(pool, key=lambda g: abs(g.tok - num.tok))
