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
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from service.models import ExtractionResult

#: Corroboration lists are capped so a viral statement cannot grow state without bound.
MAX_OUTLETS_KEPT = 50
#: Outlet URLs a region update, a window count and an alert's evidence carry (newest kept).
MAX_URLS = 20

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
    #: The statement partition that sent it (with source_partition: its channel, see service.watermark).
    via_partition: int | None = None
    #: Bumped each time the statement is superseded by a revision (or wins again): a bucket
    #: entry of a higher generation replaces a lower one instead of max-merging with it.
    generation: int = 0
    #: The statement was replaced by its source's revision: this region's figure is withdrawn.
    retract: bool = False
    #: URLs of the outlets that carried the statement (corroboration), newest last.
    urls: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for a Kafka message value (every field is a plain value: no deep copy)."""
        out = {name: getattr(self, name) for name in _UPDATE_ORDER}
        out["urls"] = list(self.urls)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegionUpdate:
        """Inverse of :meth:`to_dict`; fields a newer version added are ignored (rolling upgrades)."""
        fields_ = {k: v for k, v in data.items() if k in _UPDATE_FIELDS}
        if "urls" in fields_:
            fields_["urls"] = tuple(str(u) for u in fields_["urls"] or ())
        return cls(**fields_)


_UPDATE_ORDER = tuple(f.name for f in fields(RegionUpdate))
_UPDATE_FIELDS = frozenset(_UPDATE_ORDER)


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
        # Redelivered after a crash: the table may have been saved while the updates were
        # lost with the process, so they are sent again (the region stage ignores repeats).
        return state, region_updates(state) if state["regions"] else []
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
    statement_fingerprint_of(state, result)
    state["confidence"] = result.confidence
    if state.get("superseded_by"):
        # Its source published a revision: copies of the old figure are remembered (should it
        # become the newest version again) but count nothing now.
        return state, []
    return state, region_updates(state)


def region_updates(state: StatementState) -> list[RegionUpdate]:
    """The statement's current figure for each of its regions (zero, withdrawn, if superseded)."""
    withdrawn = bool(state.get("superseded_by"))
    urls = tuple(o["url"] for o in state.get("outlets", []) if o.get("url"))[-MAX_URLS:]
    return [
        RegionUpdate(
            fingerprint=str(state["fingerprint"]),
            code=code,
            region=row["region"],
            count=0 if withdrawn else row["count"],
            event_time=state["event_time"],
            report_id=row["report_id"],
            source=row["source"],
            url=row["url"],
            claimed_total=state.get("claimed_total"),
            evidence=row["evidence"],
            confidence=float(state.get("confidence", 0.0)),
            outlets=int(state.get("n_reports", 0)),
            generation=int(state.get("generation", 0)),
            retract=withdrawn,
            urls=urls,
        )
        for code, row in sorted(state["regions"].items())
    ]


def revision_slot(result: ExtractionResult) -> str | None:
    """What a revision shares with the statement it replaces: source, side and stated period.

    A source that publishes different figures for the same period has corrected itself. Without
    a stated period (only a publication day) two reports may be two events, so none is a revision.
    """
    if not result.source or not (result.period_start or result.period_end):
        return None
    side = result.reporting_side or "-"
    return f"{result.source.strip().casefold()}|{side}|{_iso(result.period_start)}/{_iso(result.period_end)}"


def routing_key(result: ExtractionResult) -> str:
    """The interceptions topic key: reports of one stated period meet on one partition.

    Revisions (same source and period, new figures, hence a new fingerprint) must be merged
    where the statement they replace lives; without a stated period, the fingerprint.
    """
    if result.period_start or result.period_end:
        side = result.reporting_side or "-"
        return f"{side}|{_iso(result.period_start)}/{_iso(result.period_end)}"
    return result.fingerprint or result.id


def settle_revisions(
    slot: dict[str, Any] | None, fingerprint: str, version: list[str], regions: list[str]
) -> tuple[dict[str, Any], dict[str, str], set[str]]:
    """Add one version of a source's statement for a period; say which versions lost or won.

    Versions are a source's statements for one stated period. A version is *live* unless a
    newer one (by :func:`version_of`) shares a region with it: that one replaced it. Separate
    statements on disjoint regions both stay live. Returns the new slot state, the versions
    that stopped being live (fingerprint -> the one that replaced it) and those that became
    live again. Depends only on the set of versions seen, not on their arrival order.
    """
    versions: dict[str, Any] = dict((slot or {}).get("versions", {}))
    before = live_versions(versions)
    known = versions.get(fingerprint)
    if known is None or version > known["version"]:
        versions[fingerprint] = {"version": version, "regions": sorted(regions)}
    after = live_versions(versions)
    lost = {fp: replaced_by(versions, fp) for fp in before - after}
    won = (after - before) - {fingerprint} if known is None else after - before
    return {"versions": versions}, lost, won


def live_versions(versions: dict[str, Any]) -> set[str]:
    """The versions no newer overlapping version replaced."""
    return {fp for fp in versions if replaced_by(versions, fp) == fp}


def replaced_by(versions: dict[str, Any], fingerprint: str) -> str:
    """The newest version sharing a region with ``fingerprint`` (itself when none is newer)."""
    mine = versions[fingerprint]
    best, best_version = fingerprint, mine["version"]
    regions = set(mine["regions"])
    for fp, other in versions.items():
        if other["version"] > best_version and regions.intersection(other["regions"]):
            best, best_version = fp, other["version"]
    return best


def version_of(result: ExtractionResult, event_time: datetime) -> list[str]:
    """Order of a source's versions of a statement: publication time, then report id."""
    published = result.published_at or event_time
    return [published.astimezone(UTC).isoformat(), result.id]


def supersede(
    state: StatementState | None, by: str, event_time: datetime
) -> tuple[StatementState, list[RegionUpdate]]:
    """Withdraw a statement its source revised: a zero figure for every region it counted.

    Idempotent: a statement already superseded by ``by`` sends nothing. A statement first seen
    as an outdated version is stored as superseded, so its later copies count nothing.
    """
    if state is None:
        state = {"event_time": event_time.isoformat(), "regions": {}, "reports": [], "outlets": []}
    if state.get("superseded_by") == by:
        return state, []
    generation = int(state.get("generation", 0)) + 1
    state = {**state, "superseded_by": by, "generation": generation}
    return state, region_updates(state)


def reinstate(state: StatementState) -> StatementState:
    """A superseded statement whose source's newest version it is again: counted anew."""
    if not state.get("superseded_by"):
        return state
    return {**state, "superseded_by": None, "generation": int(state.get("generation", 0)) + 1}


def statement_fingerprint_of(state: StatementState, result: ExtractionResult) -> str:
    """The fingerprint stored with the statement (computed once from its first report)."""
    fp = state.get("fingerprint")
    if fp is None:
        fp = result.fingerprint or statement_fingerprint(result)
        state["fingerprint"] = fp
    return str(fp)


def merge_bucket(state: BucketState | None, update: RegionUpdate) -> tuple[BucketState, bool]:
    """Fold a region update into its hour bucket; return the new state and whether it changed.

    Within one generation of a statement figures max-merge (republication never raises a count,
    a more detailed report does); a higher generation (a revision withdrew or reinstated the
    statement) replaces the entry; a lower one is stale and ignored.
    """
    statements: dict[str, Any] = dict(state["statements"]) if state else {}
    old = statements.get(update.fingerprint)
    unchanged = state or {"statements": statements}
    newer = old is None or update.generation > int(old.get("generation", 0))
    if not newer:
        assert old is not None
        if update.generation < int(old.get("generation", 0)):
            return unchanged, False
        if bool(old.get("retracted")) or update.retract:
            return unchanged, False  # a withdrawn figure stays withdrawn within its generation
        if old["count"] >= update.count and old["outlets"] >= update.outlets:
            return unchanged, False
    entry = {
        "count": update.count if newer or old is None else max(update.count, old["count"]),
        "outlets": update.outlets if newer or old is None else max(update.outlets, old["outlets"]),
        "report_id": update.report_id,
        "source": update.source,
        "url": update.url,
        "claimed_total": update.claimed_total,
        "evidence": update.evidence,
        "confidence": update.confidence,
        "region": update.region,
    }
    if update.urls:
        entry["urls"] = list(update.urls)
    if update.generation:
        entry["generation"] = update.generation
    if update.retract:
        entry["retracted"] = True
        entry["count"] = 0
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
    return {fp: s for fp, s in state["statements"].items() if not s.get("retracted")}
