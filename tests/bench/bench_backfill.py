"""Backfill: one real skytally worker works through a large generated backlog; time and peak memory.

Run from the repository root (1,000,000 reports: 86 minutes on 2 cores in session 7, 126
minutes in session 9 on a machine running at half speed; flow control keeps stage 1 at most
``SKYTALLY_INGEST_MAX_AHEAD`` messages ahead of the statement and region stages, so all three
move together; ``--reports 150000`` for about 7-15 minutes)::

    .venv/bin/python -m tests.bench.bench_backfill --broker kafka --reports 1000000

Starts one broker and one ``skytally worker`` (own topics and group), then produces
``--reports`` synthetic reports (``service.synthetic``: statements carried by 1-4 outlets,
revisions, late reports; their natural size, a few hundred bytes) as fast as the broker takes
them, generated in chunks so the producer's memory stays flat. Every ``--every`` seconds it
prints progress: produced, consumed by stage 1, the statement and region stages' lag
(faust's end minus committed offsets), the worker's RSS. Done when every report was consumed
and the downstream stages have no lag. Prints the elapsed time, reports/s and the peak RSS,
then reads the alerts topic and tallies the alert ids: fired once, fired again after
resolving (each alert should fire once), escalations (warning to critical) and still firing
at the end (windows still open at the stream's last event time).
Ctrl-C stops the worker and the broker and removes temp files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from service.synthetic import generate
from tests.bench._common import Cleanup, cleanup_on_exit, cpu_seconds, print_machine, rss_kib
from tests.bench._single import Setup, start_setup
from tests.bench._workers import downstream_lag, metric_or_nan

CHUNK = 10_000


def reports(total: int, seed: int) -> Any:
    """``total`` synthetic reports, generated a chunk at a time, ids unique across chunks.

    Each chunk's event time starts where the previous one's ended: a backlog is a stream
    moving forward. (Until session 6 every chunk started on the same day, so after the first
    chunk the worker dropped nearly everything as expired, cheaply: 1,197 reports/s measured
    that way, not a backfill.)
    """
    made = 0
    round_ = 0
    start = None
    while made < total:
        batch, statements = generate(CHUNK // 2, seed=seed + round_, start=start)
        for report in batch[: total - made]:
            report["id"] = f"{report['id']}-r{round_}"
            yield report
            made += 1
        start = max(s.end for s in statements) + timedelta(hours=1)
        round_ += 1


async def produce(setup: Setup, total: int, seed: int, progress: dict[str, int]) -> None:
    """Send every report; ``progress["produced"]`` follows."""
    producer = AIOKafkaProducer(
        bootstrap_servers=setup.bootstrap, acks="all", linger_ms=20, max_batch_size=1 << 20
    )
    await producer.start()
    try:
        pending = []
        for report in reports(total, seed):
            pending.append(await producer.send(setup.topic("reports"), json.dumps(report).encode()))
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                progress["produced"] += len(pending)
                pending.clear()
        await asyncio.gather(*pending)
        progress["produced"] += len(pending)
    finally:
        await producer.stop()


def stage_lag(setup: Setup) -> float:
    """End minus committed offsets of the statement and region stages' input topics."""
    topics = (setup.topic("interceptions"), setup.topic("region-updates"))
    return downstream_lag([setup.worker.get("/metrics")], topics)


async def run(args: argparse.Namespace, cleanup: Cleanup) -> None:
    """Broker + worker, the backlog produced, progress until the worker is done."""
    setup = await start_setup(args.broker, cleanup, "bench-backfill")
    pid = setup.worker.proc.pid
    progress = {"produced": 0}
    began = time.monotonic()
    cpu0 = cpu_seconds(pid) or 0.0
    producer = asyncio.create_task(produce(setup, args.reports, args.seed, progress))
    peak = 0
    print(f"  {'t (s)':>7} {'produced':>10} {'consumed':>10} {'stage lag':>10} {'RSS MiB':>8}")
    while True:
        await asyncio.sleep(args.every)
        if setup.worker.proc.poll() is not None:
            raise RuntimeError(f"worker exited ({setup.worker.proc.returncode}); see {setup.worker.log_path}")
        rss = rss_kib(pid) or 0
        peak = max(peak, rss)
        consumed = metric_or_nan(setup.worker, "skytally_reports_consumed_total")
        lag = stage_lag(setup)
        elapsed = time.monotonic() - began
        print(
            f"  {elapsed:>7.0f} {progress['produced']:>10,} {consumed:>10,.0f} {lag:>10,.0f} "
            f"{rss / 1024:>8.1f}",
            flush=True,
        )
        # the leader's stream-time ticks (a few records every 2 s) keep the lag just above 0
        if producer.done() and consumed >= args.reports and lag <= 2 * 8:
            break
    await producer
    elapsed = time.monotonic() - began
    cpu = ((cpu_seconds(pid) or 0.0) - cpu0) / elapsed
    print("\n=== backfill ===")
    print_machine(args.broker)
    print(
        f"  {args.reports:,} reports: done in {elapsed:,.0f} s = {args.reports / elapsed:,.0f} reports/s; "
        f"worker CPU {cpu:.2f} cores; peak RSS {peak / 1024:.1f} MiB; "
        f"state keys at the end: {setup.worker.metric('skytally_table_keys', {'table': 'statements'}):,.0f} "
        f"statements, {setup.worker.metric('skytally_table_keys', {'table': 'region-buckets'}):,.0f} buckets"
    )
    print("  reading the alerts topic ...", flush=True)
    tally = alert_tally(await read_alerts(setup))
    print("  alerts: " + ", ".join(f"{k} {v:,}" for k, v in tally.items()))


def alert_tally(events: list[dict[str, Any]]) -> dict[str, int]:
    """How often each alert id fired: each alert should fire once and resolve once.

    A firing event at a new severity (warning to critical) is an escalation, not a second
    firing; re-notifications of a still-firing alert ("(still firing)") are not counted.
    """
    fired: dict[str, int] = {}
    again: set[str] = set()  # fired again after it had resolved
    last: dict[str, dict[str, Any]] = {}
    escalations = 0
    for event in events:
        alert_id = event["alert_id"]
        before = last.get(alert_id)
        last[alert_id] = event
        if event["status"] == "resolved" or str(event.get("summary", "")).endswith("(still firing)"):
            continue
        if before is not None and before["status"] != "resolved":
            escalations += before.get("severity") != event.get("severity")
            continue
        fired[alert_id] = fired.get(alert_id, 0) + 1
        if before is not None:
            again.add(alert_id)
    return {
        "alert ids": len(last),
        "fired once": sum(1 for n in fired.values() if n == 1),
        "fired again after resolving": len(again),
        "escalations": escalations,
        "firing at the end": sum(1 for e in last.values() if e["status"] != "resolved"),
    }


async def read_alerts(setup: Setup) -> list[dict[str, Any]]:
    """Every event on the worker's alerts topic, in order per partition."""
    consumer = AIOKafkaConsumer(
        setup.topic("alerts"), bootstrap_servers=setup.bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(list(consumer.assignment()))
        events: list[dict[str, Any]] = []
        done: set[TopicPartition] = {tp for tp, end in ends.items() if end == 0}
        while len(done) < len(ends):
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            for tp, records in batches.items():
                events += [json.loads(r.value) for r in records if r.value is not None]
                if records and records[-1].offset + 1 >= ends[tp]:
                    done.add(tp)
        return events
    finally:
        await consumer.stop()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--broker", choices=("kafka", "tansu"), default="kafka")
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between progress lines")
    parser.add_argument("--keep", action="store_true", help="keep the worker log")
    args = parser.parse_args()
    print(f"bench_backfill: {args.reports:,} reports on {args.broker}")
    with cleanup_on_exit("backfill", keep=args.keep) as cleanup:
        asyncio.run(run(args, cleanup))


if __name__ == "__main__":
    main()
