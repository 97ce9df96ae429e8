"""Produce-to-alert latency of the real skytally worker at a steady report rate.

Run from the repository root (about 2 minutes)::

    .venv/bin/python -m tests.bench.bench_latency --broker kafka --rate 200 --seconds 60

Starts one broker and one ``skytally worker`` (own topics and group), then produces
``--rate`` reports/s for ``--seconds``. By default every report is a NEW statement (the worst
case; ``--outlets N``: each statement is carried by N outlets in a row, as in a real feed,
and the latency is that of the alert its first report fires): one region
(round-robin over the ten synthetic regions) with 12 interceptions in its own UTC hour, the
hour advancing every ten reports. 12 is at or above the default 1 h warning threshold of every
one of those regions (5, or 10 for Belgorod, Bryansk and Kursk), so each report fires exactly
one ``1h`` alert whose evidence names the report (other windows fire too; they are ignored).
Reports are padded with neutral colour text to ``--size`` bytes (default 1-4KB), like real
feeds. Latency = arrival of that alert on the alerts topic (read by this script) minus the
moment this script handed the report to the producer; both clocks are this process's.
Reports sent during ``--warmup`` seconds are left out. Prints p50/p90/p99/max (target: p99
<= 250 ms). ``--profile FILE`` runs the worker under cProfile (slower: latencies are then not
representative) and prints where its time went. Ctrl-C stops the worker and the broker and removes temp files.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from service.synthetic import REGIONS, Statement, render
from tests.bench import _workers
from tests.bench._common import (
    Cleanup,
    cleanup_on_exit,
    cpu_seconds,
    encode,
    pad_text,
    parse_size,
    percentile,
    print_machine,
    rss_kib,
)
from tests.bench._profile import summarize
from tests.bench._single import Setup, start_setup

TARGET_P99_MS = 250.0
COUNT = 12  # >= every synthetic region's 1h warning level, < every critical level


def alert_report(
    i: int, base: datetime, size: tuple[int, int], rnd: random.Random, outlet: int = 0
) -> dict[str, Any]:
    """Statement ``i``: one hour of COUNT interceptions over one region, as outlet ``outlet`` words it.

    Outlet 0 is the first report of the statement (it fires the alert); the others carry the
    same statement later (counted once, they only raise its outlet count).
    """
    _, code, _ = REGIONS[i % len(REGIONS)]
    start = base + timedelta(hours=i // len(REGIONS))
    statement = Statement(start, start + timedelta(hours=1), {code: COUNT})
    text = render(statement, rnd, style=(i + outlet) % 3)
    return {
        "id": f"lat-{i}" if outlet == 0 else f"lat-{i}-o{outlet}",
        "source": "bench" if outlet == 0 else f"outlet-{outlet}",
        "url": f"https://example.org/bench/{i}/{outlet}",
        "published_at": (statement.end + timedelta(minutes=5 + outlet)).isoformat(),
        "language": "en",
        "text": pad_text(text, max(0, rnd.randint(*size) - 220), rnd),
    }


def stream(
    total: int, outlets: int, base: datetime, size: tuple[int, int], rnd: random.Random
) -> list[dict[str, Any]]:
    """``total`` reports: each statement's first report, then ``outlets - 1`` republications of it."""
    return [alert_report(n // outlets, base, size, rnd, outlet=n % outlets) for n in range(total)]


async def collect_alerts(setup: Setup, arrivals: dict[str, float], stop: asyncio.Event) -> int:
    """Read the alerts topic; note when each report's first 1h alert arrived. Returns records read."""
    consumer = AIOKafkaConsumer(
        setup.topic("alerts"),
        bootstrap_servers=setup.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    records = 0
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=50)
            now = time.time()
            for batch in batches.values():
                for record in batch:
                    records += 1
                    alert = json.loads(record.value)
                    if alert.get("window") != "1h" or alert.get("status") != "firing":
                        continue
                    for evidence in alert.get("evidence", [])[:1]:
                        # Any outlet's report may reach the worker first and name the statement.
                        arrivals.setdefault(evidence["report_id"].split("-o")[0], now)
    finally:
        await consumer.stop()
    return records


async def produce_steady(
    setup: Setup, reports: list[dict[str, Any]], rate: float, sent_at: dict[str, float]
) -> None:
    """Send ``reports`` at ``rate``/s, noting the hand-over time of each; progress every 5 s."""
    producer = AIOKafkaProducer(bootstrap_servers=setup.bootstrap, acks="all", linger_ms=1)
    await producer.start()
    try:
        began = time.monotonic()
        last = began
        pending = []
        for n, report in enumerate(reports):
            delay = began + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            payload = encode(report)
            sent_at[report["id"]] = time.time()
            pending.append(await producer.send(setup.topic("reports"), payload, key=report["id"].encode()))
            if len(pending) >= 200:
                await asyncio.gather(*pending)
                pending.clear()
            if time.monotonic() - last >= 5:
                last = time.monotonic()
                print(f"    sent {n + 1:,}/{len(reports):,} ({(n + 1) / (last - began):,.0f}/s)", flush=True)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def run(args: argparse.Namespace, cleanup: Cleanup) -> None:
    """Broker + worker, warm-up, steady production, latency statistics."""
    profile = Path(args.profile).resolve() if args.profile else None
    setup = await start_setup(args.broker, cleanup, "bench-lat", profile=profile)
    rnd = random.Random(3)  # test data, not security
    size = parse_size(args.size)
    total = int(args.rate * args.seconds)
    base = datetime(2026, 2, 1, 0, 0, tzinfo=UTC)
    reports = stream(total, args.outlets, base, size, rnd)
    firing = {r["id"] for r in reports if r["source"] == "bench"}
    sent_at: dict[str, float] = {}
    arrivals: dict[str, float] = {}
    stop = asyncio.Event()
    reader = asyncio.create_task(collect_alerts(setup, arrivals, stop))
    pid = setup.worker.proc.pid
    cpu0 = cpu_seconds(pid) or 0.0
    t0 = time.monotonic()
    print(
        f"  producing {total:,} reports ({len(firing):,} alert-firing statements, each carried by "
        f"{args.outlets} outlet(s)) at {args.rate:,.0f}/s for {args.seconds:.0f} s ..."
    )
    await produce_steady(setup, reports, args.rate, sent_at)
    produced_in = time.monotonic() - t0
    deadline = time.monotonic() + args.drain
    while len(arrivals) < len(firing) and time.monotonic() < deadline:
        await asyncio.sleep(2)
        print(f"    waiting for the last alerts: {len(arrivals):,}/{len(firing):,}", flush=True)
    cpu = ((cpu_seconds(pid) or 0.0) - cpu0) / (time.monotonic() - t0)
    stop.set()
    records = await reader
    warm = {rid for rid, t in sent_at.items() if t - min(sent_at.values()) >= args.warmup and rid in firing}
    lat = [(arrivals[r] - sent_at[r]) * 1000 for r in warm if r in arrivals]
    missing = len([r for r in warm if r not in arrivals])
    p = {q: percentile(lat, q) for q in (50, 90, 99, 100)}
    print("\n=== produce-to-alert latency ===")
    print_machine(args.broker)
    print(
        f"  rate {args.rate:,.0f}/s (achieved {total / produced_in:,.0f}/s) for {args.seconds:.0f} s, "
        f"reports {args.size}; {total:,} sent ({args.outlets} per statement), "
        f"{len(arrivals):,} statements with a 1h alert; "
        f"{records:,} alert records read"
    )
    print(f"  measured after {args.warmup:.0f} s warm-up: {len(lat):,} alerts, {missing:,} missing")
    print(f"  worker CPU {cpu:.2f} cores, RSS {(rss_kib(pid) or 0) / 1024:,.0f} MiB")
    print(f"  p50 {p[50]:,.0f} ms   p90 {p[90]:,.0f} ms   p99 {p[99]:,.0f} ms   max {p[100]:,.0f} ms")
    ok = "PASS" if p[99] <= TARGET_P99_MS and not missing else "FAIL"
    print(f"  target p99 <= {TARGET_P99_MS:.0f} ms and none missing: {ok}")
    if profile is not None:
        setup.worker.stop()  # cProfile writes its stats on exit
        print(summarize(profile, total))


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--broker", choices=("kafka", "tansu"), default="kafka")
    parser.add_argument("--rate", type=float, default=200.0, help="reports per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to produce")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds left out at the start")
    parser.add_argument("--drain", type=float, default=60.0, help="max seconds to wait for late alerts")
    parser.add_argument("--size", default="1-4KB", help="report size range, e.g. 1-4KB")
    parser.add_argument(
        "--outlets",
        type=int,
        default=1,
        help="reports per statement: 1 (default) = every report a new alert-firing statement; "
        "N = each statement carried by N outlets, like a real feed (alerts fire on the first)",
    )
    parser.add_argument("--profile", default=None, help="run the worker under cProfile, stats to FILE")
    parser.add_argument(
        "--compiled", action="store_true", help="workers use the mypyc-compiled extractor (make compile)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the worker log")
    args = parser.parse_args()
    if args.compiled:
        print(f"workers run the compiled extractor from {_workers.use_compiled()}")
    print(f"bench_latency: {args.rate:,.0f} reports/s for {args.seconds:.0f} s on {args.broker}")
    with cleanup_on_exit("latency", keep=args.keep) as cleanup, contextlib.suppress(asyncio.CancelledError):
        asyncio.run(run(args, cleanup))


if __name__ == "__main__":
    main()
