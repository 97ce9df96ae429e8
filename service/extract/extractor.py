"""``extract_report``: report text in, :class:`ExtractionResult` out.

Pure and deterministic: the only I/O is loading the checked-in gazetteer once. The work is
linear in the text: one normalisation pass, one tokenizer pass, one automaton pass, then a
bounded amount of work per sentence (long sentences are cut into chunks).
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from datetime import date

from service.extract.classify import mixed_sides, reporting_side, weapon_of
from service.extract.combine import Combined, combine, parts_sum
from service.extract.gazetteer import load
from service.extract.numbers import Num, read_numbers
from service.extract.numbers import weapon_of as weapon_of_word
from service.extract.periods import assumed_night, find_period
from service.extract.places import PlaceRef, Resolver, mention_tokens
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
    toks = tokenize(norm)
    mentions = mention_tokens(toks, gz.find(norm))
    infos = analyse_sentences(norm, toks, mentions)
    starts = [s for s, _, _ in mentions]
    resolver = Resolver(lambda: capital_of(norm, mentions, lang))
    verbs = intercepts(toks, norm)
    any_verb = bool(verbs)
    statements: list[Statement] = []
    totals: list[Total] = []
    launched: list[int] = []
    weapons: list[str] = []
    models: list[str] = []
    evidence: dict[int, str] = {}
    spans: list[tuple[int, int]] = []
    carry = False
    for si, info in enumerate(infos):
        lo, hi = info.lo, info.hi
        a, b = bisect_left(starts, lo), bisect_left(starts, hi)
        sverbs = verbs[bisect_left(verbs, lo) : bisect_left(verbs, hi)]
        listy = ((info.list_line or info.total_word) and any_verb) or carry
        if info.skip or not (sverbs or listy):
            # Nothing to count here: remember the places for anaphora, note launch figures.
            for _, _, m in mentions[a:b]:
                resolver.note(m.place, city=m.place.kind == "city")
            if info.has_num and not info.skip:
                launched.extend(launch_figures(toks, read_numbers(toks, lo, hi)))
            carry = False
            continue
        refs = sentence_refs(toks, lo, hi, mentions[a:b], resolver)
        nums = [n for n in read_numbers(toks, lo, hi) if not _inside(n, refs)]
        reading = read_sentence(
            toks,
            lo,
            hi,
            si,
            refs,
            nums,
            intercept=sverbs,
            list_line=listy,
            prior=statements[-1] if statements else None,
        )
        carry = bool(sverbs) and bool(reading.statements or reading.totals)
        for st in reading.statements:
            st.conflict = info.conflict
        if reading.statements or reading.totals:
            evidence[si] = text[toks[lo].start : toks[hi - 1].end].strip()
            weapons.extend(_used_weapons(nums))
            spans.append((lo, hi))
        statements.extend(reading.statements)
        totals.extend(reading.totals)
        launched.extend(reading.launched)
        models.extend(reading.models)
    comb = combine(statements, totals)
    places = [m.place.code for _, _, m in mentions if m.place.kind in ("region", "city")]
    return _result(
        report_id,
        norm,
        lang,
        published,
        comb,
        evidence,
        infos,
        (weapons, _nouns(toks, spans) if "target" in weapons or not weapons else [], places),
        models,
        launched,
        warnings,
    )


def _inside(num: Num, refs: list[PlaceRef]) -> bool:
    return any(r.tok <= num.tok < r.end and not r.anaphor for r in refs)


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
) -> ExtractionResult:
    gz = load()
    weapons, context, places = kinds
    codes = list(comb.rows)
    side = reporting_side(norm, codes, places, lang)
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
        find_period([i.text for i in infos], published, zone) if _CLOCK_HINT.search(norm) else (None, None)
    )
    assumed = False
    overnight = any(k in norm for k in _OVERNIGHT)
    if start is None and published is not None and (rows or total is not None) and overnight:
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


_CLOCK_HINT = re.compile(r"\d[:.]\d\d|\d\s?[ap]\.?\s?m\b|\d\s?(?:gmt|utc)\b")
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
