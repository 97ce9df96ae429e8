"""Headless Chromium (Debian's package) for tests of the dashboard page."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

INSTALL = "apt-get install -y --no-install-recommends chromium (scripts/system-deps.sh does it)"


def chromium() -> str:
    """Path of the chromium binary; AssertionError naming the install step when absent."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise AssertionError(f"chromium is not installed: {INSTALL}")
    return path


def rendered_dom(url: str, wait_ms: int = 8000) -> str:
    """The page's DOM after its scripts ran for ``wait_ms`` of virtual time."""
    with tempfile.TemporaryDirectory(prefix="skytally-chromium-") as profile:
        argv = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={wait_ms}",
            "--dump-dom",
            url,
        ]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=90, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc.stdout
