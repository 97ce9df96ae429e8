"""Scoring extraction results against a gold file (``skytally evaluate GOLD.jsonl``).

Metrics per language and overall:

* region F1: rows matched by canonical region name;
* region+count F1: a row matches only when the count is equal too (null == null);
* exact-report rate: the whole region -> count mapping of a report equals the gold one;
* claimed-total accuracy: ``claimed_total`` equal (null == null);
* clean-negative rate: of the reports with no gold rows, those that produce no rows.

Background, air-defence-activity and naval rows of the gold are don't-care: predicting
them is not penalised (and not required).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.extract.extractor import extract_report
from service.models import ExtractionResult


@dataclass(slots=True)
class Counts:
    """Raw tallies for one slice (a language or all)."""

    items: int = 0
    tp_region: int = 0
    fp_region: int = 0
    fn_region: int = 0
    tp_count: int = 0
    fp_count: int = 0
    fn_count: int = 0
    exact: int = 0
    total_ok: int = 0
    negatives: int = 0
    clean_negatives: int = 0

    @staticmethod
    def _f1(tp: int, fp: int, fn: int) -> float:
        if tp == 0:
            return 1.0 if fp == 0 and fn == 0 else 0.0
        return 2 * tp / (2 * tp + fp + fn)

    @property
    def region_f1(self) -> float:
        """F1 of regions regardless of count."""
        return self._f1(self.tp_region, self.fp_region, self.fn_region)

    @property
    def count_f1(self) -> float:
        """F1 of (region, count) pairs."""
        return self._f1(self.tp_count, self.fp_count, self.fn_count)

    @property
    def exact_rate(self) -> float:
        """Share of reports whose whole region->count mapping is right."""
        return self.exact / self.items if self.items else 1.0

    @property
    def total_accuracy(self) -> float:
        """Share of reports with the right claimed_total."""
        return self.total_ok / self.items if self.items else 1.0

    @property
    def clean_negative_rate(self) -> float:
        """Share of gold-empty reports that produce no rows."""
        return self.clean_negatives / self.negatives if self.negatives else 1.0


@dataclass(slots=True)
class Mismatch:
    """One report whose prediction differs from the gold."""

    id: str
    language: str
    gold: dict[str, int | None]
    predicted: dict[str, int | None]
    gold_total: int | None
    predicted_total: int | None


@dataclass(slots=True)
class EvalReport:
    """Scores per language (and "all") plus the mismatching reports."""

    by_language: dict[str, Counts] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _dont_care(gold: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    for key in ("background_interceptions", "naval_drone_claims"):
        for row in gold.get(key) or []:
            names.add(str(row.get("region")))
    for name in gold.get("air_defence_activity") or []:
        names.add(str(name))
    return names


def _tally(c: Counts, gold_rows: dict[str, int | None], pred: dict[str, int | None]) -> None:
    c.items += 1
    g_regions, p_regions = set(gold_rows), set(pred)
    c.tp_region += len(g_regions & p_regions)
    c.fp_region += len(p_regions - g_regions)
    c.fn_region += len(g_regions - p_regions)
    g_pairs = set(gold_rows.items())
    p_pairs = set(pred.items())
    c.tp_count += len(g_pairs & p_pairs)
    c.fp_count += len(p_pairs - g_pairs)
    c.fn_count += len(g_pairs - p_pairs)
    if not gold_rows:
        c.negatives += 1
        c.clean_negatives += int(not pred)


def predict(records: Iterable[Mapping[str, Any]]) -> dict[str, ExtractionResult]:
    """Extract every gold record (``id``, ``text``, ``published``, ``language``), keyed by id.

    ValueError when a ``published`` value is not an ISO date or date-time.
    """
    out: dict[str, ExtractionResult] = {}
    for rec in records:
        published = rec.get("published")
        out[str(rec.get("id"))] = extract_report(
            str(rec.get("text", "")),
            report_id=str(rec.get("id")),
            published=datetime.fromisoformat(str(published)).date() if published else None,
            language=str(rec["language"]) if rec.get("language") else None,
        )
    return out


def score(
    gold_records: Iterable[Mapping[str, Any]], predictions: Mapping[str, ExtractionResult]
) -> EvalReport:
    """Score predictions (keyed by report id) against gold records (dev_reports.jsonl lines)."""
    report = EvalReport()
    for rec in gold_records:
        rid = str(rec.get("id"))
        lang = str(rec.get("language") or "?")
        gold = rec.get("gold") or {}
        gold_rows = {str(r["region"]): r.get("count") for r in gold.get("interceptions") or []}
        result = predictions.get(rid)
        if result is None:
            report.missing.append(rid)
            pred: dict[str, int | None] = {}
            pred_total = None
        else:
            ignore = _dont_care(gold) - set(gold_rows)
            pred = {r.region: r.count for r in result.interceptions if r.region not in ignore}
            pred_total = result.claimed_total
        gold_total = gold.get("claimed_total")
        for key in (lang, "all"):
            c = report.by_language.setdefault(key, Counts())
            _tally(c, gold_rows, pred)
            c.exact += int(pred == gold_rows)
            c.total_ok += int(pred_total == gold_total)
        if pred != gold_rows or pred_total != gold_total:
            report.mismatches.append(Mismatch(rid, lang, gold_rows, pred, gold_total, pred_total))
    return report


def format_report(report: EvalReport) -> str:
    """A plain-text table of the scores, one line per language and one for all."""
    header = (
        f"{'lang':<5} {'items':>5} {'regionF1':>9} {'countF1':>8} {'exact':>6} {'total':>6} {'cleanNeg':>9}"
    )
    lines = [header, "-" * len(header)]
    order = [*sorted(k for k in report.by_language if k != "all"), "all"]
    for key in order:
        c = report.by_language.get(key)
        if c is None:
            continue
        lines.append(
            f"{key:<5} {c.items:>5} {c.region_f1:>9.3f} {c.count_f1:>8.3f} {c.exact_rate:>6.3f} "
            f"{c.total_accuracy:>6.3f} {c.clean_negative_rate:>9.3f}"
        )
    if report.missing:
        lines.append(f"missing predictions: {len(report.missing)}")
    return "\n".join(lines)


def format_mismatches(report: EvalReport, limit: int = 50) -> str:
    """Per-item differences for debugging."""
    out: list[str] = []
    for m in report.mismatches[:limit]:
        out.append(f"{m.id} [{m.language}] total gold={m.gold_total} pred={m.predicted_total}")
        for region in sorted(set(m.gold) | set(m.predicted)):
            g = m.gold.get(region, "-")
            p = m.predicted.get(region, "-")
            mark = "  " if g == p else "!!"
            out.append(f"   {mark} {region}: gold={g} pred={p}")
    return "\n".join(out)
