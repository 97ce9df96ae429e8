"""The real promtool and amtool accept deploy/: Prometheus config and rules, the rules' unit
tests, every Grafana dashboard query, the Alertmanager config and its routing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
RULES = DEPLOY / "prometheus" / "rules" / "skytally.rules.yml"
RULE_TESTS = DEPLOY / "prometheus" / "tests" / "skytally.rules.test.yml"
ALERTMANAGER_CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "skytally.json"

INSTALL = {
    "promtool": "apt-get update && apt-get install -y --no-install-recommends prometheus",
    "amtool": "apt-get update && apt-get install -y --no-install-recommends prometheus-alertmanager",
}

#: Values Grafana substitutes for its variables when it runs a panel query.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h",
    "$job": ".*", "$region": ".*", "$window": ".*",
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; install it with: {INSTALL[name]} (or scripts/system-deps.sh)")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)


def _output(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def test_promtool_check_rules() -> None:
    """promtool check rules accepts the skytally rules file."""
    proc = _run(_tool("promtool"), "check", "rules", str(RULES))
    assert 0 == proc.returncode, _output(proc)


def test_promtool_check_config() -> None:
    """promtool check config accepts prometheus.yml (and the rule files it loads)."""
    proc = _run(_tool("promtool"), "check", "config", str(PROMETHEUS_CONFIG))
    assert (0, True) == (proc.returncode, "1 rule files found" in proc.stdout), _output(proc)


def test_promtool_rule_unit_tests() -> None:
    """promtool test rules: the health alerts fire (and stay quiet) on the scripted series."""
    proc = _run(_tool("promtool"), "test", "rules", str(RULE_TESTS))
    assert 0 == proc.returncode, _output(proc)


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """Every Grafana panel query, variables substituted, parses as PromQL (promtool)."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    pattern = re.compile("|".join(re.escape(v) for v in sorted(GRAFANA_VARIABLES, key=len, reverse=True)))
    rules = []
    stack = list(dashboard["panels"])
    while stack:
        panel = stack.pop()
        stack.extend(panel.get("panels", []))
        for target in panel.get("targets", []):
            expr = pattern.sub(lambda m: GRAFANA_VARIABLES[m.group(0)], target["expr"])
            assert "$" not in expr, f"unsubstituted Grafana variable in {panel['title']!r}: {expr}"
            rules.append({"record": f"dashboard:panel{panel['id']}:{target['refId']}", "expr": expr})
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    proc = _run(_tool("promtool"), "check", "rules", str(path))
    assert (0, True) == (proc.returncode, f"{len(rules)} rules found" in proc.stdout), _output(proc)


def test_amtool_check_config() -> None:
    """amtool check-config accepts alertmanager.yml."""
    proc = _run(_tool("amtool"), "check-config", str(ALERTMANAGER_CONFIG))
    assert 0 == proc.returncode, _output(proc)


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=threshold", "severity=critical", "region=Moscow", "code=RU-MOW", "window=1h"],
         "ops-critical"),
        (["alertname=baseline", "severity=warning", "region=Moscow", "code=RU-MOW", "window=24h"],
         "ops-warning"),
        (["alertname=SkytallyAllWorkersDown", "severity=critical", "service=skytally", "job=skytally"],
         "skytally-oncall-page"),
        (["alertname=SkytallyIngestionStalled", "severity=warning", "service=skytally", "job=skytally"],
         "skytally-oncall"),
        (["alertname=Unrelated"], "null"),
    ],
)
def test_amtool_routes(labels: list[str], receiver: str) -> None:
    """Domain alerts route by severity, health alerts by service (amtool config routes test)."""
    proc = _run(_tool("amtool"), "config", "routes", "test", f"--config.file={ALERTMANAGER_CONFIG}", *labels)
    assert (0, receiver) == (proc.returncode, proc.stdout.strip()), _output(proc)
