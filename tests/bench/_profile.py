"""Where a profiled skytally worker spent its time: cProfile stats grouped by pipeline stage."""

from __future__ import annotations

import pstats
from pathlib import Path

#: (label, file fragment, function name): cumulative time of these functions, per report.
SPOTS = (
    ("stage 1 agent: extract_reports (all of it)", "service/agents.py", "extract_reports"),
    ("stage 1 ingest: ReportIngestor._process (all of it)", "service/ingest.py", "_process"),
    ("  pipeline.read_message (decode + extract)", "service/pipeline.py", "read_message"),
    ("  decode_report (JSON + pydantic ReportIn)", "service/decode.py", "decode_report"),
    ("  extract_report (the extractor)", "service/extract/extractor.py", "extract_report"),
    ("  statement_fingerprint", "service/aggregate.py", "statement_fingerprint"),
    ("  pydantic model_dump (all stages)", "pydantic/main.py", "model_dump"),
    ("  structlog log calls (all stages)", "structlog/_native.py", "meth"),
    ("  faust Topic.send (all stages)", "faust/topics.py", "send"),
    ("stage 2 agent: merge_statements", "service/agents.py", "merge_statements"),
    ("  merge_result", "service/pipeline.py", "merge_result"),
    ("stage 3 agent: count_regions", "service/agents.py", "count_regions"),
    ("  apply_region_update", "service/pipeline.py", "apply_region_update"),
    ("  alert_flow.on_stream_time (scans alert table)", "service/alert_flow.py", "on_stream_time"),
    ("  alert_flow.on_count", "service/alert_flow.py", "on_count"),
    ("table writes: faust Table.__setitem__", "faust/tables/table.py", "__setitem__"),
    ("table changelog sends: send_changelog", "faust/tables/base.py", "send_changelog"),
    ("aiokafka fetcher: _proc_fetch_request", "aiokafka/consumer/fetcher.py", "_proc_fetch_request"),
    ("aiokafka producer: send", "aiokafka/producer/producer.py", "send"),
    ("faust json serializer: dumps", "faust/utils/json.py", "dumps"),
    ("faust json deserializer: loads", "faust/utils/json.py", "loads"),
    ("event loop: select/epoll (idle)", "~", "<method 'poll' of 'select.epoll' objects>"),
)


def summarize(path: Path, reports: int, top: int = 25) -> str:
    """A text summary: per-spot cumulative seconds and ms per report, then the top functions."""
    stats = pstats.Stats(str(path))
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())  # tottime over every function = profiled wall time
    lines = [f"profile {path} ({reports:,} reports; {total:.1f} s profiled, cProfile inflates Python code):"]
    lines.append(f"  {'where':<50}{'cum s':>8}{'ms/report':>11}{'share':>8}")
    for label, file_part, func in SPOTS:
        cum = sum(v[3] for (f, _line, name), v in raw.items() if file_part in f and name == func)
        if cum:
            lines.append(f"  {label:<50}{cum:>8.1f}{cum / reports * 1000:>11.2f}{cum / total:>8.0%}")
    lines.append(f"\n  top {top} functions by own time:")
    rows = sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]
    for (f, line, name), v in rows:
        where = f"{Path(f).parent.name}/{Path(f).name}:{line}" if f != "~" else ""
        lines.append(f"  {v[2]:>7.2f} s {v[1]:>9,} calls  {name[:50]:<50} {where}")
    return "\n".join(lines)
