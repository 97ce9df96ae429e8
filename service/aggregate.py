"""One count per statement, pure: fingerprints, max-merge and hourly region buckets.

Two levels of state, both plain JSON-serialisable dicts that a faust Table can hold:

* a **statement** (keyed by fingerprint) remembers the highest figure seen per region, the
  reports that carried it and the event time fixed at first sight. Republication by another
  outlet adds corroboration, never count; redelivery of a report already seen changes nothing.
* a **bucket** (keyed by region code and UTC hour) holds, per statement, that region's
  current figure. A window's count is the sum over its buckets and statements.

Every merge is idempotent and order-independent (max and set union), which is what makes
at-least-once delivery safe: replaying any message after a crash cannot raise a count.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from service.models import ExtractionResult

#: Corroboration lists are capped so a viral statement cannot grow state without bound.
MAX_OUTLETS_KEPT = 50

StatementState = dict[str, Any]
BucketState = dict[str, Any]


def statement_fingerprint(result: ExtractionResult) -> str:
    """Identify one real-world statement across outlets.

    Reporting side, weapon, period (or publication day when the text gives none), claimed
    total and the set of regions: outlets rewriting the same statement agree on these even
    when their wording differs.
    """
    if result.period_start or result.period_end:
        when = f"{_iso(result.period_start)}/{_iso(result.period_end)}"
    elif result.published_at is not None:
        when = result.published_at.date().isoformat()
    else:
        when = "-"
    regions = ",".join(sorted({i.code for i in result.interceptions}))
    key = "|".join(
        [
            result.reporting_side or "-",
            result.weapon or "-",
            when,
            str(result.claimed_total) if result.claimed_total is not None else "-",
            regions,
        ]
    )
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _iso(t: datetime | None) -> str:
    return t.isoformat() if t is not None else "-"


@dataclass(frozen=True)
class RegionUpdate:
    """A statement's current figure for one region: sent from the statement stage to the region stage."""

    fingerprint: str
    code: str
    region: str
    count: int
    event_time: str
    report_id: str
    source: str | None
    url: str | None
    claimed_total: int | None
    evidence: str
    confidence: float
    outlets: int
    #: Stream time of the reports partition the triggering report came from, and that partition.
    source_time: str | None = None
    source_partition: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for a Kafka message value."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegionUpdate:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


def merge_statement(
    state: StatementState | None, result: ExtractionResult, event_time: datetime
) -> tuple[StatementState, list[RegionUpdate]]:
    """Merge one report of a statement; return the new state and the region updates to send.

    A report id already merged changes nothing. Otherwise each region rises to the maximum
    figure seen, and every region of the statement is re-sent so its outlet count is current.
    """
    if state is None:
        state = {"event_time": event_time.isoformat(), "regions": {}, "reports": [], "outlets": []}
    report_id = result.id
    if report_id in state["reports"]:
        return state, []
    state = {**state, "regions": dict(state["regions"]), "reports": [*state["reports"], report_id]}
    state["reports"] = state["reports"][-MAX_OUTLETS_KEPT:]
    state["n_reports"] = state.get("n_reports", 0) + 1
    if result.source or result.url:
        outlet = {"source": result.source, "url": result.url}
        if outlet not in state["outlets"]:
            state["outlets"] = [*state["outlets"], outlet][-MAX_OUTLETS_KEPT:]
    for row in result.interceptions:
        seen = state["regions"].get(row.code)
        count = row.count or 0
        if seen is None or count > seen["count"]:
            state["regions"][row.code] = {
                "region": row.region,
                "count": count,
                "evidence": row.evidence,
                "report_id": report_id,
                "source": result.source,
                "url": result.url,
            }
    claimed = result.claimed_total
    if claimed is not None and claimed > (state.get("claimed_total") or 0):
        state["claimed_total"] = claimed
    updates = [
        RegionUpdate(
            fingerprint=statement_fingerprint_of(state, result),
            code=code,
            region=row["region"],
            count=row["count"],
            event_time=state["event_time"],
            report_id=row["report_id"],
            source=row["source"],
            url=row["url"],
            claimed_total=state.get("claimed_total"),
            evidence=row["evidence"],
            confidence=result.confidence,
            outlets=state["n_reports"],
        )
        for code, row in sorted(state["regions"].items())
    ]
    return state, updates


def statement_fingerprint_of(state: StatementState, result: ExtractionResult) -> str:
    """The fingerprint stored with the statement (computed once from its first report)."""
    fp = state.get("fingerprint")
    if fp is None:
        fp = result.fingerprint or statement_fingerprint(result)
        state["fingerprint"] = fp
    return str(fp)


def merge_bucket(state: BucketState | None, update: RegionUpdate) -> tuple[BucketState, bool]:
    """Fold a region update into its hour bucket; return the new state and whether it changed."""
    statements: dict[str, Any] = dict(state["statements"]) if state else {}
    old = statements.get(update.fingerprint)
    if old is not None and old["count"] >= update.count and old["outlets"] >= update.outlets:
        return state or {"statements": statements}, False
    entry = {
        "count": max(update.count, old["count"] if old else 0),
        "outlets": max(update.outlets, old["outlets"] if old else 0),
        "report_id": update.report_id,
        "source": update.source,
        "url": update.url,
        "claimed_total": update.claimed_total,
        "evidence": update.evidence,
        "confidence": update.confidence,
        "region": update.region,
    }
    statements[update.fingerprint] = entry
    return {"statements": statements}, True


def bucket_count(state: BucketState | None) -> int:
    """Interceptions in one bucket: the sum of its statements' figures."""
    if not state:
        return 0
    return sum(int(s["count"]) for s in state["statements"].values())


def bucket_statements(state: BucketState | None) -> dict[str, Any]:
    """The statements that contributed to a bucket, by fingerprint."""
    if not state:
        return {}
    return dict(state["statements"])
