"""Run a faust worker as a subprocess for tests (its own process: faust owns signals and loop)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from service.broker import spawn, stop_process

REPO_ROOT = Path(__file__).resolve().parents[2]


def start_worker(
    app_module: str,
    env: dict[str, str],
    log_path: Path,
    loglevel: str = "info",
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``faust -A app_module worker`` without its web server; output to ``log_path``.

    ``env`` is added to this process's environment; the repository root is put on PYTHONPATH
    so ``tests.support.*`` modules import. The worker runs in ``cwd`` (default: the log's
    folder), never in the repository: faust creates ``<app-id>-data`` folders in its cwd.
    """
    full_env = {**os.environ, **env}
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    argv = [
        sys.executable,
        "-m",
        "faust",
        "-A",
        app_module,
        "worker",
        "--without-web",
        "-l",
        loglevel,
    ]
    return spawn(argv, log_path, cwd=cwd or log_path.parent, env=full_env)


def stop_worker(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int | None:
    """SIGTERM the worker (faust shuts down cleanly), SIGKILL after ``timeout`` s."""
    return stop_process(proc, timeout)
