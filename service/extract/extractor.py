"""``extract_report``: report text in, :class:`ExtractionResult` out.

Pure and deterministic: the only I/O is loading the checked-in gazetteer once. The work is
linear in the text: one normalisation pass, one tokenizer pass, one automaton pass, then a
bounded amount of work per sentence (long sentences are cut into chunks).
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date

from service.extract.classify import mixed_sides, reporting_side, weapon_of
from service.extract.combine import Combined, combine, parts_sum
from service.extract.gazetteer import Mention, load
from service.extract.numbers import Num, read_numbers
from service.extract.numbers import weapon_of as weapon_of_word
from service.extract.periods import assumed_night, find_period
from service.extract.places import PlaceRef, Resolver, mention_tokens
from service.extract.prefilter import Prefiltered, prefilter
from service.extract.reader import Statement, Total, launch_figures, read_sentence
from service.extract.refs import sentence_refs
from service.extract.sentence import SentenceInfo, analyse_sentences, capital_of, intercepts
from service.extract.text import Token, detect_language, normalise, tokenize
from service.models import ExtractionResult, Group, Interception

MAX_CHARS = 2_000_000
_OVERNIGHT = (
    "overnight",
    "ночью",
    "вночі",
    "уночі",
    "за ніч",
    "за ночь",
    "в ночь",
    "у ніч",
    "during the night",
    "протягом ночі",
    "night to",
)


def extract_report(
    text: str,
    *,
    report_id: str,
    published: date | None = None,
    language: str | None = None,
) -> ExtractionResult:
    """Read one report into a structured result; never raises on any str input."""
    try:
        return _extract(text, report_id, published, language)
    except Exception as exc:  # noqa: BLE001 - the stream must never die on one odd report
        return ExtractionResult(
            id=report_id, language=language, warnings=[f"extract_error:{type(exc).__name__}"]
        )


def _extract(text: str, report_id: str, published: date | None, language: str | None) -> ExtractionResult:
    warnings: list[str] = []
    if not isinstance(text, str):
        text = str(text)
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
        warnings.append("text_truncated")
    gz = load()
    norm = normalise(text)
    lang = language if language in ("en", "ru", "uk") else detect_language(norm)
    found = gz.find(norm)
    pre = prefilter(norm, found)
    toks = tokenize(norm, pre.spans)
    dropped = set(map(id, pre.dropped))
    mentions = mention_tokens(toks, [m for m in found if id(m) not in dropped])
    infos = analyse_sentences(norm, toks, mentions)
    resolver = Resolver(lambda: capital_of(norm, found, lang))
    acc = _Readings()
    _read_all(text, toks, infos, mentions, intercepts(toks, pre.verbs, infos), resolver, pre, acc)
    comb = combine(acc.statements, acc.totals)
    places = [m.place.code for m in found if m.place.kind in ("region", "city")]
    weapons = acc.weapons
    return _result(
        report_id,
        norm,
        lang,
        published,
        comb,
        acc.evidence,
        infos,
        (weapons, _nouns(toks, acc.spans) if "target" in weapons or not weapons else [], places),
        acc.models,
        acc.launched,
        warnings,
        pre,
    )


@dataclass(slots=True)
class _Readings:
    """What the sentences of a report contribute, accumulated in text order."""

    statements: list[Statement] = field(default_factory=list)
    totals: list[Total] = field(default_factory=list)
    launched: list[int] = field(default_factory=list)
    weapons: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    evidence: dict[int, str] = field(default_factory=dict)
    spans: list[tuple[int, int]] = field(default_factory=list)


def _read_all(
    text: str,
    toks: list[Token],
    infos: list[SentenceInfo],
    mentions: list[tuple[int, int, Mention]],
    verbs: list[int],
    resolver: Resolver,
    pre: Prefiltered,
    acc: _Readings,
) -> None:
    """Read every sentence in order; a sentence right after a claim may continue its list."""
    starts = [s for s, _, _ in mentions]
    any_verb = bool(verbs)
    carry = False
    skipped = _Skipped(pre.dropped, pre.gaps, resolver) if pre.dropped or pre.gaps else None
    for si, info in enumerate(infos):
        lo, hi = info.lo, info.hi
        if skipped is not None and skipped.before(toks[lo].start):
            carry = False  # a dropped sentence lies between: no list continues across it
        a, b = bisect_left(starts, lo), bisect_left(starts, hi)
        sverbs = verbs[bisect_left(verbs, lo) : bisect_left(verbs, hi)]
        listy = ((info.list_line or info.total_word) and any_verb) or carry
        if info.skip or not (sverbs or listy):
            # Nothing to count here: remember the places for anaphora, note launch figures.
            for _, _, m in mentions[a:b]:
                resolver.note(m.place, city=m.place.kind == "city")
            if info.has_num and not info.skip:
                acc.launched.extend(launch_figures(toks, read_numbers(toks, lo, hi), lo))
            carry = False
            continue
        refs = sentence_refs(toks, lo, hi, mentions[a:b], resolver)
        nums = read_numbers(toks, lo, hi)
        if refs and nums:
            nums = [n for n in nums if not _inside(n, refs)]
        elif not nums and not refs:
            carry = False  # no count and no place: the sentence cannot claim anything
            continue
        reading = read_sentence(
            toks,
            lo,
            hi,
            si,
            refs,
            nums,
            intercept=sverbs,
            list_line=listy,
            prior=acc.statements[-1] if acc.statements else None,
            text=info.text,
        )
        carry = bool(sverbs) and bool(reading.statements or reading.totals)
        for st in reading.statements:
            st.conflict = info.conflict
        if reading.statements or reading.totals:
            acc.evidence[si] = text[toks[lo].start : toks[hi - 1].end].strip()
            acc.weapons.extend(_used_weapons(nums))
            acc.spans.append((lo, hi))
        acc.statements.extend(reading.statements)
        acc.totals.extend(reading.totals)
        acc.launched.extend(reading.launched)
        acc.models.extend(reading.models)


class _Skipped:
    """The chunks the prefilter dropped, replayed in text order while sentences are read."""

    def __init__(self, mentions: list[Mention], gaps: list[int], resolver: Resolver) -> None:
        self._mentions = mentions
        self._gaps = gaps
        self._resolver = resolver
        self._m = 0
        self._g = 0

    def before(self, pos: int) -> bool:
        """Note the dropped places before ``pos``; True when a dropped sentence lies there."""
        ms = self._mentions
        while self._m < len(ms) and ms[self._m].start < pos:
            place = ms[self._m].place
            self._resolver.note(place, city=place.kind == "city")
            self._m += 1
        gap = False
        while self._g < len(self._gaps) and self._gaps[self._g] <= pos:
            gap = True
            self._g += 1
        return gap


def _inside(num: Num, refs: list[PlaceRef]) -> bool:
    tok = num.tok
    return any(r.tok <= tok < r.end and not r.anaphor for r in refs)


def _used_weapons(nums: list[Num]) -> list[str]:
    return [n.weapon for n in nums if n.weapon and not n.drop and not n.launched]


def _nouns(toks: list[Token], spans: list[tuple[int, int]]) -> list[str]:
    """Weapon types named anywhere in the sentences that carried counts."""
    out: list[str] = []
    for lo, hi in spans:
        for i in range(lo, hi):
            kind = weapon_of_word(toks[i].text)
            if kind is not None:
                out.append(kind)
    return out


def _result(
    report_id: str,
    norm: str,
    lang: str,
    published: date | None,
    comb: Combined,
    evidence: dict[int, str],
    infos: list[SentenceInfo],
    kinds: tuple[list[str], list[str], list[str]],
    models: list[str],
    launched: list[int],
    warnings: list[str],
    pre: Prefiltered,
) -> ExtractionResult:
    gz = load()
    weapons, context, places = kinds
    codes = list(comb.rows)
    side = reporting_side(norm, codes, places, lang, pre.third_country)
    mixed = mixed_sides(norm, codes)
    weapon = weapon_of(weapons, context) or weapon_of(context) or _default_weapon(norm)
    rows: list[Interception] = []
    for code, row in comb.rows.items():
        ev = evidence.get(row.sentences[0], "") if row.sentences else ""
        by_weapon = dict(row.by_weapon) if weapon in ("mixed", "missile") and row.by_weapon else None
        row_side = None
        if mixed:
            row_side = "RU" if code.startswith("RU-") else "UA"
        rows.append(
            Interception(
                region=gz.name_of(code),
                code=code,
                count=row.count,
                approx=row.approx,
                evidence=ev[:1000],
                by_weapon=by_weapon,
                reporting_side=row_side,
            )
        )
    groups = [
        Group(
            regions=[gz.name_of(c) for c in g.codes],
            codes=g.codes,
            count=g.count,
            evidence=evidence.get(g.sentence, "")[:1000],
        )
        for g in comb.groups
        if not g.split
    ]
    psum = parts_sum(comb)
    total = comb.total
    consistent = None if total is None else psum == total
    if total is not None and psum != total:
        warnings.append("parts_do_not_add_up")
    if groups:
        warnings.append("ambiguous_group")
    if mixed:
        warnings.append("mixed_sides")
    zone = _zone(norm, side)
    start, end = (
        find_period([i.text for i in infos], published, zone) if _has_clock(norm, pre) else (None, None)
    )
    assumed = False
    if (
        start is None
        and published is not None
        and (rows or total is not None)
        and any(k in norm for k in _OVERNIGHT)
    ):
        start, end = assumed_night(published, zone)
        assumed = True
        warnings.append("assumed_period")
    if not rows and total is None:
        warnings.append("no_interceptions")
    confidence = _confidence(rows, total, consistent, warnings, side)
    result = ExtractionResult(
        id=report_id,
        interceptions=rows,
        groups=groups,
        claimed_total=total,
        parts_sum=psum,
        consistent=consistent,
        weapon=weapon,
        weapon_models=sorted(set(models))[:20],
        reporting_side=side,
        period_start=start,
        period_end=end,
        period_assumed=assumed,
        launched=launched[0] if launched else None,
        confidence=confidence,
        warnings=warnings,
        language=lang,
        event_time=end or start,
        fingerprint=_fingerprint(rows, total, published),
    )
    return result


def _zone(norm: str, side: str | None) -> str:
    if "kyiv time" in norm or "київським часом" in norm or "киевскому времени" in norm:
        return "kyiv"
    if "moscow time" in norm or "мск" in norm or "московскому времени" in norm:
        return "msk"
    return "kyiv" if side == "UA" else "msk"


_CLOCK_HINT = re.compile(r"\d(?:[:.]\d\d|\s?[ap]\.?\s?m\b|\s?(?:gmt|utc)\b)")


def _has_clock(norm: str, pre: Prefiltered) -> bool:
    """A clock time anywhere in the text (long texts: only where the prefilter saw digits)."""
    if pre.digits is None:
        return _CLOCK_HINT.search(norm) is not None
    return any(_CLOCK_HINT.match(norm, p) for p in pre.digits)


_MISSILE_HINT = re.compile(r"missile|rocket|ракет")
_DRONE_HINT = re.compile(r"drone|uav|беспилот|безпілот|дрон|бпла|шахед|shahed")


def _default_weapon(norm: str) -> str:
    """Weapon when no counted figure names one: the first type the text mentions."""
    d = _DRONE_HINT.search(norm)
    m = _MISSILE_HINT.search(norm)
    if m and (d is None or m.start() < d.start()):
        return "missile"
    return "drone"


def _confidence(
    rows: list[Interception],
    total: int | None,
    consistent: bool | None,
    warnings: list[str],
    side: str | None,
) -> float:
    score = 0.85 if rows else (0.6 if total is not None else 0.5)
    if consistent:
        score += 0.1
    if "parts_do_not_add_up" in warnings:
        score -= 0.15
    if "ambiguous_group" in warnings:
        score -= 0.1
    if side is None:
        score -= 0.1
    if any(r.count is None for r in rows):
        score -= 0.05
    return round(min(0.99, max(0.05, score)), 2)


def _fingerprint(rows: list[Interception], total: int | None, published: date | None) -> str:
    key = "|".join(f"{r.code}:{r.count}" for r in sorted(rows, key=lambda r: r.code))
    raw = f"{published}|{total}|{key}"
    return hashlib.sha1(raw.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


__all__ = ["extract_report"]
