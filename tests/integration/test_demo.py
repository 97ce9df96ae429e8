"""`skytally demo --once`: the README's main job, end to end on the embedded broker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_demo_once_processes_the_samples_and_shows_alerts() -> None:
    """The demo feeds the bundled samples, prints counts and the alerts, and exits 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKYTALLY_")}
    env["COLUMNS"] = "200"
    proc = subprocess.run(
        [sys.executable, "-m", "service", "demo", "--once", "--rate", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert 0 == proc.returncode, out[-3000:]
    assert "Started embedded Tansu broker" in out
    assert "ALERT FIRING" in out
    assert "Interceptions per region and window" in out
    assert "dead letter" in out
    assert "14 reports processed, 3 dead-lettered." in out
    # Every run ends in the same state: the samples' 1 h windows that closed have their alerts
    # resolved (until session 10, one to three of them could be left firing, by timing), and
    # only Odesa's, whose window is still open at the last sample's event time, is active.
    assert "Alerts active: 1, events: 13" in out, out[-3000:]
    assert re.search(r"warning Odesa Oblast: 5 interceptions in 1h window", out.split("Alerts active")[1])
    # A run that worked leaves nothing behind in the temp directory.
    found = re.search(r"logs \(JSON\) in (\S+)worker\.log", out.replace("\n", ""))
    assert found, out[-3000:]
    assert not Path(found.group(1)).exists()
