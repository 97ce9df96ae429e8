"""The table directory guard: local tables survive a clean restart and are rebuilt after a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from service import state_dir
from service.errors import SkytallyError


def tables(tabledir: Path) -> Path:
    """Put a fake RocksDB store in ``tabledir`` and return it."""
    db = tabledir / "region-buckets-3.db"
    db.mkdir(parents=True)
    (db / "000001.log").write_bytes(b"local writes")
    return db


def test_a_clean_restart_keeps_the_local_tables(tmp_path: Path) -> None:
    tabledir = tmp_path / "app" / "tables"
    first = state_dir.claim(tabledir)
    db = tables(tabledir)
    first.release(clean=True)

    second = state_dir.claim(tabledir)
    assert [] == second.wiped
    assert (db / "000001.log").read_bytes() == b"local writes"
    second.release(clean=True)


def test_after_a_crash_the_local_tables_are_deleted(tmp_path: Path) -> None:
    """A run that ended without a clean stop leaves a store that may be ahead of its changelog."""
    tabledir = tmp_path / "app" / "tables"
    script = textwrap.dedent(
        f"""
        import os, signal, pathlib
        from service import state_dir
        held = state_dir.claim(pathlib.Path({str(tabledir)!r}))
        db = held.tabledir / "statements-0.db"
        db.mkdir()
        (db / "CURRENT").write_text("x")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[2], check=False)
    assert proc.returncode == -signal.SIGKILL

    again = state_dir.claim(tabledir)
    try:
        assert ["statements-0.db"] == again.wiped
        assert again.previous.startswith("running pid=")
        assert [] == list(tabledir.iterdir())
    finally:
        again.release(clean=True)


def test_a_failed_run_is_treated_as_a_crash(tmp_path: Path) -> None:
    tabledir = tmp_path / "tables"
    held = state_dir.claim(tabledir)
    tables(tabledir)
    held.release(clean=False)  # the worker exited with an error

    again = state_dir.claim(tabledir)
    assert ["region-buckets-3.db"] == again.wiped
    again.release(clean=True)


def test_a_second_worker_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    tabledir = tmp_path / "tables"
    held = state_dir.claim(tabledir)
    db = tables(tabledir)
    try:
        refused = f"in use by another worker .*pid={os.getpid()}.*SKYTALLY_DATA_DIR"
        with pytest.raises(SkytallyError, match=refused):
            state_dir.claim(tabledir)
        assert db.exists(), "a refused worker must not touch the running worker's tables"
    finally:
        held.release(clean=True)


@pytest.mark.parametrize(("store", "kept"), [("memory://", False), ("rocksdb://", True)])
def test_only_stores_on_disk_are_guarded(store: str, kept: bool) -> None:
    assert kept == state_dir.persistent(store)
