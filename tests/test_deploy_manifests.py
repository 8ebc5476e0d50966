"""Offline validation of the deployment files: docker-compose against the compose-spec JSON schema,
Kubernetes manifests against the API schemas (kubernetes-validate, strict), Terraform parsed as HCL2,
and the Dockerfile's essentials."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
TF = ROOT / "deploy" / "terraform"


# docker-compose ---------------------------------------------------------------------------------------------
def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_matches_the_compose_spec_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    try:
        from importlib.resources import files

        schema_file = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
        schema = json.loads(schema_file.read_text())
    except (ImportError, FileNotFoundError, ModuleNotFoundError):
        pytest.skip("compose-spec schema not available (pip install check-jsonschema, which vendors it)")
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(_compose()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_compose_wires_the_services_by_environment() -> None:
    services = _compose()["services"]
    assert {"api", "worker", "updater", "migrate", "qdrant", "redis", "postgres", "prometheus", "grafana"} <= set(
        services
    )
    for name in ("api", "worker", "updater", "migrate"):
        env = services[name]["environment"]
        assert env["FINRAG_QDRANT_URL"] == "http://qdrant:6333", name
        assert env["FINRAG_DATABASE_URL"].startswith("postgresql+psycopg://finrag:"), name
        assert "@postgres:5432/" in env["FINRAG_DATABASE_URL"], name
        assert env["FINRAG_SERVE_REDIS_URL"] == "redis://redis:6379/0", name
    api = services["api"]
    assert str(api["deploy"]["replicas"]).startswith("${API_REPLICAS")
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # the worker exports its online-evaluation scores where Prometheus' finrag-worker job scrapes
    assert services["worker"]["command"] == ["python", "-m", "finrag.queue", "--metrics-port", "9108"]
    assert services["migrate"]["command"][:3] == ["python", "-m", "finrag.db.migrations"]
    for name in ("postgres", "redis", "qdrant"):
        assert "healthcheck" in services[name], name
    assert "--appendonly" in services["redis"]["command"]  # queued jobs survive a Redis restart


def test_compose_mounts_files_that_exist() -> None:
    for name, svc in _compose()["services"].items():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("./"):
                assert (ROOT / src).exists(), f"{name}: {src} missing"


def test_compose_module_entry_points_exist() -> None:
    import importlib.util

    for module in ("finrag.queue.__main__", "finrag.updater.__main__", "finrag.db.migrations.__main__"):
        assert importlib.util.find_spec(module) is not None, module


# Kubernetes ---------------------------------------------------------------------------------------------------
def _k8s_docs() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for f in sorted(K8S.glob("*.yaml")):
        if f.name == "kustomization.yaml":
            continue
        docs += [(f.name, d) for d in yaml.safe_load_all(f.read_text()) if d]
    return docs


def test_k8s_manifests_validate_against_the_api_schemas() -> None:
    kv = pytest.importorskip("kubernetes_validate", reason="pip install kubernetes-validate")
    version = kv.latest_version()
    for name, doc in _k8s_docs():
        try:
            kv.validate(doc, version, strict=True)
        except kv.ValidationError as exc:
            pytest.fail(f"{name} {doc['kind']}/{doc['metadata']['name']}: {exc}")


def test_k8s_validation_catches_a_typo() -> None:
    kv = pytest.importorskip("kubernetes_validate", reason="pip install kubernetes-validate")
    doc = next(d for _, d in _k8s_docs() if d["kind"] == "Deployment")
    bad = json.loads(json.dumps(doc))
    bad["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    with pytest.raises(kv.ValidationError):
        kv.validate(bad, kv.latest_version(), strict=True)


def _by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in _k8s_docs() if d["kind"] == kind}


def test_k8s_workloads_have_probes_resources_and_secret_references() -> None:
    deployments = _by_kind("Deployment")
    assert {"finrag-api", "finrag-worker", "finrag-updater"} <= set(deployments)
    api = deployments["finrag-api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for name, dep in deployments.items():
        pod = dep["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for c in pod["containers"]:
            assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"], name
            refs = [e.get("secretRef", {}).get("name") for e in c.get("envFrom", [])]
            assert "finrag-secrets" in refs, name
    hpa = _by_kind("HorizontalPodAutoscaler")["finrag-api"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "finrag-api"
    assert hpa["spec"]["minReplicas"] >= 2
    assert _by_kind("Service")["finrag-api"]["spec"]["selector"] == {"app.kubernetes.io/name": "finrag-api"}


def test_k8s_qdrant_is_a_statefulset_with_volume_claims() -> None:
    sts = _by_kind("StatefulSet")["qdrant"]
    assert {t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]} >= {"storage"}
    c = sts["spec"]["template"]["spec"]["containers"][0]
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "finrag-secrets"
    assert _by_kind("Service")["qdrant-headless"]["spec"]["clusterIP"] == "None"


def test_k8s_config_matches_settings_fields() -> None:
    """Every FINRAG_* key in the ConfigMap / Secret is a setting the code reads (no silently ignored typos)."""
    from finrag.settings import RetrievalSettings, SecuritySettings, Settings

    known = {f"FINRAG_{n.upper()}" for n in Settings.model_fields}
    known |= {f"FINRAG_RETRIEVAL_{n.upper()}" for n in RetrievalSettings.model_fields}
    known |= {f"FINRAG_SECURITY_{n.upper()}" for n in SecuritySettings.model_fields}
    try:
        from finrag.settings import ServeSettings

        known |= {f"FINRAG_SERVE_{n.upper()}" for n in ServeSettings.model_fields}
    except ImportError:
        known |= {"FINRAG_SERVE_REDIS_URL", "FINRAG_SERVE_CACHE_ENABLED"}
    # Read by this package's own code rather than Settings.
    known |= {"FINRAG_LOG_LEVEL", "FINRAG_QDRANT_API_KEY", "FINRAG_UPDATER_SOURCE", "FINRAG_S3_ENDPOINT_URL"}
    for kind in ("ConfigMap", "Secret"):
        for name, doc in _by_kind(kind).items():
            data = doc.get("data") or doc.get("stringData") or {}
            unknown = {k for k in data if k.startswith("FINRAG_")} - known
            assert not unknown, f"{kind}/{name}: unknown settings {unknown}"


# Terraform ----------------------------------------------------------------------------------------------------
def _unquote(key: str) -> str:
    return key.strip('"')


def _tf() -> dict[str, list]:
    hcl2 = pytest.importorskip("hcl2", reason="pip install python-hcl2")
    merged: dict[str, list] = {}
    for f in sorted(TF.glob("*.tf")):
        for block, items in hcl2.loads(f.read_text()).items():
            if not block.startswith("__"):
                merged.setdefault(block, []).extend(items if isinstance(items, list) else [items])
    return merged


def test_terraform_parses_and_declares_the_backends() -> None:
    tf = _tf()
    resources = {(_unquote(t), _unquote(n)) for item in tf["resource"] for t, named in item.items() for n in named}
    for needed in (
        ("aws_s3_bucket", "filings"),
        ("aws_db_instance", "registry"),
        ("aws_elasticache_replication_group", "redis"),
        ("aws_iam_role", "app"),
    ):
        assert needed in resources, needed
    variables = {_unquote(k): v for item in tf["variable"] for k, v in item.items()}
    assert all(v.get("description") for v in variables.values()), "every variable needs a description"
    referenced = set(re.findall(r"var\.(\w+)", "\n".join(f.read_text() for f in TF.glob("*.tf"))))
    assert referenced <= set(variables), f"undeclared variables: {referenced - set(variables)}"
    outputs = {_unquote(k): v for item in tf["output"] for k, v in item.items()}
    assert outputs["database_url"]["sensitive"] is True and outputs["redis_url"]["sensitive"] is True


def test_terraform_has_no_literal_secrets() -> None:
    text = "\n".join(f.read_text() for f in TF.glob("*.tf"))
    assert not re.search(r'(password|auth_token|secret)\s*=\s*"[^"$]', text), "secrets must come from random_* or vars"


# Dockerfile ---------------------------------------------------------------------------------------------------
def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def test_dockerfile_is_multi_stage_non_root_with_pinned_cpu_torch_and_healthcheck() -> None:
    ins = _instructions()
    froms = [rest for op, rest in ins if op == "FROM"]
    assert len(froms) >= 2 and any(" AS build" in f for f in froms)
    runs = " ".join(rest for op, rest in ins if op == "RUN")
    # pinned torch from the PyTorch index of TORCH_VARIANT, cpu unless the build asks for CUDA
    assert re.search(
        r"--index-url \"https://download\.pytorch\.org/whl/\$\{TORCH_VARIANT\}\" \"torch==2\.13\.0\"", runs
    )
    assert ("ARG", "TORCH_VARIANT=cpu") in ins
    final = ins[max(i for i, (op, _) in enumerate(ins) if op == "FROM") :]
    users = [rest for op, rest in final if op == "USER"]
    assert users and users[-1] not in {"root", "0"}
    health = [rest for op, rest in final if op == "HEALTHCHECK"]
    assert health and "/healthz" in health[0]
    assert any(op == "EXPOSE" and "8000" in rest for op, rest in final)
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", ".env"} <= set(ignore)


def test_compose_schema_catches_a_typo() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    check = pytest.importorskip("check_jsonschema.builtin_schemas.vendor", reason="pip install check-jsonschema")
    from importlib.resources import files

    schema = json.loads(files(check).joinpath("compose-spec.json").read_text())
    bad = _compose()
    bad["services"]["api"]["helthcheck"] = bad["services"]["api"].pop("healthcheck")
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))


# The GPU reranker: its own CUDA image, a reserved GPU, scheduling on GPU nodes -----------------------------
def test_dockerfile_torch_variant_is_a_build_argument_defaulting_to_cpu() -> None:
    ins = _instructions()
    build = ins[: max(i for i, (op, _) in enumerate(ins) if op == "FROM")]
    args = [rest for op, rest in build if op == "ARG"]
    assert "TORCH_VARIANT=cpu" in args  # the API image (no build argument) stays CPU
    runs = " ".join(rest for op, rest in build if op == "RUN")
    assert re.search(r'--index-url "https://download\.pytorch\.org/whl/\$\{TORCH_VARIANT\}" "torch==2\.13\.0"', runs)
    # the build fails when the wheel installed is not the variant asked for
    assert "torch.version.cuda is None" in runs


def test_compose_reserves_a_gpu_for_the_reranker_built_with_cuda_torch() -> None:
    services = _compose()["services"]
    rr = services["reranker"]
    assert rr["build"]["args"]["TORCH_VARIANT"].startswith("${RERANKER_TORCH_VARIANT:-cu")
    assert rr["image"] != services["api"]["image"]  # the API keeps its CPU image
    assert "build" not in services["api"] or "TORCH_VARIANT" not in str(services["api"]["build"])
    devices = rr["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert rr["profiles"] == ["gpu"]  # `docker compose up` on a host without a GPU still starts the rest
    assert rr["command"][:2] == ["finrag", "rerank-server"] and rr["command"][-2:] == ["--device", "cuda"]
    env = rr["environment"]
    assert {"FINRAG_RETRIEVAL_RERANK_BATCH_SIZE", "FINRAG_RETRIEVAL_RERANK_MAX_LENGTH"} <= set(env)


def test_k8s_reranker_requests_a_gpu_on_gpu_nodes() -> None:
    from finrag.settings import RetrievalSettings

    dep = _by_kind("Deployment")["finrag-reranker"]
    pod = dep["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["resources"]["requests"]["nvidia.com/gpu"] == 1
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert "reranker" in container["image"] and container["args"][-2:] == ["--device", "cuda"]
    names = {e["name"] for e in container["env"]}
    assert names == {"FINRAG_RETRIEVAL_RERANK_BATCH_SIZE", "FINRAG_RETRIEVAL_RERANK_MAX_LENGTH"}
    assert {n.removeprefix("FINRAG_RETRIEVAL_").lower() for n in names} <= set(RetrievalSettings.model_fields)
    annotations = dep["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] == "/metrics" and annotations["prometheus.io/port"] == "8080"
