"""Memory of the real skytally worker under a steady report rate: VmRSS every 5 s, growth after warm-up.

Run from the repository root (10 minutes by default; ``--minutes 2`` for a quick look)::

    .venv/bin/python -m tests.bench.bench_memory --broker kafka --rate 100 --minutes 10

Starts one broker and one ``skytally worker`` (own topics and group), then produces
synthetic reports (``service.synthetic``: statements carried by 1-4 outlets, revisions, late
reports; padded with neutral colour text to ``--size``) at ``--rate`` reports/s, fresh ids
all along. The worker's VmRSS (``/proc/PID/status``) is sampled every ``--every`` seconds.
Growth = RSS at the end / RSS at the end of ``--warmup`` (default: the first fifth of the
run, at least 60 s) - 1; target < 5 %. Table state grows with every new statement, region
hour and alert window until retention expires it, so a run of new reports measures state
growth plus any leak; ``--pool N`` cycles over N reports with their ids (exact redeliveries, which change
no state once seen) and so measures the leak alone. Also prints the worker's consumer lag at the end
(reports produced minus reports consumed) and, every sample, how far the statement and
region stages are behind (``stage lag``) and how many keys the tables hold: a worker that
falls behind holds a backlog, and state grows until retention expires it; neither is a leak.
Ctrl-C stops the worker and the broker and removes temp files.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaProducer

from tests.bench import _workers
from tests.bench._common import (
    Cleanup,
    cleanup_on_exit,
    cpu_seconds,
    encode,
    make_reports,
    parse_size,
    print_machine,
    rss_kib,
)
from tests.bench._single import Setup, start_setup
from tests.bench._workers import metric_or_nan
from tests.bench.bench_backfill import stage_lag

TARGET_GROWTH = 0.05


async def produce(setup: Setup, payloads: list[tuple[bytes, bytes]], rate: float, stop: asyncio.Event) -> int:
    """Send at ``rate``/s until all are sent or ``stop`` is set; the count sent."""
    producer = AIOKafkaProducer(bootstrap_servers=setup.bootstrap, acks="all", linger_ms=5)
    await producer.start()
    sent = 0
    try:
        began = time.monotonic()
        pending = []
        for key, value in payloads:
            if stop.is_set():
                break
            delay = began + sent / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(await producer.send(setup.topic("reports"), value, key=key))
            sent += 1
            if len(pending) >= 500:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


def metric_or_nan_labels(handle: Any, name: str, labels: dict[str, str]) -> float:
    """One labelled sample of a worker's metric, NaN when the worker does not answer."""
    try:
        return float(handle.metric(name, labels))
    except (OSError, ValueError):
        return float("nan")


async def run(args: argparse.Namespace, cleanup: Cleanup) -> None:
    """Broker + worker, steady production, RSS samples and growth."""
    setup = await start_setup(args.broker, cleanup, "bench-mem")
    total = int(args.rate * args.minutes * 60 * 1.05) + 100
    distinct = min(total, args.pool) if args.pool else total
    print(f"  generating {distinct:,} distinct reports of {args.size} ...")
    pool = [(r["id"].encode(), encode(r)) for r in make_reports(distinct, parse_size(args.size), seed=11)]
    payloads = [pool[i % len(pool)] for i in range(total)]
    pid = setup.worker.proc.pid
    duration = args.minutes * 60
    warmup = args.warmup if args.warmup is not None else max(60.0, duration / 5)
    stop = asyncio.Event()
    producer = asyncio.create_task(produce(setup, payloads, args.rate, stop))
    began = time.monotonic()
    cpu0 = cpu_seconds(pid) or 0.0
    samples: list[tuple[float, int]] = []
    print(f"  producing {args.rate:,.0f} reports/s for {args.minutes:g} min; warm-up {warmup:.0f} s")
    print(f"  {'t (s)':>7} {'RSS MiB':>9} {'consumed':>10} {'table keys':>10} {'stage lag':>9}")
    try:
        while (elapsed := time.monotonic() - began) < duration:
            rss = rss_kib(pid)
            if rss is None or setup.worker.proc.poll() is not None:
                code = setup.worker.proc.returncode
                raise RuntimeError(f"worker exited ({code}); see {setup.worker.log_path}")
            samples.append((elapsed, rss))
            consumed = metric_or_nan(setup.worker, "skytally_reports_consumed_total")
            keys = sum(  # state held (refreshed every 30 s by the worker): growth here is not a leak
                metric_or_nan_labels(setup.worker, "skytally_table_keys", {"table": table})
                for table in ("statements", "region-buckets", "alert-state")
            )
            lag = stage_lag(setup)  # stages 2 and 3 behind: a backlog held, not a leak
            row = f"{elapsed:>7.0f} {rss / 1024:>9.1f} {consumed:>10,.0f} {keys:>10,.0f} {lag:>9,.0f}"
            print(f"  {row}", flush=True)
            await asyncio.sleep(args.every)
    finally:
        stop.set()
        sent = await producer
    cpu = ((cpu_seconds(pid) or 0.0) - cpu0) / (time.monotonic() - began)
    consumed = metric_or_nan(setup.worker, "skytally_reports_consumed_total")
    after = [rss for t, rss in samples if t >= warmup]
    base = after[0] if after else samples[0][1]
    end = samples[-1][1]
    growth = end / base - 1
    print("\n=== worker memory ===")
    print_machine(args.broker)
    kind = f"cycling {args.pool:,} reports" if args.pool else "all new reports"
    print(
        f"  {args.rate:,.0f} reports/s of {args.size} ({kind}) for {args.minutes:g} min: {sent:,} sent, "
        f"{consumed:,.0f} consumed (lag {sent - consumed:,.0f}); worker CPU {cpu:.2f} cores"
    )
    print(
        f"  RSS: start {samples[0][1] / 1024:.1f} MiB, after warm-up ({warmup:.0f} s) "
        f"{base / 1024:.1f} MiB, end {end / 1024:.1f} MiB, max {max(r for _, r in samples) / 1024:.1f} MiB"
    )
    ok = "PASS" if growth < TARGET_GROWTH else "FAIL"
    print(f"  growth after warm-up: {growth:+.1%} (target < {TARGET_GROWTH:.0%}): {ok}")


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--broker", choices=("kafka", "tansu"), default="kafka")
    parser.add_argument("--rate", type=float, default=100.0, help="reports per second")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the run")
    parser.add_argument("--warmup", type=float, default=None, help="seconds before the baseline sample")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--size", default="1-4KB", help="report size range, e.g. 1-4KB")
    parser.add_argument(
        "--pool",
        type=int,
        default=0,
        help="cycle over this many reports (same ids: redeliveries change no state), "
        "to tell a leak from table growth; 0: every report new",
    )
    parser.add_argument(
        "--compiled", action="store_true", help="workers use the mypyc-compiled extractor (make compile)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the worker log")
    args = parser.parse_args()
    if args.compiled:
        print(f"workers run the compiled extractor from {_workers.use_compiled()}")
    print(f"bench_memory: {args.rate:,.0f} reports/s for {args.minutes:g} min on {args.broker}")
    with cleanup_on_exit("memory", keep=args.keep) as cleanup:
        asyncio.run(run(args, cleanup))


if __name__ == "__main__":
    main()
