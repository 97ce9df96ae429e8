"""End-to-end throughput: raw consumer, a trivial faust agent and the real skytally worker.

Run from the repository root (about 10 minutes with these settings: the statement and region
stages drain ~75 s per round and worker count; nothing else heavy should run on the machine
when the numbers matter)::

    .venv/bin/python -m tests.bench.bench_e2e --broker kafka --messages 10000 --size 1-4KB \
        --workers 1,2 --runs 2

One broker is started by the script (``kafka``: Apache Kafka in KRaft mode from the cached
jars; ``tansu``: the embedded in-memory broker). ``--messages`` synthetic reports
(``service.synthetic``: 1-4 outlets per statement, revisions, late reports) padded with
neutral colour paragraphs to ``--size`` bytes are produced ONCE to a 4-partition input topic;
every round then reads that same topic:

(a) ``raw``: a group-less aiokafka consumer reading every message (ceiling 1);
(b) ``trivial``: a faust worker whose agent does ``json.loads`` and one table increment
    (``tests/bench/trivial_app.py``; ceiling 2), timed on its table's changelog records;
    run with 1 worker and with each count in ``--workers``, so ``trivial x2 / x1`` shows what
    two faust workers next to the broker can gain on this machine at all;
(c) ``skytally xN``: N real ``skytally worker`` processes in one consumer group (fresh
    group and output topics per run), timed from the first extraction result on the
    interceptions topic to the last window count the region stage published once the
    statement and region stages have no lag: every stage, not stage 1 alone (shown next to
    it: first to last extraction result, dead letters included).

Rates use the output records' CreateTime (first to last), so worker start-up and group join
are not counted. On Kafka ``group.initial.rebalance.delay.ms`` is 3 s so two workers started
together share the partitions from the first assignment instead of rebalancing mid-run.
Targets checked at the end: skytally x1 >= 1,500 reports/s and >= 60 % of trivial;
skytally x2 >= 1.7 x skytally x1. Ctrl-C stops every process started and removes temp files.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import math
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from service.broker import stop_process
from tests.bench import _workers
from tests.bench._common import (
    Cleanup,
    cleanup_on_exit,
    encode,
    machine_info,
    make_reports,
    median,
    parse_size,
    print_machine,
    start_broker,
    unique,
)
from tests.bench._profile import summarize
from tests.bench._workers import (
    changelogs,
    create_topics,
    delete_topics,
    downstream_lag,
    ensure_alive,
    follow,
    last_timestamp_ms,
    metric_or_nan,
    produce_all,
    report_id_of,
    spawn_skytally_worker,
    topic_size,
    wait_healthy,
)
from tests.support.faust_worker import start_worker
from tests.support.skytally_worker import worker_env

TARGET_RATE = 1500.0
#: Input records of the statement and region stages that may be processed but not committed.
DONE_LAG = 1_000
TARGET_SHARE = 0.60
TARGET_SCALE = 1.7


async def raw_consume(bootstrap: str, topic: str, expect: int) -> float:
    """(a) messages/s of a plain aiokafka consumer over every partition of ``topic``."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4_194_304,
    )
    await consumer.start()  # no group: every partition is assigned, read from the start
    try:
        deadline = time.monotonic() + 60 + expect / 1000
        seen = 0
        first = time.perf_counter()
        while seen < expect:
            if time.monotonic() > deadline:
                raise TimeoutError(f"raw consumer: only {seen:,}/{expect:,} messages")
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            seen += sum(len(records) for records in batches.values())
        return seen / (time.perf_counter() - first)
    finally:
        await consumer.stop()


async def trivial_run(
    bootstrap: str,
    topic: str,
    expect: int,
    cleanup: Cleanup,
    run: int,
    broker_pid: int | None,
    workers: int = 1,
) -> dict[str, float]:
    """(b) ``workers`` trivial faust workers in one group on ``topic``; rate from their changelog records.

    With two, it is this machine's own scaling ceiling for two faust workers next to the
    broker: what ``skytally x2 / x1`` can be compared with.
    """
    app_id = unique("bench-trivial")
    changelog = f"{app_id}-per-source-changelog"
    await create_topics(bootstrap, [changelog])
    env = {
        "BENCH_BOOTSTRAP": bootstrap,
        "BENCH_APP_ID": app_id,
        "BENCH_IN": topic,
        "BENCH_DATADIR": str(cleanup.tmp / app_id),
    }
    procs = []
    for i in range(workers):
        log = cleanup.tmp / f"trivial{workers}-{run}-{i}.log"
        worker_env = {**env, "BENCH_DATADIR": f"{env['BENCH_DATADIR']}-{i}"}
        proc = start_worker("tests.bench.trivial_app", worker_env, log, loglevel="warn", cwd=cleanup.tmp)
        stop = functools.partial(stop_process, proc, 20)
        cleanup.add(f"trivial faust worker {i}", stop)
        procs.append((proc, log, stop))
    try:
        progress, cores = await follow(
            bootstrap,
            [changelog],
            expect,
            lambda _t, r: (r.partition, r.offset),
            label=f"trivial faust x{workers}",
            timeout=60 + expect / 100,
            pids={
                "worker": lambda: [p.pid for p, _, _ in procs],
                "broker": lambda: [broker_pid] if broker_pid else [],
            },
            check=ensure_alive(lambda: [(p, log) for p, log, _ in procs]),
        )
    finally:
        for _, _, stop in procs:
            stop()
            cleanup.remove(stop)
    await delete_topics(bootstrap, [changelog])
    return {"rate": progress.rate(), "cores": cores["worker"], "broker_cpu": cores["broker"]}


async def skytally_run(
    bootstrap: str,
    topic: str,
    expect: int,
    workers: int,
    cleanup: Cleanup,
    run: int,
    broker_pid: int | None,
    profile: Path | None = None,
) -> dict[str, float]:
    """(c) ``workers`` skytally workers in one group; rate from first extraction to last window count.

    ``profile``: run the (single) worker under cProfile, stats to that file.
    """
    app_id = unique(f"bench-sky{workers}")
    env = worker_env(bootstrap, app_id, app_id, cleanup.tmp / app_id, SKYTALLY_TOPIC_REPORTS=topic)
    outputs = [v for k, v in env.items() if k.startswith("SKYTALLY_TOPIC_") and v != topic]
    await create_topics(bootstrap, [*outputs, *changelogs(app_id)])
    handles = []
    try:
        for i in range(workers):
            handle = spawn_skytally_worker(env, cleanup.tmp / f"sky{workers}-{run}-{i}.log", profile=profile)
            cleanup.process(f"skytally worker {i}", handle.proc)
            handles.append(handle)
        wait_healthy(handles)
        counts: dict[str, int] = defaultdict(int)

        def note(t: str, _r: Any) -> None:
            counts[t] += 1

        progress, cores = await follow(
            bootstrap,
            [env["SKYTALLY_TOPIC_INTERCEPTIONS"], env["SKYTALLY_TOPIC_DEAD_LETTER"]],
            expect,
            report_id_of,
            label=f"skytally x{workers}",
            timeout=60 + expect / 20,
            pids={
                "worker": lambda: [h.proc.pid for h in handles],
                "broker": lambda: [broker_pid] if broker_pid else [],
            },
            on_record=note,
            check=ensure_alive(lambda: [(h.proc, h.log_path) for h in handles]),
        )
        finished = await downstream_done(bootstrap, env, handles)
        whole = (
            (expect - 1) / ((finished - progress.first_ms) / 1000)
            if finished is not None and progress.first_ms is not None and finished > progress.first_ms
            else float("nan")
        )
        print(f"    all stages done: {whole:,.0f} reports/s (stage 1 alone {progress.rate():,.0f}/s)")
        per_worker = [metric_or_nan(h, "skytally_reports_consumed_total") for h in handles]
        dead = counts[env["SKYTALLY_TOPIC_DEAD_LETTER"]]
        print(
            f"    reports consumed per worker: {per_worker}; dead letters: {dead}; "
            f"CPU: workers {cores['worker']:.2f} cores, broker {cores['broker']:.2f}"
        )
        return {
            "rate": whole,
            "stage1": progress.rate(),
            "cores": cores["worker"],
            "dead": float(dead),
            "broker_cpu": cores["broker"],
        }
    finally:
        for handle in handles:
            handle.stop()
        await delete_topics(bootstrap, [*outputs, *changelogs(app_id)])


async def downstream_done(
    bootstrap: str, env: dict[str, str], handles: list[Any], timeout: float = 300.0
) -> int | None:
    """When the statement and region stages finished: the newest region-count's CreateTime.

    They are done when the region-counts topic has stopped growing for 3 s while their input
    lag is at most ``DONE_LAG`` (commits trail processing by up to faust's commit interval);
    the lag is printed meanwhile.
    """
    topics = (env["SKYTALLY_TOPIC_INTERCEPTIONS"], env["SKYTALLY_TOPIC_REGION_UPDATES"])
    counts_topic = env["SKYTALLY_TOPIC_REGION_COUNTS"]
    deadline = time.monotonic() + timeout
    last_total, still = -1, 0
    while still < 3:
        if time.monotonic() > deadline:
            print("    statement/region stages did not finish in time: whole-pipeline rate not measured")
            return None
        await asyncio.sleep(1.0)
        total = await topic_size(bootstrap, counts_topic)
        lag = downstream_lag([h.get("/metrics") for h in handles], topics)
        # done: counts no longer come out and the stages' input is (nearly) all committed
        still = still + 1 if total and total == last_total and lag <= DONE_LAG else 0
        last_total = total
        print(f"    statement and region stages: input lag {lag:,.0f}; {total:,} window counts", flush=True)
    return await last_timestamp_ms(bootstrap, counts_topic)


def print_table(results: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> None:
    """Medians per measurement and the ratios the issue targets."""
    nan = float("nan")
    med = {name: median([r["rate"] for r in runs]) for name, runs in results.items()}
    cores = {name: median([r.get("cores", nan) for r in runs]) for name, runs in results.items()}
    bcpu = {name: median([r.get("broker_cpu", nan) for r in runs]) for name, runs in results.items()}
    print("\n=== results: reports/s, median of", args.runs, "run(s) ===")
    print(f"  broker {args.broker}; {args.messages:,} messages of {args.size}; machine:")
    print_machine(args.broker)
    stage1 = {name: median([r.get("stage1", nan) for r in runs]) for name, runs in results.items()}
    print(
        f"  {'measurement':<16}{'median/s':>10}  {'runs':<26}{'stage 1/s':>10}"
        f"{'worker CPU':>11}{'broker CPU':>11}"
    )
    for name, runs in results.items():
        all_runs = ", ".join(f"{r['rate']:,.0f}" for r in runs)
        cpu = "" if math.isnan(cores[name]) else f"{cores[name]:.2f}"
        bc = "" if math.isnan(bcpu[name]) else f"{bcpu[name]:.2f}"
        s1 = "" if math.isnan(stage1[name]) else f"{stage1[name]:,.0f}"
        print(f"  {name:<16}{med[name]:>10,.0f}  {all_runs:<26}{s1:>10}{cpu:>11}{bc:>11}")
    one, two, triv = med.get("skytally x1"), med.get("skytally x2"), med.get("trivial faust")
    print("\n  targets")
    if one is not None:
        ok = "PASS" if one >= TARGET_RATE else "FAIL"
        print(f"  skytally x1 >= {TARGET_RATE:,.0f}/s          {one:>8,.0f}/s   {ok}")
    if one is not None and triv:
        share = one / triv
        ok = "PASS" if share >= TARGET_SHARE else "FAIL"
        print(f"  skytally x1 / trivial >= {TARGET_SHARE:.0%}     {share:>8.0%}     {ok}")
    if one and two is not None:
        scale = two / one
        ok = "PASS" if scale >= TARGET_SCALE else "FAIL"
        print(f"  skytally x2 / x1 >= {TARGET_SCALE}x          {scale:>8.2f}x    {ok}")
    triv2 = med.get("trivial faust x2")
    if triv and triv2 is not None:
        print(f"  (this machine's ceiling: trivial faust x2 / x1 = {triv2 / triv:.2f}x)")


async def run(args: argparse.Namespace, cleanup: Cleanup) -> None:
    """Start the broker, produce once, then measure every round."""
    broker = start_broker(
        args.broker,
        cleanup,
        **({"group.initial.rebalance.delay.ms": "3000"} if args.broker == "kafka" else {}),
    )
    bootstrap = broker.bootstrap
    broker_pid = getattr(broker, "pid", None)
    size = parse_size(args.size)
    print(f"  generating {args.messages:,} reports of {args.size} ...")
    reports = make_reports(args.messages, size)
    payloads = [(r["id"].encode(), encode(r)) for r in reports]
    mean = sum(len(v) for _, v in payloads) / len(payloads)
    topic = unique("bench.reports")
    await create_topics(bootstrap, [topic], partitions=4)
    rate = await produce_all(bootstrap, topic, payloads)
    print(f"  produced {len(payloads):,} messages (mean {mean:,.0f} B) to {topic} at {rate:,.0f}/s")
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    # the trivial agent runs with as many workers as skytally does: its x2 / x1 is the machine's
    trivial_workers = sorted({1, *workers})
    results: dict[str, list[dict[str, float]]] = defaultdict(list)
    for n in range(1, args.runs + 1):
        print(f"\n--- round {n}/{args.runs} (load {machine_info()['load (1/5/15 min)']}) ---")
        if "raw" in args.skip_not:
            r = await raw_consume(bootstrap, topic, len(payloads))
            print(f"    raw aiokafka consumer: {r:,.0f}/s")
            results["raw aiokafka"].append({"rate": r})
        if "trivial" in args.skip_not:
            for w in trivial_workers:
                t = await trivial_run(bootstrap, topic, len(payloads), cleanup, n, broker_pid, workers=w)
                name = "trivial faust" if w == 1 else f"trivial faust x{w}"
                print(f"    {name}: {t['rate']:,.0f}/s, {t['cores']:.2f} cores")
                results[name].append(t)
        for w in workers:
            s = await skytally_run(bootstrap, topic, len(payloads), w, cleanup, n, broker_pid)
            print(f"    skytally x{w}: {s['rate']:,.0f}/s")
            results[f"skytally x{w}"].append(s)
    print_table(results, args)
    if args.profile:
        print("\n--- profiling one skytally worker under cProfile (not in the table) ---")
        prof = Path(args.profile).resolve()
        s = await skytally_run(bootstrap, topic, len(payloads), 1, cleanup, 0, broker_pid, profile=prof)
        print(f"    skytally x1 under cProfile: {s['rate']:,.0f}/s")
        print(summarize(prof, len(payloads)))


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--broker", choices=("kafka", "tansu"), default="kafka")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--size", default="1-4KB", help="report size range, e.g. 1-4KB")
    parser.add_argument("--workers", default="1,2", help="skytally worker counts to measure, e.g. 1,2")
    parser.add_argument("--runs", type=int, default=3, help="rounds (medians are reported)")
    parser.add_argument(
        "--only",
        dest="skip_not",
        default="raw,trivial",
        help="ceilings to measure besides skytally: raw,trivial (empty: none)",
    )
    parser.add_argument("--profile", default=None, help="also run one worker under cProfile, stats to FILE")
    parser.add_argument(
        "--compiled", action="store_true", help="workers use the mypyc-compiled extractor (make compile)"
    )
    parser.add_argument("--keep", action="store_true", help="keep worker logs (temp dir is printed)")
    args = parser.parse_args()
    if args.compiled:
        print(f"workers run the compiled extractor from {_workers.use_compiled()}")
    print(
        f"bench_e2e: {args.messages:,} reports of {args.size} on {args.broker}, workers {args.workers}, "
        f"{args.runs} round(s)"
    )
    with cleanup_on_exit("e2e", keep=args.keep) as cleanup:
        asyncio.run(run(args, cleanup))


if __name__ == "__main__":
    main()
