"""The ``skytally`` command: faust's CLI (``worker`` and friends) plus skytally's commands."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import structlog
from faust.cli import argument, option

from service import agents as _agents  # noqa: F401 - registers the agents
from service import gc_tuning, state_dir
from service import web as _web  # noqa: F401 - registers the web views
from service.app import app, runtime
from service.errors import SkytallyError


def _fail(message: str) -> None:
    print(f"skytally: {message}", file=sys.stderr)
    raise SystemExit(2)


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        _fail(f"--published {value!r} is not an ISO date such as 2025-11-12")
    return None


@app.command(
    argument("file", required=False, default="-"),
    option("--published", default=None, help="Publication date (ISO) for plain mode."),
    option(
        "--jsonl",
        is_flag=True,
        default=False,
        help='Read lines {"id","text","published","language"}; write one result per line.',
    ),
)
async def extract(self: Any, file: str, published: str | None, jsonl: bool) -> None:
    """Extract interceptions from report text offline (no broker)."""
    from service.extract import extract_report

    stream = sys.stdin if file == "-" else None
    if stream is None and not Path(file).exists():
        _fail(f"{file}: no such file")
    with stream or Path(file).open(encoding="utf-8") as fh:
        if not jsonl:
            text = fh.read()
            result = extract_report(
                text, report_id="stdin" if file == "-" else Path(file).name, published=_parse_date(published)
            )
            print(result.model_dump_json(indent=2))
            return
        out = sys.stdout
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                text = item["text"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                _fail(f"line {line_no}: expected a JSON object with 'text' ({exc})")
            pub = item.get("published") or item.get("published_at")
            result = extract_report(
                str(text),
                report_id=str(item.get("id", line_no)),
                published=_parse_date(pub),
                language=item.get("language"),
            )
            out.write(result.model_dump_json() + "\n")


@app.command(
    argument("file", required=False, default=None),
    option("--rate", type=float, default=0.0, help="Messages per second (0: as fast as possible)."),
    option("--topic", default=None, help="Target topic (default: the reports topic)."),
    option(
        "--synthetic",
        type=int,
        default=0,
        help="Generate N statements (republished, late, revised) instead of reading FILE.",
    ),
    option("--seed", type=int, default=1, help="Random seed of the synthetic stream."),
    option(
        "--save",
        default=None,
        help="With --synthetic: write reports.jsonl and expected.json (final counts) here.",
    ),
    option("--dry-run", is_flag=True, default=False, help="Write the files only; produce nothing."),
)
async def replay(
    self: Any,
    file: str | None,
    rate: float,
    topic: str | None,
    synthetic: int,
    seed: int,
    save: str | None,
    dry_run: bool,
) -> None:
    """Produce reports (a JSONL file or a synthetic stream) to the input topic, with a progress bar."""
    from rich.progress import Progress

    from service.feed import Payload, produce_feed, read_feed
    from service.kafka_admin import aiokafka_config

    payloads: list[Payload]
    if synthetic:
        payloads = _synthetic(synthetic, seed, Path(save) if save else None)
    elif file:
        try:
            payloads = list(read_feed(Path(file)))
        except SkytallyError as exc:
            _fail(str(exc))
    else:
        _fail("give a FILE.jsonl to replay, or --synthetic N")
    if dry_run:
        return
    settings = runtime.settings
    target = topic or settings.topic_reports
    with Progress() as progress:
        task = progress.add_task(f"replay -> {target}", total=len(payloads))
        sent = await produce_feed(
            aiokafka_config(settings),
            target,
            payloads,
            rate=rate,
            on_sent=lambda n: progress.update(task, completed=n),
        )
    print(f"sent {sent} messages to {target} at {settings.kafka_bootstrap}")


def _synthetic(n: int, seed: int, save: Path | None) -> list[Any]:
    """Generate a synthetic stream; optionally write it and its expected counts to ``save``."""
    from service.feed import payload_from_line
    from service.synthetic import generate, truth

    reports, statements = generate(n, seed=seed)
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        with (save / "reports.jsonl").open("w", encoding="utf-8") as fh:
            for report in reports:
                fh.write(json.dumps(report, ensure_ascii=False) + "\n")
        expected = {
            "windows": [w.name for w in runtime.windows],
            "grace_hours": runtime.settings.grace_hours,
            "statements": len(statements),
            "reports": len(reports),
            "counts": truth(statements, runtime.windows),
        }
        (save / "expected.json").write_text(json.dumps(expected, indent=1), encoding="utf-8")
        print(
            f"wrote {len(reports)} reports of {len(statements)} statements and their expected "
            f"counts to {save}/",
            file=sys.stderr,
        )
    return [payload_from_line(r, i) for i, r in enumerate(reports, 1)]


@app.command(
    option("--out", default="schemas", help="Directory to write the JSON Schemas into."),
)
async def schemas(self: Any, out: str) -> None:
    """Write the JSON Schema of every topic's message into schemas/."""
    from service.schemas import write_schemas

    for path in write_schemas(Path(out)):
        print(path)


@app.command(
    option(
        "--once",
        is_flag=True,
        default=False,
        help="Exit 0 once every fed report is processed, after printing the final tables.",
    ),
    option("--feed", default=None, help="Feed file (JSONL or a plain text report)."),
    option("--rate", type=float, default=4.0, help="Reports per second fed (0: all at once)."),
)
async def demo(self: Any, once: bool, feed: str | None, rate: float) -> None:
    """Embedded broker + worker + sample reports: counts and alerts as they happen."""
    from service.demo import run_demo

    try:
        code = await run_demo(runtime.settings, once=once, feed=Path(feed) if feed else None, rate=rate)
    except SkytallyError as exc:
        _fail(str(exc))
    raise SystemExit(code)


@app.command(
    argument("file"),
    option("--rules", default=None, help="Alert rules TOML (default: SKYTALLY_RULES or the bundled rules)."),
)
async def backtest(self: Any, file: str, rules: str | None) -> None:
    """Run a report archive through extraction and the rules offline; count alerts per rule and region."""
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from service.backtest import backtest_file

    settings = runtime.settings.model_copy(update={"rules": Path(rules)} if rules else {})
    if not Path(file).exists():
        _fail(f"{file}: no such file")
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("backtest", total=None)
            result = backtest_file(Path(file), settings, lambda n: progress.update(task, completed=n))
    except SkytallyError as exc:
        _fail(str(exc))
    table = Table(title=f"Alerts the rules would have raised over {result.reports} reports")
    for col in ("rule", "window", "region", "alerts"):
        table.add_column(col, justify="right" if col == "alerts" else "left")
    for (rule, window, region), n in sorted(result.fired().items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(rule, window, region, str(n))
    console = Console()
    console.print(table)
    if result.unreadable:
        console.print("unreadable reports: " + ", ".join(f"{k} {v}" for k, v in result.unreadable.items()))


@app.command(
    argument("gold"),
    option("--mismatches", type=int, default=0, help="Also list up to N reports that differ from gold."),
)
async def evaluate(self: Any, gold: str, mismatches: int) -> None:
    """Score extraction against a gold JSONL file (dev corpus format), by language."""
    from service.extract.evaluate import format_mismatches, format_report, predict, score

    path = Path(gold)
    if not path.exists():
        _fail(f"{gold}: no such file")
    records = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    _fail(f"{gold}:{line_no}: not a JSON line ({exc.msg})")
    try:
        predictions = predict(records)
    except ValueError as exc:
        _fail(f"{gold}: a 'published' value is not an ISO date such as 2025-11-12 ({exc})")
        return
    report = score(records, predictions)
    print(format_report(report))
    if mismatches:
        print(format_mismatches(report, limit=mismatches))


def check_worker_config() -> None:
    """Fail fast, before joining the group, on a rules file or window setting that cannot work."""
    import structlog

    from service.alert_flow import rules_of

    try:
        rules = rules_of(runtime)
    except SkytallyError as exc:
        _fail(f"alert rules: {exc}")
    unknown = rules.unknown_windows([w.name for w in runtime.windows])
    # The bundled defaults carry rules for the optional windows too (24h/1h): only a rules
    # file the operator wrote is worth a warning.
    if unknown and runtime.settings.rules is not None:

        async def report_unknown() -> None:  # logged once the worker's JSON logging is set up
            structlog.get_logger("skytally").warning(
                "rules_for_windows_not_kept",
                rules=str(runtime.settings.rules),
                windows=unknown,
                hint="add them to SKYTALLY_WINDOWS or remove those rules; they can never fire",
            )

        app.task(report_unknown)


def main() -> None:
    """Console script entry point."""
    args = sys.argv[1:]
    if "worker" in args and not {"-h", "--help"} & set(args):
        check_worker_config()
        import asyncio

        from service.kafka_admin import ensure_topics

        try:
            asyncio.run(ensure_topics(runtime.settings))
        except SkytallyError as exc:
            _fail(str(exc))
        tune_worker_gc()
        if state_dir.persistent(runtime.settings.store):
            run_worker_on_state_dir(Path(app.conf.tabledir))
            return
    app.main()


def tune_worker_gc() -> None:
    """Tune the garbage collector for a long-running worker (see service.gc_tuning)."""
    tuned = gc_tuning.tune(runtime.settings.gc_young_threshold)

    async def report_gc() -> None:  # logged once the worker's JSON logging is set up
        structlog.get_logger("skytally").info(
            "gc_tuned", thresholds=list(tuned.after), default=list(tuned.before), frozen=tuned.frozen
        )

    app.task(report_gc)


def run_worker_on_state_dir(tabledir: Path) -> None:
    """Run the worker holding its table directory (see service.state_dir)."""
    log = structlog.get_logger("skytally")
    try:
        held = state_dir.claim(tabledir)
    except SkytallyError as exc:
        _fail(str(exc))
        return
    if held.wiped:
        runtime.metrics.state_wipes.inc()

        async def report_wipe() -> None:  # logged once the worker's JSON logging is set up
            log.warning(
                "state_wiped_after_unclean_shutdown",
                tabledir=str(tabledir),
                previous=held.previous,
                removed=held.wiped,
                hint="the last worker on this directory did not stop cleanly; "
                "its tables are rebuilt from their changelogs",
            )

        app.task(report_wipe)
    code: Any = 1
    try:
        app.main()
        code = 0
    except SystemExit as exc:
        code = exc.code
        raise
    finally:
        held.release(clean=code in (0, None))


if __name__ == "__main__":
    main()
