"""Fetch and cache the Apache Kafka broker jars from Maven Central (no Kafka download exists here).

The jar list is defined by ``tests/support/kafka/pom.xml``; Maven copies it into a cache
folder outside the repository, ``~/.cache/skytally/kafka-<version>/`` (or ``$SKYTALLY_KAFKA_JARS``).
A marker file holding the pom's hash makes every later run skip Maven entirely; a changed pom
fetches again. A lock file keeps two concurrent runs from fetching into the same folder.

Pre-fetch (CI, Makefile): ``python -m tests.support.kafka_jars`` prints what it does.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

KAFKA_DIR = Path(__file__).resolve().parent / "kafka"
POM = KAFKA_DIR / "pom.xml"
LOG4J_CONFIG = KAFKA_DIR / "log4j2.properties"
MARKER = ".skytally-complete"
ENV_JARS = "SKYTALLY_KAFKA_JARS"


class JarFetchError(RuntimeError):
    """Maven could not provide the Kafka jars; the message says what to do."""


def kafka_version() -> str:
    """The Kafka version pinned in the pom (single source of truth)."""
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text())
    if match is None:
        raise JarFetchError(f"{POM} has no <kafka.version> property")
    return match.group(1).strip()


def jars_dir() -> Path:
    """Folder the jars live in: ``$SKYTALLY_KAFKA_JARS`` or the per-version user cache."""
    override = os.environ.get(ENV_JARS)
    if override:
        return Path(override).expanduser()
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache_home / "skytally" / f"kafka-{kafka_version()}"


def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def is_complete(folder: Path) -> bool:
    """True when ``folder`` holds a finished fetch for the current pom."""
    marker = folder / MARKER
    return marker.is_file() and marker.read_text().strip() == _pom_digest()


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock next to ``folder`` (concurrent sessions, pytest-xdist)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f".{folder.name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _say(message: str, verbose: bool) -> None:
    if verbose:
        print(f"[kafka-jars] {message}", file=sys.stderr, flush=True)


def ensure_jars(verbose: bool = False) -> Path:
    """Return the folder of Kafka jars, downloading them with Maven on the first call only."""
    folder = jars_dir()
    if is_complete(folder):
        _say(f"Kafka {kafka_version()} jars already cached in {folder}", verbose)
        return folder
    with _locked(folder):
        if is_complete(folder):  # another process finished while we waited
            return folder
        _fetch(folder, verbose)
    return folder


def _fetch(folder: Path, verbose: bool) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise JarFetchError(
            "Maven ('mvn') is not on PATH, so the Kafka broker jars cannot be fetched. "
            "Install it (`apt-get install maven`), or set SKYTALLY_TEST_BROKER=tansu "
            "to test against the embedded Tansu broker instead."
        )
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    argv = [
        mvn,
        "-B",
        "-Dstyle.color=never",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={partial}",
        "-DincludeScope=runtime",
    ]
    if not verbose:
        argv.insert(1, "-q")
    else:
        argv.insert(1, "-ntp")  # no per-kilobyte progress; artifact lines still show
    _say(
        f"fetching Kafka {kafka_version()} jars from Maven Central into {folder} (first run only, ~45 MB)",
        verbose,
    )
    began = time.monotonic()
    result = subprocess.run(
        argv,
        cwd=KAFKA_DIR,
        stdin=subprocess.DEVNULL,
        text=True,
        stdout=None if verbose else subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=False,
    )
    if result.returncode != 0 or not any(partial.glob("kafka_2.13-*.jar")):
        shutil.rmtree(partial, ignore_errors=True)
        tail = "\n".join((result.stdout or "").splitlines()[-25:])
        raise JarFetchError(
            f"`{' '.join(argv)}` failed with exit code {result.returncode}.\n{tail}\n"
            "What to do: check that Maven Central is reachable (proxy settings in "
            "~/.m2/settings.xml), then run `python -m tests.support.kafka_jars` to retry; "
            "or use SKYTALLY_TEST_BROKER=tansu."
        )
    (partial / MARKER).write_text(_pom_digest())
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    count = len(list(folder.glob("*.jar")))
    _say(f"done: {count} jars in {time.monotonic() - began:.1f} s", verbose)


def main(argv: list[str] | None = None) -> int:
    """CLI: fetch the jars (if needed) and print where they are."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print-dir", action="store_true", help="only print the jar folder")
    args = parser.parse_args(argv)
    if args.print_dir:
        print(jars_dir())
        return 0
    try:
        folder = ensure_jars(verbose=True)
    except JarFetchError as exc:
        print(f"[kafka-jars] ERROR: {exc}", file=sys.stderr)
        return 1
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
