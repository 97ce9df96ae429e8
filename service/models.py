"""Message models: the value of every topic skytally reads or writes.

Models only: no I/O. Each carries an explicit ``schema_version`` so consumers can
evolve; the JSON Schemas in ``schemas/`` are generated from these classes
(``skytally schemas``) and a test keeps them current.

Topics and their models::

    skytally.reports        ReportIn           (input; a plain UTF-8 text body is accepted too)
    skytally.interceptions  ExtractionResult   (one per accepted report)
    skytally.region-counts  RegionCount        (key: "<window>|<window_start>|<code>", compacted)
    skytally.alerts         AlertEvent         (firing / escalated / resolved)
    skytally.dead-letter    DeadLetter         (bad input with reason and original bytes)
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Weapon = Literal["drone", "missile", "mixed"]
Side = Literal["RU", "UA", "other"]
Severity = Literal["warning", "critical"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=False)


class ReportIn(_Model):
    """A published report as it arrives on ``skytally.reports``; only ``text`` is required."""

    id: str | None = Field(default=None, max_length=512, description="Report id; content hash when absent")
    source: str | None = Field(default=None, max_length=512, description="Outlet or official channel")
    url: str | None = Field(default=None, max_length=4096)
    published_at: datetime | None = Field(
        default=None, description="Publication time; the message timestamp when absent"
    )
    language: str | None = Field(default=None, max_length=16, description="en, ru or uk")
    text: str = Field(description="The report text")


class Interception(_Model):
    """One region's interception count in a report, summed over the report's statements."""

    region: str = Field(description="Canonical English name, e.g. 'Rostov Oblast'")
    code: str = Field(description="ISO 3166-2 code (ISO 3166-1 for countries), SEA-* for seas")
    count: int | None = Field(ge=0, description="null when claimed but no number can be assigned")
    approx: bool = Field(default=False, description="'about', 'more than' ... ")
    evidence: str = Field(default="", description="The sentence span the count comes from")
    by_weapon: dict[str, int | None] | None = None
    reporting_side: Side | None = Field(default=None, description="Only when a text mixes claimants")


class Group(_Model):
    """A figure shared by several regions without 'each' (kept as a group, not split)."""

    regions: list[str]
    codes: list[str]
    count: int | None = Field(ge=0)
    evidence: str = ""


class ExtractionResult(_Model):
    """The structured reading of one report: the ``extract`` output and ``skytally.interceptions`` value."""

    schema_version: Literal[1] = 1
    id: str
    interceptions: list[Interception] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    claimed_total: int | None = Field(default=None, ge=0)
    parts_sum: int = Field(default=0, ge=0, description="Sum of region counts and group counts")
    consistent: bool | None = Field(
        default=None, description="parts_sum == claimed_total; null without a claimed total"
    )
    weapon: Weapon | None = None
    weapon_models: list[str] = Field(default_factory=list, description="Named models, e.g. Shahed-136")
    reporting_side: Side | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    period_assumed: bool = Field(default=False, description="Period inferred (e.g. 'overnight')")
    launched: int | None = Field(default=None, ge=0, description="Launched figure when given; never added")
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    warnings: list[str] = Field(default_factory=list)
    # Report metadata carried through for downstream consumers (dedup, corroboration).
    source: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    event_time: datetime | None = Field(
        default=None, description="Time used for windows: period end, else published, else message time"
    )
    fingerprint: str | None = Field(default=None, description="Statement identity across outlets")
    source_partition: int | None = Field(default=None, description="Reports partition the report came from")
    source_time: datetime | None = Field(
        default=None,
        description=(
            "Stream time of that reports partition when the report was read (newest event time seen "
            "there): lateness is judged against it, so processing order downstream does not matter"
        ),
    )


class RegionCount(_Model):
    """The current count of one region in one window (compacted topic: latest value per key)."""

    schema_version: Literal[1] = 1
    window: str = Field(description="Window name from settings, e.g. '1h', '24h'")
    window_start: datetime
    window_end: datetime
    region: str
    code: str
    count: int = Field(ge=0)
    statements: int = Field(ge=0, description="Distinct statements counted (republications count once)")
    outlets: int = Field(ge=0, description="Reports that carried them")
    urls: list[str] = Field(
        default_factory=list, description="URLs of the outlets that carried them (corroboration, at most 20)"
    )
    updated_at: datetime


class AlertEvidence(_Model):
    report_id: str
    source: str | None = None
    url: str | None = None
    count: int | None = None
    claimed_total: int | None = None
    evidence: str = ""
    confidence: float = 0.0
    outlets: int = Field(default=1, ge=0, description="Reports that carried this statement")
    urls: list[str] = Field(
        default_factory=list, description="URLs of the outlets that carried it (at most 20)"
    )


class AlertEvent(_Model):
    """An alert state change: firing, escalated (warning to critical) or resolved."""

    schema_version: Literal[1] = 1
    alert_id: str = Field(description="Stable identity: rule|window|window_start|code")
    status: Literal["firing", "escalated", "resolved"]
    severity: Severity
    rule: str
    region: str
    code: str
    window: str
    window_start: datetime
    window_end: datetime
    count: int
    threshold: int
    summary: str
    runbook_url: str
    evidence: list[AlertEvidence] = Field(default_factory=list)
    starts_at: datetime
    ends_at: datetime | None = None


class DeadLetter(_Model):
    """A message that could not be processed, with why, where and the original bytes."""

    schema_version: Literal[1] = 1
    reason: str = Field(description="Machine-readable reason, e.g. not_json, too_large")
    error: str = Field(description="Human-readable explanation")
    stage: str = Field(description="decode | validate | extract")
    topic: str
    partition: int
    offset: int
    timestamp: datetime | None = None
    original_b64: str = Field(description="The original message value, base64")
    original_size: int
    received_at: datetime


class SourceActivity(_Model):
    """A source was heard from (compacted topic keyed by source: its latest record counts)."""

    schema_version: Literal[1] = 1
    source: str = Field(description="The report's source as sent (matched case-free)")
    last_seen: datetime = Field(description="When a worker last received a report from it")


TOPIC_MODELS: dict[str, type[BaseModel]] = {
    "reports": ReportIn,
    "interceptions": ExtractionResult,
    "region-counts": RegionCount,
    "alerts": AlertEvent,
    "dead-letter": DeadLetter,
    "source-activity": SourceActivity,
}
