"""Benchmark: reports per second of ``extract_report`` on one core over a JSONL corpus.

Usage: python tests/bench/bench_extract.py [CORPUS.jsonl] [--repeat N] [--size 1-4KB] [--compiled]
(default corpus ../shared/samples/dev_reports.jsonl). Prints progress, the throughput and
the memory held by the loaded gazetteer. ``--size`` pads every text with colour paragraphs
(no figures, no places) to a random size in the range, like the news pages of bench_e2e.

``--compiled`` measures the mypyc build of the extractor that ``make compile`` writes to
build/mypyc (``make bench-compiled`` does both).

Besides wall-clock rates it prints the best pass in CPU time of this process: on a shared
machine that figure moves much less with the load of other processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPILED = ROOT / "build" / "mypyc"  # `make compile` puts the mypyc-compiled package there
sys.path.insert(0, str(ROOT))
if "--compiled" in sys.argv:
    sys.path.insert(0, str(COMPILED))

from service.extract import extract_report  # noqa: E402
from service.extract import text as text_module  # noqa: E402
from service.extract.gazetteer import load  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "samples" / "dev_reports.jsonl"


def _rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * 4096
    except OSError:
        return 0


def _records(path: Path) -> list[tuple[str, str, dt.date | None, str | None]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        pub = rec.get("published")
        out.append(
            (
                str(rec.get("id")),
                str(rec.get("text", "")),
                dt.date.fromisoformat(pub) if pub else None,
                rec.get("language"),
            )
        )
    return out


def _padded(
    records: list[tuple[str, str, dt.date | None, str | None]], size: str
) -> list[tuple[str, str, dt.date | None, str | None]]:
    """Every text followed by colour paragraphs up to a random size in ``size`` (seeded)."""
    from tests.bench._common import pad_text, parse_size

    lo, hi = parse_size(size)
    rnd = random.Random(3)  # test data, not security
    return [(rid, pad_text(text, rnd.randint(lo, hi), rnd), pub, lang) for rid, text, pub, lang in records]


def main() -> int:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT))
    parser.add_argument("--repeat", type=int, default=20, help="passes over the corpus")
    parser.add_argument("--size", default=None, help="pad texts to this size range, e.g. 1-4KB")
    parser.add_argument(
        "--compiled", action="store_true", help="measure the mypyc build in build/mypyc (`make compile`)"
    )
    args = parser.parse_args()
    compiled = not str(text_module.__file__).endswith(".py")
    if args.compiled and not compiled:
        print(f"no compiled extractor in {COMPILED}: run `make compile` first", file=sys.stderr)
        return 2
    where = Path(str(text_module.__file__)).parent
    print(f"extractor: {'mypyc-compiled' if compiled else 'pure Python'} ({where})")
    rss0 = _rss_bytes()
    tracemalloc.start()
    t0 = time.perf_counter()
    gz = load()
    load_s = time.perf_counter() - t0
    gaz_bytes, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    automaton = gz.automaton.get_stats().get("total_size", 0)
    print(
        f"gazetteer: {len(gz.regions)} regions, {gz.form_count} alias forms, "
        f"loaded in {load_s * 1000:.1f} ms; memory: {gaz_bytes / 1e6:.2f} MB Python objects "
        f"(tracemalloc), automaton {automaton / 1e6:.2f} MB, RSS +{(_rss_bytes() - rss0) / 1e6:.1f} MB"
    )
    records = _records(Path(args.corpus))
    if args.size:
        records = _padded(records, args.size)
    chars_per = sum(len(r[1]) for r in records) / max(1, len(records))
    print(f"corpus: {len(records)} reports from {args.corpus}, {chars_per:,.0f} characters on average")
    for rid, text, pub, lang in records[:5]:  # warm-up
        extract_report(text, report_id=rid, published=pub, language=lang)
    done = 0
    chars = 0
    best = 0.0
    best_cpu = 0.0
    start = time.perf_counter()
    for rep in range(args.repeat):
        t_pass = time.perf_counter()
        c_pass = time.process_time()
        for rid, text, pub, lang in records:
            extract_report(text, report_id=rid, published=pub, language=lang)
            done += 1
            chars += len(text)
        rate = len(records) / (time.perf_counter() - t_pass)
        best = max(best, rate)
        best_cpu = max(best_cpu, len(records) / max(1e-9, time.process_time() - c_pass))
        print(f"  pass {rep + 1}/{args.repeat}: {done} reports, {rate:,.0f} reports/s this pass")
    elapsed = time.perf_counter() - start
    print(f"best pass: {best:,.0f} reports/s ({1000 / best:.3f} ms/report)")
    print(f"best pass in CPU time: {best_cpu:,.0f} reports/s ({1000 / best_cpu:.3f} ms/report)")
    print(
        f"total: {done} reports in {elapsed:.2f} s = {done / elapsed:,.0f} reports/s, "
        f"{elapsed / done * 1000:.3f} ms/report, {chars / elapsed / 1e6:.2f} MB/s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
