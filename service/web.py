"""Web endpoints on the faust web server: metrics, health, the read API (all read-only)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from faust import web
from faust.sensors.prometheus import setup_prometheus_sensors

from service.app import app, runtime
from service.kafka_admin import aiokafka_config
from service.metrics import PerSecond
from service.readmodel import AlertsView, OutputTopicsReader, RegionCountsView
from service.sensors import CachedPrometheusMonitor
from service.source_watch import SourcesView

# faust's own sensor (consumer/producer/table metrics) and our domain metrics on one registry.
setup_prometheus_sensors(app, pattern="/metrics", registry=runtime.registry, name_prefix="faust")
# The same metrics, with the labelled series cached (service.sensors).
app.monitor = CachedPrometheusMonitor(metrics=app.monitor._metrics)  # type: ignore[attr-defined]


def _agents_healthy() -> tuple[bool, list[str]]:
    crashed = []
    for name, agent in app.agents.items():
        for actor in getattr(agent, "_actors", []):
            if getattr(actor, "crash_reason", None) is not None:
                crashed.append(name)
    ingest = runtime.extra.get("ingest")
    if ingest is not None and getattr(ingest, "crash_reason", None) is not None:
        crashed.append("ingest")
    return not crashed, crashed


@app.page("/healthz")
async def healthz(self: web.View, request: web.Request) -> web.Response:
    """200 while every agent runs; 503 naming the crashed agents otherwise."""
    ok, crashed = _agents_healthy()
    last = runtime.extra.get("last_report_at")
    body = {
        "status": "ok" if ok else "degraded",
        "crashed_agents": crashed,
        "last_report_at": last.isoformat() if last else None,
    }
    return self.json(body, status=200 if ok else 503)


#: Views over the output topics: every worker serves the whole picture, not its partitions.
counts_view = RegionCountsView(history=timedelta(hours=runtime.settings.api_history_hours))
alerts_view = AlertsView()
sources_view = SourcesView()


@app.service
class OutputViews(OutputTopicsReader):
    """Feeds the API views from skytally.region-counts and skytally.alerts."""

    def __init__(self, **kwargs: Any) -> None:
        settings = runtime.settings
        super().__init__(
            aiokafka_config(settings),
            {
                settings.topic_region_counts: counts_view,
                settings.topic_alerts: alerts_view,
                settings.topic_source_activity: sources_view,
            },
            **kwargs,
        )


@app.page("/api/regions")
async def api_regions(self: web.View, request: web.Request) -> web.Response:
    """Per-region window counts of every partition (``?closed=1`` adds closed windows, ``?window=1h``)."""
    include_closed = request.query.get("closed", "") in ("1", "true", "yes")
    hopping = {w.name for w in runtime.windows if w.step < w.size}
    data = counts_view.render(hopping, timedelta(hours=runtime.settings.grace_hours), include_closed)
    window = request.query.get("window")
    if window:
        data["windows"] = {k: v for k, v in data["windows"].items() if k == window}
    return self.json(data)


@app.page("/api/alerts")
async def api_alerts(self: web.View, request: web.Request) -> web.Response:
    """Active alerts and the most recent alert events (of every partition)."""
    return self.json(
        {
            "active": alerts_view.active(),
            "recent": alerts_view.recent[-50:][::-1],
            "generated_at": datetime.now(UTC).isoformat(),
        }
    )


_DASHBOARD = (resources.files("service") / "data" / "dashboard.html").read_text(encoding="utf-8")


@app.page("/")
async def dashboard(self: web.View, request: web.Request) -> web.Response:
    """The live dashboard page: counts per region and window, alerts, stream health."""
    return self.html(_DASHBOARD)


@app.page("/api/stats")
async def api_stats(self: web.View, request: web.Request) -> web.Response:
    """Stream health for the dashboard: last report, reports/min, totals, dead letters."""
    ok, crashed = _agents_healthy()
    reg = runtime.registry
    seen: PerSecond = runtime.extra.setdefault("consumed_per_second", PerSecond())
    dead = sum(
        s.value
        for m in reg.collect()
        if m.name == "skytally_dead_letters"
        for s in m.samples
        if s.name == "skytally_dead_letters_total"
    )
    last = runtime.extra.get("last_report_at")
    return self.json(
        {
            "status": "ok" if ok else "degraded",
            "crashed_agents": crashed,
            "last_report_at": last.isoformat() if last else None,
            "reports_per_minute": float(seen.last_minute(time.time())),
            "reports_consumed": int(reg.get_sample_value("skytally_reports_consumed_total") or 0),
            "dead_letters": int(dead),
            "sources": {name: t.isoformat() for name, t in sorted(sources_view.last_seen.items())},
        }
    )
