"""Issue 15.2: /metrics carries no request text and no unbounded label values, and can be closed.

Before: finrag_failed_queries_total{question="<another tenant's question>"} and tenant names, served
to anyone on the public API port."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from finrag.serve.app import create_app
from finrag.settings import SecuritySettings
from tests.servers import free_port

CANARY = "zqcanary"  # distinctive text no metric name, route or category contains


def label_values(exposition: str) -> list[tuple[str, str, str]]:
    return [
        (sample.name, label, value)
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        for label, value in sample.labels.items()
    ]


@pytest.fixture()
def app_with_docs(service_factory, sample_dir: Path):  # type: ignore[no-untyped-def]
    def make(**security: object):  # type: ignore[no-untyped-def]
        svc = service_factory(security=SecuritySettings(**security))
        svc.ingest([sample_dir / "BLUEFINFOODS_2023_10K.pdf"])
        return create_app(svc.settings, svc)

    return make


def test_no_label_value_comes_from_request_text_or_names_a_tenant(app_with_docs) -> None:  # type: ignore[no-untyped-def]
    app = app_with_docs(metrics_tenants=["ops-visible"])
    with TestClient(app) as client:
        keys = app.state.finrag.keys
        secret_tenant = f"{CANARY}-tenant"
        a, _ = keys.create(secret_tenant, "a", ["query", "ingest"])
        b, _ = keys.create("ops-visible", "b", ["query", "ingest"])
        for secret in (a, b):
            auth = {"Authorization": f"Bearer {secret}", "X-Request-ID": f"{CANARY}-rid"}
            for i in range(3):  # questions nothing answers: failed answers, the old label's source
                r = client.post("/v1/query", json={"question": f"{CANARY} {i} florp wibble?"}, headers=auth)
                assert r.status_code == 200
                answer_id = r.json()["answer_id"]
                fb = {"answer_id": answer_id, "rating": "down", "comment": f"{CANARY} comment"}
                assert client.post("/v1/feedback", json=fb, headers=auth).status_code == 201
            client.post("/v1/query", json={"question": f"{CANARY}", "mode": f"{CANARY}"}, headers=auth)  # 422
            client.get(f"/v1/documents/{CANARY}-doc", headers=auth)  # 404 on an id route
            client.get(f"/{CANARY}/unmatched", headers=auth)  # no route at all
            client.post("/v1/chat/completions", json={"model": CANARY, "messages": []}, headers=auth)
        scraped = client.get("/metrics").text
    values = label_values(scraped)
    assert values, "nothing scraped"
    assert any(n.startswith("finrag_failed_queries") for n, _, _ in values), "the failures were not counted"
    leaks = [(n, label, v) for n, label, v in values if CANARY in v.lower()]
    assert not leaks, f"request text reached metric labels: {leaks[:5]}"
    assert CANARY not in scraped
    tenants = {v for _, label, v in values if label == "tenant"}
    assert tenants <= {"ops-visible"}, tenants
    reasons = {v for n, label, v in values if n.startswith("finrag_failed_queries") and label == "reason"}
    assert reasons <= {"no_citations", "low_faithfulness"}


def test_metrics_token_guards_the_api_route(app_with_docs) -> None:  # type: ignore[no-untyped-def]
    app = app_with_docs(metrics_token="s3cret-scrape")
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
        assert ok.status_code == 200 and "finrag_requests_total" in ok.text


def test_metrics_on_their_own_port_leave_the_api_port(app_with_docs) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    app = app_with_docs(metrics_port=port, metrics_token="tok")
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 404
        url = f"http://127.0.0.1:{port}/metrics"
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(url, timeout=5)
        assert denied.value.code == 401
        req = urllib.request.Request(url, headers={"Authorization": "Bearer tok"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.status == 200 and b"finrag_requests_total" in resp.read()
    with pytest.raises(OSError):  # stopped with the app
        urllib.request.urlopen(url, timeout=2)


def test_deploy_files_keep_metrics_off_the_public_port() -> None:
    import yaml

    root = Path(__file__).resolve().parents[2]
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    env = compose["services"]["api"]["environment"]
    port = str(env["FINRAG_SECURITY_METRICS_PORT"])
    assert port != "8000" and all(port not in str(p) for p in compose["services"]["api"]["ports"])
    prom = yaml.safe_load((root / "deploy" / "monitoring" / "prometheus.yml").read_text())
    api_job = next(j for j in prom["scrape_configs"] if j["job_name"] == "finrag-api")
    assert str(api_job["dns_sd_configs"][0]["port"]) == port
    docs = list(yaml.safe_load_all((root / "deploy" / "k8s" / "api.yaml").read_text()))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    config = yaml.safe_load((root / "deploy" / "k8s" / "configmap.yaml").read_text())
    assert annotations["prometheus.io/port"] == str(config["data"]["FINRAG_SECURITY_METRICS_PORT"])
    service = next(d for d in docs if d["kind"] == "Service")
    assert all(p["targetPort"] != "metrics" for p in service["spec"]["ports"])
    assert "FINRAG_SECURITY_METRICS_PORT=" in (root / "Dockerfile").read_text()
