"""deploy/ agrees with the code: every file parses; ports, paths, SKYTALLY_* variables, metric
names and runbook anchors used by compose, Kubernetes, Prometheus, Alertmanager and Grafana
exist in the Dockerfile, the Settings class, the metrics module and deploy/runbook.md."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from faust.sensors.prometheus import FaustMetrics
from prometheus_client import CollectorRegistry

from service.alerting.rules import parse_rules
from service.metrics import Metrics
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
RULES = DEPLOY / "prometheus" / "rules" / "skytally.rules.yml"
RULE_TESTS = DEPLOY / "prometheus" / "tests" / "skytally.rules.test.yml"
ALERTMANAGER = DEPLOY / "alertmanager" / "alertmanager.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "skytally.json"
GRAFANA_DATASOURCE = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
GRAFANA_DASHBOARDS = DEPLOY / "grafana" / "provisioning" / "dashboards" / "skytally.yml"
K8S = DEPLOY / "k8s"
RUNBOOK = DEPLOY / "runbook.md"

WORKERS = ("skytally-1", "skytally-2")
PROMETHEUS_JOB = "skytally"
SETTINGS_PREFIX = "SKYTALLY_"

#: Names Prometheus itself provides (not exported by the worker).
PROMETHEUS_BUILTINS = frozenset({"up"})

#: Dashboard panels the operations view needs: title prefix -> metrics its queries must use.
REQUIRED_PANELS = {
    "Interceptions by region": {"skytally_interceptions_total"},
    "Region count by window": {"skytally_region_window_count"},
    "Alert events by severity": {"skytally_alerts_total"},
    "Active alerts by severity": {"skytally_alerts_active"},
    "Throughput": {"skytally_reports_consumed_total", "skytally_reports_extracted_total"},
    "Extraction latency": {"skytally_extraction_seconds_bucket"},
    "Dead letters by reason": {"skytally_dead_letters_total"},
    "Consumer lag": {"faust_topic_partition_end_offset", "faust_topic_partition_offset_commited"},
    "Late statements": {"skytally_late_statements_total"},
}

#: Service-health alerts the rules must define: alertname -> metrics its expression must use.
REQUIRED_ALERTS = {
    "SkytallyWorkerDown": {"up"},
    "SkytallyIngestionStalled": {
        "skytally_reports_consumed_total", "skytally_last_report_timestamp_seconds", "up",
    },
    "SkytallyDeadLetterRateHigh": {"skytally_dead_letters_total"},
    "SkytallyConsumerLagHigh": {"topic:skytally_consumer_lag:sum"},
    "SkytallyAlertDeliveryFailing": {"skytally_alert_delivery_failures_total"},
}


# --- loading -------------------------------------------------------------------------------------


def _parse(path: Path) -> list[Any]:
    """The documents of one deploy file (YAML may hold several)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yml", ".yaml"):
        return list(yaml.safe_load_all(text))
    if path.suffix == ".json":
        return [json.loads(text)]
    if path.suffix == ".toml":
        return [tomllib.loads(text)]
    raise ValueError(f"{path.relative_to(ROOT)}: no parser for {path.suffix!r} files")


def _deploy_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.is_file() and p.suffix != ".md")


def _one(path: Path) -> Any:
    (doc,) = _parse(path)
    return doc


def _k8s_objects() -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        objects.extend(d for d in _parse(path) if d and d.get("kind") != "Kustomization")
    return objects


def _k8s(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in _k8s_objects() if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert 1 == len(found), f"expected one {kind} {name or ''} in deploy/k8s, found {len(found)}"
    return found[0]


def _compose_services() -> dict[str, Any]:
    services: dict[str, Any] = _one(COMPOSE)["services"]
    return services


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """A compose service's volumes as source -> container path (short syntax)."""
    return dict(tuple(v.split(":")[:2]) for v in service.get("volumes", []))


def _dockerfile_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(re.findall(r"(\w+)=(\S+)", line))
    return env


def _settings_variables() -> set[str]:
    prefix = Settings.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper() for name in Settings.model_fields}


def _alert_rules() -> list[dict[str, Any]]:
    return [r for g in _one(RULES)["groups"] for r in g["rules"] if "alert" in r]


def _recording_rules() -> list[dict[str, Any]]:
    return [r for g in _one(RULES)["groups"] for r in g["rules"] if "record" in r]


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def _dashboard_panels() -> list[dict[str, Any]]:
    return [p for p in _panels(_one(DASHBOARD)["panels"]) if p.get("type") != "row"]


def _dashboard_exprs() -> list[str]:
    return [t["expr"] for p in _dashboard_panels() for t in p.get("targets", [])]


# --- PromQL --------------------------------------------------------------------------------------

_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
                       "and", "or", "unless", "offset", "inf", "nan"})


def promql_metric_names(expr: str) -> set[str]:
    """Metric (and recording-rule) names a PromQL expression selects."""
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    text = _LABEL_LISTS.sub("", text)
    text = re.sub(r"\$\{?\w+\}?", "", text)  # Grafana variables
    names = set()
    for match in re.finditer(r"(?<![\w:.$])([A-Za-z_:][\w:]*)(\s*\()?", text):
        name, call = match.groups()
        if not call and name.lower() not in _KEYWORDS:
            names.add(name)
    return names


def _exposed_names(registry: CollectorRegistry) -> set[str]:
    """Sample names a registry exposes (``_total``/``_bucket``... included), labelled or not."""
    suffixes = {
        "counter": ("_total", "_created"),
        "gauge": ("",),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "summary": ("", "_count", "_sum", "_created"),
    }
    return {family.name + s for family in registry.collect() for s in suffixes.get(family.type, ("",))}


def _faust_prefix() -> str:
    match = re.search(r'name_prefix="(\w+)"', (ROOT / "service" / "web.py").read_text(encoding="utf-8"))
    assert match, "service/web.py no longer passes name_prefix=... to setup_prometheus_sensors"
    return match.group(1)


def _known_metric_names() -> set[str]:
    domain = CollectorRegistry()
    Metrics(domain)
    faust = CollectorRegistry()
    FaustMetrics.create(faust, _faust_prefix())
    recorded = {r["record"] for r in _recording_rules()}
    return _exposed_names(domain) | _exposed_names(faust) | recorded | PROMETHEUS_BUILTINS


# --- runbook -------------------------------------------------------------------------------------


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def _runbook_anchors() -> set[str]:
    text = RUNBOOK.read_text(encoding="utf-8")
    anchors = {github_anchor(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)}
    anchors |= set(re.findall(r"<a\s+(?:name|id)=\"([^\"]+)\"", text))
    return anchors


# --- every file -----------------------------------------------------------------------------------


def test_every_deploy_file_parses() -> None:
    """Every YAML/JSON/TOML file under deploy/ parses (Markdown is skipped)."""
    failures = {}
    for path in _deploy_files():
        try:
            _parse(path)
        except (ValueError, yaml.YAMLError, tomllib.TOMLDecodeError) as err:
            failures[str(path.relative_to(ROOT))] = str(err)
    assert {} == failures


def test_deploy_has_the_expected_files() -> None:
    """The compose file, Prometheus, Alertmanager, Grafana and k8s configs are all present."""
    expected = [COMPOSE, PROMETHEUS, RULES, RULE_TESTS, ALERTMANAGER, DASHBOARD, GRAFANA_DATASOURCE,
                GRAFANA_DASHBOARDS, K8S / "kustomization.yaml", DEPLOY / "README.md"]
    assert [] == [str(p.relative_to(ROOT)) for p in expected if not p.is_file()]


# --- ports and paths -------------------------------------------------------------------------------


def test_web_port_dockerfile_equals_settings_default() -> None:
    """The Dockerfile's SKYTALLY_WEB_PORT and EXPOSE equal the Settings default."""
    default = Settings.model_fields["web_port"].default
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert (str(default), [str(default)]) == (
        _dockerfile_env()["SKYTALLY_WEB_PORT"], re.findall(r"^EXPOSE\s+(\d+)", text, re.M),
    )


def test_compose_workers_listen_on_the_web_port() -> None:
    """Each compose worker sets SKYTALLY_WEB_PORT to the default and publishes that container port."""
    port = str(Settings.model_fields["web_port"].default)
    services = _compose_services()
    actual = {
        name: (str(services[name]["environment"]["SKYTALLY_WEB_PORT"]),
               {str(p).rsplit(":", 1)[-1] for p in services[name]["ports"]})
        for name in WORKERS
    }
    assert {name: (port, {port}) for name in WORKERS} == actual


def test_compose_workers_use_kafka_rocksdb_and_state_volumes() -> None:
    """Workers build ../Dockerfile, reach kafka:9092, use rocksdb:// with a volume at the data dir."""
    services = _compose_services()
    default_dir = _dockerfile_env()["SKYTALLY_DATA_DIR"]
    expected = dict.fromkeys(
        WORKERS, ("../Dockerfile", "kafka:9092", "rocksdb://", True, "service_healthy"),
    )
    actual = {}
    for name in WORKERS:
        svc = services[name]
        env = svc["environment"]
        actual[name] = (
            f"{svc['build']['context']}/{svc['build']['dockerfile']}",
            env["SKYTALLY_KAFKA_BOOTSTRAP"], env["SKYTALLY_STORE"],
            env.get("SKYTALLY_DATA_DIR", default_dir) in _mounts(svc).values(),
            svc["depends_on"]["kafka"]["condition"],
        )
    assert expected == actual
    assert (COMPOSE.parent / "../Dockerfile").resolve().is_file()


def test_compose_worker_state_volumes_are_distinct() -> None:
    """The two workers never share a state volume."""
    services = _compose_services()
    sources = [source for name in WORKERS for source in _mounts(services[name])]
    assert len(sources) == len(set(sources))


def test_compose_workers_keep_the_image_healthcheck() -> None:
    """Worker health comes from the Dockerfile's HEALTHCHECK on /healthz (not disabled in compose)."""
    services = _compose_services()
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert ("/healthz", dict.fromkeys(WORKERS)) == (
        re.search(r"HEALTHCHECK[^\n]*\n[^\n]*(/healthz)", text).group(1),  # type: ignore[union-attr]
        {name: services[name].get("healthcheck") for name in WORKERS},
    )


def test_compose_kafka_is_kraft_single_node() -> None:
    """Kafka is the official image, pinned, in KRaft combined mode, with a healthcheck."""
    kafka = _compose_services()["kafka"]
    env = kafka["environment"]
    image, _, tag = kafka["image"].partition(":")
    assert ("apache/kafka", True, "broker,controller", "CONTROLLER", True) == (
        image, bool(re.fullmatch(r"\d+\.\d+\.\d+", tag)), env["KAFKA_PROCESS_ROLES"],
        env["KAFKA_CONTROLLER_LISTENER_NAMES"], "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"],
    )
    assert "test" in kafka["healthcheck"]


def test_compose_images_are_pinned() -> None:
    """Every compose image carries an explicit version tag (no implicit or :latest)."""
    images = {name: svc["image"] for name, svc in _compose_services().items() if "build" not in svc}
    unpinned = {name: image for name, image in images.items()
                if ":" not in image or image.endswith(":latest")}
    assert {} == unpinned
    assert {"kafka", "prometheus", "alertmanager", "grafana"} == set(images)


def test_compose_bind_mounts_exist() -> None:
    """Every ./ bind mount in compose points at a file or folder in deploy/."""
    missing = []
    for svc in _compose_services().values():
        missing += [s for s in _mounts(svc) if s.startswith(".") and not (DEPLOY / s).exists()]
    assert [] == missing


def test_compose_named_volumes_are_declared() -> None:
    """Named volumes used by services are declared at the top level."""
    compose = _one(COMPOSE)
    used = {s for svc in compose["services"].values() for s in _mounts(svc) if not s.startswith((".", "/"))}
    assert used == set(compose["volumes"])


def test_prometheus_scrapes_both_workers_on_metrics() -> None:
    """The skytally job scrapes /metrics of both compose workers on the web port."""
    port = Settings.model_fields["web_port"].default
    jobs = {j["job_name"]: j for j in _one(PROMETHEUS)["scrape_configs"]}
    job = jobs[PROMETHEUS_JOB]
    targets = sorted(t for sc in job["static_configs"] for t in sc["targets"])
    assert ("/metrics", [f"{w}:{port}" for w in WORKERS]) == (job["metrics_path"], targets)
    assert set(WORKERS) <= set(_compose_services())


def test_prometheus_alerting_and_rule_files() -> None:
    """Prometheus alerts to the compose Alertmanager and its rule_files match the rules file."""
    config = _one(PROMETHEUS)
    targets = [t for am in config["alerting"]["alertmanagers"] for sc in am["static_configs"]
               for t in sc["targets"]]
    matched = sorted({p for pattern in config["rule_files"] for p in PROMETHEUS.parent.glob(pattern)})
    assert (["alertmanager:9093"], [RULES]) == (targets, matched)
    assert "alertmanager" in _compose_services()


def test_compose_mounts_prometheus_rules_where_config_expects() -> None:
    """The rules folder is mounted next to prometheus.yml in the container, as rule_files expects."""
    mounts = _mounts(_compose_services()["prometheus"])
    config_dir = Path(mounts["./prometheus/prometheus.yml"]).parent
    assert str(config_dir / "rules") == mounts["./prometheus/rules"]


def test_k8s_ports_and_probes_use_the_web_port_and_healthz() -> None:
    """containerPort, Services and probes use the web port; probes hit /healthz."""
    port = Settings.model_fields["web_port"].default
    container = _k8s("StatefulSet")["spec"]["template"]["spec"]["containers"][0]
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    probes = {kind: (container[kind]["httpGet"]["path"], named.get(container[kind]["httpGet"]["port"],
                                                                    container[kind]["httpGet"]["port"]))
              for kind in ("livenessProbe", "readinessProbe", "startupProbe") if kind in container}
    assert {"livenessProbe": ("/healthz", port), "readinessProbe": ("/healthz", port),
            "startupProbe": ("/healthz", port)} == probes
    services = {o["metadata"]["name"]: o for o in _k8s_objects() if o["kind"] == "Service"}
    ports = {name: [(p["port"], named.get(p["targetPort"], p["targetPort"])) for p in s["spec"]["ports"]]
             for name, s in services.items()}
    assert {"skytally": [(port, port)], "skytally-headless": [(port, port)]} == ports
    assert str(port) == _k8s("ConfigMap", "skytally-config")["data"]["SKYTALLY_WEB_PORT"]


def test_k8s_services_select_the_statefulset_pods() -> None:
    """Both Services select the pod labels; the headless one is the StatefulSet's serviceName."""
    sts = _k8s("StatefulSet")
    pod_labels = sts["spec"]["template"]["metadata"]["labels"]
    services = {o["metadata"]["name"]: o["spec"] for o in _k8s_objects() if o["kind"] == "Service"}
    assert dict.fromkeys(services, True) == {
        name: spec["selector"].items() <= pod_labels.items() for name, spec in services.items()
    }
    assert "None" == services[sts["spec"]["serviceName"]]["clusterIP"]


def test_k8s_servicemonitor_scrapes_metrics_of_one_service() -> None:
    """The ServiceMonitor scrapes /metrics on the web port of exactly one Service."""
    monitor = _k8s("ServiceMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    selected = [o["metadata"]["name"] for o in _k8s_objects()
                if o["kind"] == "Service" and selector.items() <= o["metadata"]["labels"].items()]
    assert (["/metrics"], ["web"], ["skytally"]) == (
        [e["path"] for e in monitor["spec"]["endpoints"]],
        [e["port"] for e in monitor["spec"]["endpoints"]],
        selected,
    )
    assert "monitoring.coreos.com/v1" == monitor["apiVersion"]
    service = _k8s("Service", "skytally")
    assert PROMETHEUS_JOB == service["metadata"]["labels"][monitor["spec"]["jobLabel"]]


def test_k8s_statefulset_state_volume_security_and_resources() -> None:
    """2 replicas, a claim template mounted at SKYTALLY_DATA_DIR, non-root, requests and limits."""
    sts = _k8s("StatefulSet")
    pod = sts["spec"]["template"]["spec"]
    container = pod["containers"][0]
    data_dir = _k8s("ConfigMap", "skytally-config")["data"]["SKYTALLY_DATA_DIR"]
    claims = {t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert (2, True, True, True, {"cpu", "memory"}, {"cpu", "memory"}) == (
        sts["spec"]["replicas"],
        mounts.get(data_dir) in claims,
        pod["securityContext"]["runAsNonRoot"],
        isinstance(pod["securityContext"].get("runAsUser"), int),  # image USER is a name
        set(container["resources"]["requests"]),
        set(container["resources"]["limits"]),
    )


def test_k8s_env_sources_exist_and_password_is_secret() -> None:
    """envFrom names the ConfigMap and Secret; the SASL password is only in the Secret."""
    container = _k8s("StatefulSet")["spec"]["template"]["spec"]["containers"][0]
    refs = {("ConfigMap" if "configMapRef" in e else "Secret"):
            (e.get("configMapRef") or e["secretRef"])["name"] for e in container["envFrom"]}
    secret = _k8s("Secret", refs["Secret"])
    config = _k8s("ConfigMap", refs["ConfigMap"])
    assert (True, False) == (
        "SKYTALLY_KAFKA_SASL_PASSWORD" in secret["stringData"],
        "SKYTALLY_KAFKA_SASL_PASSWORD" in config["data"],
    )


def test_k8s_rules_configmap_is_valid_rules_toml() -> None:
    """The rules ConfigMap parses as skytally rules and is mounted at SKYTALLY_RULES."""
    rules_cm = _k8s("ConfigMap", "skytally-rules")
    (key, text), = rules_cm["data"].items()
    parse_rules(text, path=f"deploy/k8s ConfigMap skytally-rules/{key}")
    pod = _k8s("StatefulSet")["spec"]["template"]["spec"]
    volume = next(v["name"] for v in pod["volumes"] if v.get("configMap", {}).get("name") == "skytally-rules")
    mount = next(m["mountPath"] for m in pod["containers"][0]["volumeMounts"] if m["name"] == volume)
    assert f"{mount}/{key}" == _k8s("ConfigMap", "skytally-config")["data"]["SKYTALLY_RULES"]


def test_kustomization_lists_every_manifest() -> None:
    """kustomization.yaml lists every manifest in deploy/k8s."""
    listed = sorted(_one(K8S / "kustomization.yaml")["resources"])
    assert sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml") == listed


# --- settings -------------------------------------------------------------------------------------


def _used_variables() -> dict[str, dict[str, str]]:
    """SKYTALLY_* variables set per place: compose services and k8s ConfigMaps/Secrets/containers."""
    used: dict[str, dict[str, str]] = {}
    for name, svc in _compose_services().items():
        env = svc.get("environment", {})
        if isinstance(env, list):
            env = dict(e.split("=", 1) for e in env)
        used[f"compose:{name}"] = {k: str(v) for k, v in env.items() if k.startswith(SETTINGS_PREFIX)}
    for obj in _k8s_objects():
        data = {}
        if obj["kind"] in ("ConfigMap", "Secret"):
            data = {**obj.get("data", {}), **obj.get("stringData", {})}
        if obj["kind"] == "StatefulSet":  # what the pod sees: envFrom sources, then env
            for c in obj["spec"]["template"]["spec"]["containers"]:
                for source in c.get("envFrom", []):
                    kind, ref = ("ConfigMap", source["configMapRef"]) if "configMapRef" in source \
                        else ("Secret", source["secretRef"])
                    found = _k8s(kind, ref["name"])
                    data.update({**found.get("data", {}), **found.get("stringData", {})})
                data.update({e["name"]: e.get("value", "") for e in c.get("env", [])})
        used[f"k8s:{obj['kind']}/{obj['metadata']['name']}"] = {
            k: str(v) for k, v in data.items() if k.startswith(SETTINGS_PREFIX)
        }
    return used


def test_every_skytally_variable_is_a_settings_field() -> None:
    """Every SKYTALLY_* variable in compose and k8s is a field of service.settings.Settings."""
    fields = _settings_variables()
    unknown = {place: sorted(set(env) - fields) for place, env in _used_variables().items()
               if set(env) - fields}
    assert {} == unknown


def test_compose_and_k8s_settings_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment each compose service and k8s pod sees passes Settings validation."""
    errors = {}
    for place, env in _used_variables().items():
        if not env or place.startswith(("k8s:ConfigMap/", "k8s:Secret/")):
            continue  # partial by design: the pod combines them (checked as k8s:StatefulSet/...)
        with monkeypatch.context() as m:
            for key in list(os.environ):
                if key.startswith(SETTINGS_PREFIX):
                    m.delenv(key)
            for key, value in env.items():
                m.setenv(key, value)
            try:
                Settings()
            except ValueError as err:
                errors[place] = str(err)
    assert {} == errors


# --- metric names ----------------------------------------------------------------------------------


def test_promql_metric_names_parser() -> None:
    """The PromQL name extractor ignores functions, labels, ranges, groupings and variables."""
    expr = ('histogram_quantile(0.99, sum by (le) (rate(a_bucket{job=~"$job", x="y z"}[$__rate_interval])))'
            ' / on (job) group_left b:rec:rate5m > bool 1e3 and up offset 5m')
    assert {"a_bucket", "b:rec:rate5m", "up"} == promql_metric_names(expr)


def test_faust_sensor_names_include_lag_inputs() -> None:
    """faust's sensor exports the end/committed offsets the lag rule and panel subtract."""
    names = _known_metric_names()
    prefix = _faust_prefix()
    assert {f"{prefix}_topic_partition_end_offset", f"{prefix}_topic_partition_offset_commited",
            f"{prefix}_messages_received_total"} <= names


def test_rule_metric_names_exist() -> None:
    """Every metric the Prometheus rules select is exported (domain, faust, recorded or built in)."""
    known = _known_metric_names()
    rules = _alert_rules() + _recording_rules()
    unknown = {r.get("alert") or r["record"]: sorted(promql_metric_names(r["expr"]) - known)
               for r in rules if promql_metric_names(r["expr"]) - known}
    assert {} == unknown


def test_rule_test_series_metric_names_exist() -> None:
    """The promtool rule tests feed only series the workers really export."""
    known = _known_metric_names()
    series = {s["series"].split("{")[0] for t in _one(RULE_TESTS)["tests"] for s in t["input_series"]}
    assert set() == series - known


def test_dashboard_metric_names_exist() -> None:
    """Every metric the Grafana dashboard queries (panels and variables) is exported."""
    known = _known_metric_names()
    exprs = _dashboard_exprs()
    for var in _one(DASHBOARD)["templating"]["list"]:
        query = var.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query or ""
        exprs += re.findall(r"label_values\(([^,)]+)", query)
    unknown = sorted({n for e in exprs for n in promql_metric_names(e)} - known)
    assert [] == unknown


# --- rules ------------------------------------------------------------------------------------------


def test_required_alerts_exist_and_use_their_metrics() -> None:
    """Each required health alert exists and its expression uses the metrics it is about."""
    recorded = {r["record"]: r["expr"] for r in _recording_rules()}
    by_name: dict[str, set[str]] = {}
    for rule in _alert_rules():
        names = promql_metric_names(rule["expr"])
        names |= {n for r in names & recorded.keys() for n in promql_metric_names(recorded[r])}
        by_name.setdefault(rule["alert"], set()).update(names)
    missing = {alert: sorted(metrics - by_name.get(alert, set()))
               for alert, metrics in REQUIRED_ALERTS.items() if metrics - by_name.get(alert, set())}
    assert {} == missing


def test_alert_rules_have_severity_service_and_annotations() -> None:
    """Every alert has severity warning|critical, service=skytally, summary, description, runbook_url."""
    problems = {}
    for rule in _alert_rules():
        labels, annotations = rule.get("labels", {}), rule.get("annotations", {})
        got = (labels.get("severity") in ("warning", "critical"), labels.get("service"),
               sorted({"summary", "description", "runbook_url"} - set(annotations)))
        if got != (True, "skytally", []):
            problems[rule["alert"]] = got
    assert {} == problems


def test_rule_runbook_urls_use_the_runbook_base() -> None:
    """runbook_url annotations are the default rules' runbook_base_url plus an anchor."""
    base = tomllib.loads((ROOT / "service" / "data" / "default_rules.toml").read_text(encoding="utf-8"))[
        "runbook_base_url"]
    bad = sorted(r["annotations"]["runbook_url"] for r in _alert_rules()
                 if not re.fullmatch(re.escape(base) + r"#[\w-]+", r["annotations"]["runbook_url"]))
    assert [] == bad


def test_rule_runbook_anchors_exist_in_runbook() -> None:
    """Every runbook anchor a rule links to is a section of deploy/runbook.md."""
    anchors = _runbook_anchors()
    linked = {r["annotations"]["runbook_url"].partition("#")[2] for r in _alert_rules()}
    missing = sorted(linked - anchors)
    assert [] == missing, f"deploy/runbook.md lacks sections for these anchors: {missing}"


def test_dashboard_runbook_links_exist_in_runbook() -> None:
    """Runbook links in the dashboard point at deploy/runbook.md sections that exist."""
    text = DASHBOARD.read_text(encoding="utf-8")
    linked = set(re.findall(r"runbook\.md#([\w-]+)", text))
    assert [] == sorted(linked - _runbook_anchors())


def test_github_anchor() -> None:
    """Markdown headings become GitHub's anchors (lower case, punctuation dropped, dashes)."""
    assert ["first-activity", "worker-down", "alertmanager-delivery"] == [
        github_anchor("first-activity"), github_anchor("Worker down"), github_anchor("alertmanager-delivery"),
    ]


# --- alertmanager ----------------------------------------------------------------------------------


def _routes(route: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield route
    for child in route.get("routes", []):
        yield from _routes(child)


def test_alertmanager_routes_use_defined_receivers() -> None:
    """Every receiver a route names is defined, and every defined receiver is used."""
    config = _one(ALERTMANAGER)
    used = {r["receiver"] for r in _routes(config["route"]) if "receiver" in r}
    assert sorted(used) == sorted(r["name"] for r in config["receivers"])


def test_alertmanager_groups_by_alertname_region_window() -> None:
    """The root route groups by alertname, region and window, and has severity routes."""
    route = _one(ALERTMANAGER)["route"]
    matchers = sorted(m for r in route["routes"] for m in r.get("matchers", []))
    assert (["alertname", "region", "window"], True, True) == (
        route["group_by"], 'severity="critical"' in matchers, 'severity="warning"' in matchers,
    )


def test_alertmanager_critical_inhibits_warning_same_region_window() -> None:
    """An inhibit rule lets a critical alert silence warnings of the same region and window."""
    rules = _one(ALERTMANAGER)["inhibit_rules"]
    matching = [r for r in rules if 'severity="critical"' in r.get("source_matchers", [])
                and 'severity="warning"' in r.get("target_matchers", [])]
    assert [["region", "window"]] == [sorted(r["equal"]) for r in matching]


def test_alertmanager_routes_health_alerts_by_service_label() -> None:
    """A route claims the rules' service label, so health alerts reach the service's team."""
    services = {r["labels"]["service"] for r in _alert_rules()}
    matchers = {m for r in _routes(_one(ALERTMANAGER)["route"]) for m in r.get("matchers", [])}
    assert set() == {f'service="{s}"' for s in services} - matchers


# --- grafana -----------------------------------------------------------------------------------------


def test_dashboard_has_required_panels() -> None:
    """The dashboard has each required panel and it queries the metrics it is about."""
    panels = _dashboard_panels()
    missing = {}
    for title, metrics in REQUIRED_PANELS.items():
        used = {n for p in panels if p["title"].startswith(title)
                for t in p.get("targets", []) for n in promql_metric_names(t["expr"])}
        if metrics - used:
            missing[title] = sorted(metrics - used)
    assert {} == missing


def test_dashboard_latency_panel_shows_p50_and_p99() -> None:
    """The extraction latency panel plots histogram_quantile 0.5 and 0.99."""
    panel = next(p for p in _dashboard_panels() if p["title"].startswith("Extraction latency"))
    quantiles = sorted(q for t in panel["targets"]
                       for q in re.findall(r"histogram_quantile\(([\d.]+)", t["expr"]))
    assert ["0.5", "0.99"] == quantiles


def test_dashboard_structure_and_datasource() -> None:
    """schemaVersion >= 39, unique ids and refIds, every panel and target on ${DS_PROMETHEUS}."""
    dashboard = _one(DASHBOARD)
    panels = _dashboard_panels()
    ds = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    off_ds = [p["title"] for p in panels
              if p.get("datasource") != ds or any(t.get("datasource") != ds for t in p["targets"])]
    ids = [p["id"] for p in _panels(dashboard["panels"])]
    dup_refs = [p["title"] for p in panels if len({t["refId"] for t in p["targets"]}) != len(p["targets"])]
    assert (True, [], True, [], True) == (
        dashboard["schemaVersion"] >= 39, off_ds, len(ids) == len(set(ids)), dup_refs,
        all("gridPos" in p for p in panels),
    )
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    ds_var = variables["DS_PROMETHEUS"]
    assert ("datasource", "prometheus") == (ds_var["type"], ds_var["query"])


def test_grafana_datasource_uid_is_the_dashboard_default() -> None:
    """The provisioned datasource's uid is the ${DS_PROMETHEUS} default and points at prometheus:9090."""
    (datasource,) = _one(GRAFANA_DATASOURCE)["datasources"]
    variables = {v["name"]: v for v in _one(DASHBOARD)["templating"]["list"]}
    assert (variables["DS_PROMETHEUS"]["current"]["value"], "http://prometheus:9090", "prometheus") == (
        datasource["uid"], datasource["url"], datasource["type"],
    )
    assert "prometheus" in _compose_services()


def test_grafana_dashboard_provider_path_is_the_compose_mount() -> None:
    """The file provider reads the folder compose mounts deploy/grafana/dashboards at."""
    (provider,) = _one(GRAFANA_DASHBOARDS)["providers"]
    mounts = _mounts(_compose_services()["grafana"])
    assert ("file", mounts["./grafana/dashboards"]) == (provider["type"], provider["options"]["path"])
    assert "/etc/grafana/provisioning" == mounts["./grafana/provisioning"]
