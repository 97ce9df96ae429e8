"""Shared pieces of the end-to-end benchmarks: reports, broker, processes, machine facts.

Not a benchmark itself. Every ``bench_*`` script under ``tests/bench`` imports it; they are
run with ``.venv/bin/python -m tests.bench.<name>`` from the repository root.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from service.broker import stop_process
from service.synthetic import generate

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Colour text of the kind news reports carry around the figures: no numbers, no region
#: names, no weapons or interception verbs, so padding never changes what is extracted.
FILLER = (
    "Local officials said that schools and kindergartens would open as usual in the morning.",
    "Residents were asked to follow the instructions of the emergency services and to stay calm.",
    "Traffic on the main highway was briefly slowed, but it has since returned to normal.",
    "The governor thanked the volunteers who had helped neighbours clear the streets of snow.",
    "Meteorologists expect light frost overnight and a sunny, windless afternoon.",
    "Shops and pharmacies in the city centre kept their usual opening hours.",
    "The regional administration promised to publish further updates on its official channel.",
    "Commuter trains ran on schedule, the railway company said in a short statement.",
    "Municipal workers inspected heating networks and reported no interruptions to supply.",
    "A spokesman for the city council declined to comment on the budget discussions.",
    "Farmers in the area said the mild weather had helped them prepare the fields early.",
    "The football match planned for the weekend will go ahead as scheduled, organisers said.",
    "Officials urged people not to share unverified rumours circulating on social networks.",
    "Hospitals continued to receive patients in the ordinary way, the health department said.",
    "The mayor held a meeting with utility managers to discuss preparations for the winter.",
    "Bus routes in the suburbs were adjusted while road repairs continue near the bridge.",
    "Local museums announced a programme of exhibitions and lectures for the coming season.",
    "Parents were reminded that school canteens will serve hot meals throughout the week.",
)


def parse_size(text: str) -> tuple[int, int]:
    """``"1-4KB"`` -> (1024, 4096); ``"2KB"`` -> (2048, 2048); plain numbers are bytes."""
    unit = 1
    raw = text.strip().upper()
    for suffix, factor in (("KB", 1024), ("K", 1024), ("B", 1)):
        if raw.endswith(suffix):
            raw, unit = raw[: -len(suffix)], factor
            break
    low, _, high = raw.partition("-")
    lo = int(float(low) * unit)
    hi = int(float(high) * unit) if high else lo
    if not 0 < lo <= hi:
        raise ValueError(f"size {text!r}: expected e.g. 1-4KB")
    return lo, hi


def pad_text(text: str, target: int, rnd: random.Random) -> str:
    """The report followed by filler paragraphs until its UTF-8 size reaches ``target`` bytes."""
    paragraphs = [text]
    size = len(text.encode())
    while size < target:
        para = " ".join(rnd.sample(FILLER, rnd.randint(3, 6)))
        paragraphs.append(para)
        size += len(para) + 2
    return "\n\n".join(paragraphs)


def make_reports(n: int, size: tuple[int, int], seed: int = 7) -> list[dict[str, Any]]:
    """``n`` synthetic reports (1-4 outlets per statement, known truth) padded to ``size`` bytes."""
    rnd = random.Random(seed)  # test data, not security
    reports, _ = generate(n // 2 + 10, seed=seed)
    while len(reports) < n:  # outlets per statement vary: draw more if short
        reports, _ = generate(len(reports) + n // 2, seed=seed)
    out = []
    for report in reports[:n]:
        target = rnd.randint(*size)
        body = dict(report)
        # The envelope (id, url, ...) takes ~200 bytes of the message size.
        body["text"] = pad_text(report["text"], max(0, target - 220), rnd)
        out.append(body)
    return out


def encode(report: dict[str, Any]) -> bytes:
    """A report as the JSON bytes skytally reads."""
    return json.dumps(report, ensure_ascii=False, separators=(",", ":")).encode()


# --------------------------------------------------------------------------- machine


def machine_info() -> dict[str, str]:
    """nproc, CPU model, RAM, load average, Python: to print next to every result."""
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "ram": mem,
        "load (1/5/15 min)": load,
        "python": platform.python_version(),
    }


def print_machine(broker_kind: str) -> None:
    """Print machine facts and the broker kind."""
    info = {**machine_info(), "broker": broker_kind}
    for key, value in info.items():
        print(f"  {key:<18} {value}")


# --------------------------------------------------------------------------- process facts


def rss_kib(pid: int) -> int | None:
    """VmRSS of a process in KiB (None once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def median(values: Sequence[float]) -> float:
    """Median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def unique(prefix: str) -> str:
    """A short unique name for topics and consumer groups of one run."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --------------------------------------------------------------------------- cleanup


@dataclass
class Cleanup:
    """Everything a benchmark started: stopped in reverse order on exit, error or Ctrl-C."""

    tmp: Path
    _actions: list[tuple[str, Callable[[], object]]]

    def add(self, name: str, action: Callable[[], object]) -> None:
        """Run ``action`` at exit (last added runs first)."""
        self._actions.append((name, action))

    def process(self, name: str, proc: Any, timeout: float = 20.0) -> None:
        """Stop this subprocess at exit (SIGTERM, then SIGKILL)."""
        self.add(name, lambda: stop_process(proc, timeout))

    def remove(self, action: Callable[[], object]) -> None:
        """Forget an action (already done by the caller)."""
        self._actions = [(n, a) for n, a in self._actions if a is not action]

    def run(self) -> None:
        """Run every action, newest first; a failing action does not stop the others."""
        while self._actions:
            name, action = self._actions.pop()
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - cleanup must go on
                print(f"  cleanup of {name} failed: {exc!r}", file=sys.stderr)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def cleanup_on_exit(prefix: str, keep: bool = False) -> Iterator[Cleanup]:
    """A temp dir and a :class:`Cleanup`; Ctrl-C and SIGTERM stop everything started.

    Subprocesses are started in their own session (``service.broker.spawn``), so a Ctrl-C
    reaches only this script, which then stops them in order and removes the temp dir. Our
    own SIGINT handler (not ``signal.default_int_handler``) also keeps ``asyncio.run`` from
    installing its own, which only cancels the main task and can be swallowed by aiokafka.
    """
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    tmp = Path(tempfile.mkdtemp(prefix=f"skytally-{prefix}-"))
    cleanup = Cleanup(tmp, [])
    try:
        yield cleanup
    except KeyboardInterrupt:
        print("\ninterrupted: stopping everything this benchmark started ...", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            cleanup.run()
            if keep:
                print(f"  kept logs in {tmp}")
            else:
                shutil.rmtree(tmp, ignore_errors=True)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def start_broker(kind: str, cleanup: Cleanup, **kafka_props: str) -> Any:
    """Start a private broker of ``kind`` (``kafka`` or ``tansu``), closed at exit."""
    from tests.support.brokers import KafkaKRaft, make_broker

    began = time.monotonic()
    broker = KafkaKRaft(extra_properties=dict(kafka_props)) if kind == "kafka" else make_broker(kind)
    cleanup.add(f"{kind} broker", broker.close)
    broker.start()
    print(f"  {kind} broker ready at {broker.bootstrap} in {time.monotonic() - began:.1f} s")
    return broker
