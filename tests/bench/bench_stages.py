"""The three stages' domain logic alone (no broker, no faust): ms per report per stage.

Run from the repository root::

    .venv/bin/python -m tests.bench.bench_stages --reports 5000 --size 1-4KB

The same synthetic stream as ``bench_e2e`` (``service.synthetic``: 1-4 outlets per statement,
revisions, corrections, late reports; padded to ``--size``) goes through stage 1
(``pipeline.read_message``), stage 2 (``pipeline.merge_result`` on a dict statements table)
and stage 3 (``pipeline.apply_region_update`` on dict bucket and alert tables) as the worker
runs them, one report at a time, with the records between the stages serialised to JSON and
back as on Kafka. Four partitions per stage, as the worker's default. What the end-to-end
rate loses beyond these figures is faust's and aiokafka's per-record machinery.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry

from service import pipeline
from service.aggregate import RegionUpdate, routing_key
from service.metrics import Metrics
from service.partitioner import CachedPartitioner
from service.settings import Settings
from service.watermark import ChannelWatermark
from service.windows import parse_windows
from tests.bench._common import encode, make_reports, parse_size, print_machine

PARTITIONS = 4


def partition_of(partitioner: CachedPartitioner, key: str) -> int:
    """The partition a keyed record lands on, as the producers pick it."""
    return int(partitioner(key.encode(), list(range(PARTITIONS)), list(range(PARTITIONS))))


def run(args: argparse.Namespace) -> None:
    """Every report through the three stages; totals per stage."""
    settings = Settings(windows="1h,24h,night", grace_hours=24)
    metrics = Metrics(CollectorRegistry())
    windows = parse_windows(settings.windows)
    runtime = SimpleNamespace(settings=settings, metrics=metrics, windows=windows, extra={})
    raws = [encode(r) for r in make_reports(args.reports, parse_size(args.size))]
    partitioner = CachedPartitioner()
    statements: list[dict[str, Any]] = [{} for _ in range(PARTITIONS)]
    buckets: list[dict[str, Any]] = [{} for _ in range(PARTITIONS)]
    alerts: list[dict[str, Any]] = [{} for _ in range(PARTITIONS)]
    watermark = ChannelWatermark()
    clock = pipeline.SourceClock()
    keep = pipeline.keep_for(runtime)
    spent = {"stage 1": 0.0, "stage 2": 0.0, "stage 3": 0.0}
    counted = {"updates": 0, "window counts": 0, "alert events": 0}  # counts and alerts published
    # per stage and partition, the next offset; everything before it counts as committed
    offsets = {(stage, p): 0 for stage in (2, 3) for p in range(PARTITIONS)}
    now = datetime.now(UTC)
    sinks = [pipeline.RegionOutcome() for _ in range(PARTITIONS)]
    owed = [
        pipeline.Owed(buckets[p], alerts[p], runtime, sinks[p]) if args.batch else None
        for p in range(PARTITIONS)
    ]

    def publish(out: pipeline.RegionOutcome) -> None:
        for count in out.counts:
            json.dumps(count.value)
        for alert in out.alerts:
            alert.model_dump_json()
        counted["window counts"] += len(out.counts)
        counted["alert events"] += len(out.alerts)

    for i, raw in enumerate(raws):
        t0 = time.perf_counter()
        result = pipeline.read_message(raw, max_bytes=settings.max_report_bytes, message_time=now)
        clock.stamp(result, i % PARTITIONS)
        wire = result.model_dump_json()
        t1 = time.perf_counter()
        value = json.loads(wire)
        p2 = partition_of(partitioner, routing_key(result))
        o2 = offsets[2, p2]
        offsets[2, p2] += 1
        updates = pipeline.merge_result(statements[p2], value, p2, keep, watermark, PARTITIONS, o2, o2) or []
        sent = [json.dumps(u.to_dict()) for u in updates]
        t2 = time.perf_counter()
        for update_json in sent:
            update = RegionUpdate.from_dict(json.loads(update_json))
            p3 = partition_of(partitioner, update.code)
            o3 = offsets[3, p3]
            offsets[3, p3] += 1
            out = pipeline.apply_region_update(buckets[p3], alerts[p3], runtime, update, p3, o3, o3, owed[p3])
            counted["updates"] += 1
            if not args.batch:
                publish(out)
        if (args.batch and (i + 1) % args.batch == 0) or i + 1 == len(raws):
            for p, pending in enumerate(owed):
                if pending is not None:  # the batch's windows, once each (as the agent settles)
                    pending.settle()
                    batch = pipeline.RegionBatch()
                    batch.add(sinks[p])
                    publish(pipeline.RegionOutcome(counts=batch.counts.drain(), alerts=batch.alerts))
                    sinks[p].counts.clear()
                    sinks[p].alerts.clear()
        t3 = time.perf_counter()
        spent["stage 1"] += t1 - t0
        spent["stage 2"] += t2 - t1
        spent["stage 3"] += t3 - t2
        if args.progress and (i + 1) % args.progress == 0:
            print(f"  {i + 1:,}/{len(raws):,} reports", flush=True)
    n = len(raws)
    mode = f"windows settled per {args.batch} reports" if args.batch else "windows settled per update"
    print(f"\n=== {n:,} reports of {args.size}: domain logic per report (no broker, no faust; {mode}) ===")
    print_machine("none")
    for stage, seconds in spent.items():
        print(f"  {stage}: {1000 * seconds / n:.3f} ms/report ({n / seconds:,.0f} reports/s alone)")
    total = sum(spent.values())
    print(f"  all three: {1000 * total / n:.3f} ms/report ({n / total:,.0f} reports/s)")
    per = ", ".join(f"{k} {v / n:.2f}" for k, v in counted.items())
    print(f"  per report: {per}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=5_000)
    parser.add_argument("--size", default="1-4KB", help="report size range, e.g. 1-4KB")
    parser.add_argument(
        "--batch", type=int, default=0,
        help="stage 3 settles its windows once per N reports, as the worker's batches do (0: per update)",
    )
    parser.add_argument("--progress", type=int, default=1_000, help="progress every N reports (0: never)")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
