"""deploy/monitoring: promtool checks and unit tests of the rules, and every PromQL query (rules and
Grafana panels) names only metrics the app exports (finrag.observability.metrics.build_metrics)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
MON = ROOT / "deploy" / "monitoring"
RULE_FILES = sorted((MON / "rules").glob("*.yml"))
TEST_FILES = sorted((MON / "tests").glob("*.yml"))
DASHBOARD = MON / "grafana" / "dashboards" / "finrag.json"
REQUIRED_ALERTS = {
    "HighLatencyP95",
    "HighErrorRate",
    "LowFaithfulness",
    "CostSpike",
    "IngestFailures",
    "LowSatisfaction",
}

PROMQL_KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
    "inf", "nan", "atan2",
}  # fmt: skip


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool not found: apt-get install prometheus (Debian ships promtool in it)")
    return path


def exported_metric_names() -> set[str]:
    """Every series name the app can export: counters get _total (and _created), histograms _bucket/_sum/_count."""
    from finrag.observability.metrics import build_metrics

    names: set[str] = set()
    for family in build_metrics().registry.collect():
        base = family.name
        if family.type == "counter":
            names |= {f"{base}_total", f"{base}_created"}
        elif family.type == "histogram":
            names |= {f"{base}_bucket", f"{base}_sum", f"{base}_count", f"{base}_created"}
        else:
            names.add(base)
    return names


def promql_metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: drop strings, label matchers, ranges, grouping clauses, numbers
    and function calls; what is left are series names."""
    expr = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    expr = re.sub(r"\$\w+|\$\{\w+\}", " ", expr)  # Grafana variables
    expr = re.sub(r"\boffset\s+-?\w+|@\s*[\w.()]+", " ", expr)
    expr = re.sub(r"(?<![\w:])\d+(\.\d+)?([eE][-+]?\d+)?", " ", expr)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        rest = expr[m.end() :].lstrip()
        if rest.startswith("(") or m.group(0).lower() in PROMQL_KEYWORDS:
            continue
        names.add(m.group(0))
    return names


def _rules() -> list[dict]:
    return [r for f in RULE_FILES for g in yaml.safe_load(f.read_text())["groups"] for r in g["rules"]]


def _panels() -> list[dict]:
    return json.loads(DASHBOARD.read_text())["panels"]


def test_promql_name_extraction() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le) (rate(finrag_request_latency_seconds_bucket{route!~"/(a|b)"}'
        "[$__rate_interval]))) / clamp_min(finrag:requests:rate5m, 1e-9) > 5 and on() up offset 5m"
    )
    assert promql_metric_names(expr) == {"finrag_request_latency_seconds_bucket", "finrag:requests:rate5m", "up"}


def test_promtool_check_config_and_rules() -> None:
    tool = promtool()
    subprocess.run([tool, "check", "rules", *map(str, RULE_FILES)], check=True, capture_output=True, text=True)
    out = subprocess.run([tool, "check", "config", str(MON / "prometheus.yml")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_promtool_unit_tests_pass() -> None:
    out = subprocess.run(
        [promtool(), "test", "rules", *map(str, TEST_FILES)], capture_output=True, text=True, cwd=MON / "tests"
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    alerts = {r["alert"] for r in _rules() if "alert" in r}
    assert alerts >= REQUIRED_ALERTS
    firing: set[str] = set()
    quiet: set[str] = set()
    for f in TEST_FILES:
        for case in yaml.safe_load(f.read_text())["tests"]:
            for t in case.get("alert_rule_test", []):
                (firing if t.get("exp_alerts") else quiet).add(t["alertname"])
    assert alerts <= firing, f"alerts never tested firing: {alerts - firing}"
    assert alerts <= quiet, f"alerts never tested quiet: {alerts - quiet}"


def test_rules_use_only_exported_metrics() -> None:
    exported = exported_metric_names()
    recorded = {r["record"] for r in _rules() if "record" in r}
    for rule in _rules():
        unknown = promql_metric_names(rule["expr"]) - exported - recorded
        assert not unknown, f"{rule.get('record') or rule.get('alert')}: unknown metrics {unknown}"


def test_dashboard_queries_use_only_exported_metrics() -> None:
    exported = exported_metric_names()
    panels = _panels()
    titles = " | ".join(p["title"].lower() for p in panels)
    for needed in (
        "p50", "p95", "error rate", "cache hit", "pipeline", "cost per hour", "tokens", "cache reads",
        "faithfulness", "7 days", "ingest throughput", "requests per second", "cost by model",
    ):  # fmt: skip
        assert needed in titles, f"no panel for {needed!r}"
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = promql_metric_names(target["expr"])
            assert names, f"{panel['title']}: no metric in {target['expr']!r}"
            assert names <= exported, f"{panel['title']}: unknown metrics {names - exported}"


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """promtool parses every panel query (as a recording rule, Grafana's variables replaced)."""
    tool = promtool()
    rules = [
        {"record": f"panel:{p['id']}:{t['refId']}", "expr": t["expr"].replace("$__rate_interval", "5m")}
        for p in _panels()
        for t in p["targets"]
    ]
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    out = subprocess.run([tool, "check", "rules", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_grafana_provisioning_points_at_the_dashboard() -> None:
    prov = MON / "grafana" / "provisioning"
    ds = yaml.safe_load((prov / "datasources" / "prometheus.yml").read_text())
    assert ds["datasources"][0]["type"] == "prometheus"
    dash = yaml.safe_load((prov / "dashboards" / "finrag.yml").read_text())
    assert dash["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = " ".join(compose["services"]["grafana"]["volumes"])
    assert "grafana/dashboards:/var/lib/grafana/dashboards" in volumes


def test_slo_document_states_the_objectives() -> None:
    text = (MON / "README.md").read_text()
    for fact in ("99.9 %", "p95", "< 5 s", "< 1 %", "> 0.90", "$0.05", "$10/hour", *sorted(REQUIRED_ALERTS)):
        assert fact in text, fact
