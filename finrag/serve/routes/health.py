"""Liveness, readiness and Prometheus metrics (no API key: probes and scrapers have none)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from finrag.observability.exporter import token_ok
from finrag.serve.deps import StateDep
from finrag.serve.errors import ApiError, ErrorResponse, not_found
from finrag.serve.schemas import Check, Health, Ready
from finrag.serve.state import ServeState

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health(status="ok")


def readiness(state: ServeState) -> Ready:
    checks: dict[str, Check] = {}
    fatal: list[str] = []
    degraded: list[str] = []

    def probe(name: str, fn, backend: str = "") -> None:  # type: ignore[no-untyped-def]
        try:
            detail = fn()
        except Exception as exc:
            checks[name] = Check(ok=False, backend=backend, detail=f"{type(exc).__name__}: {exc}")
            fatal.append(f"{name}: {type(exc).__name__}: {exc}")
            return
        checks[name] = Check(ok=True, backend=backend, detail=detail or "")

    svc = state.service
    probe("registry", lambda: f"{len(svc.c.registry.list(tenant='__readyz__'))} rows", type(svc.c.registry).__name__)
    probe("store", lambda: f"count query ok ({svc.c.store.count(tenant='__readyz__')})", type(svc.c.store).__name__)
    writable = getattr(svc.c.store, "check_writable", None)
    if writable is not None:  # the embedded store: owner lock held, last write ok (or reopened since)
        problem = writable()
        checks["store_writes"] = Check(ok=problem is None, backend=type(svc.c.store).__name__, detail=problem or "")
        if problem:
            fatal.append(f"store_writes: {problem}")

    cache = state.cache.status()
    cache_problem = "" if cache["healthy"] else (cache["error"] or "unavailable")
    checks["cache"] = Check(ok=not cache_problem, backend=cache["backend"], detail=cache_problem)
    if cache_problem:
        degraded.append(f"cache: {cache_problem}")
    limit_problem = state.limiter.check()
    checks["rate_limits"] = Check(ok=limit_problem is None, backend=state.limiter.backend, detail=limit_problem or "")
    if limit_problem:
        degraded.append(limit_problem)
    alive = state.jobs.alive
    checks["ingest_worker"] = Check(ok=alive, detail=f"{state.jobs.depth()} queued" if alive else "not running")
    if not alive:
        degraded.append("ingest worker is not running: uploads will wait")

    status = "unavailable" if fatal else "degraded" if degraded else "ok"
    return Ready(status=status, checks=checks, reasons=fatal + degraded)


@router.get(
    "/readyz",
    response_model=Ready,
    summary="Readiness: store, registry, cache, rate-limit backend, ingest worker",
    responses={503: {"model": Ready, "description": "store or registry unavailable"}},
)
async def readyz(state: StateDep) -> JSONResponse:
    ready = await run_in_threadpool(readiness, state)
    # Degraded still serves traffic (200); only a broken store or registry takes the pod out (503).
    return JSONResponse(ready.model_dump(), status_code=503 if ready.status == "unavailable" else 200)


@router.get(
    "/metrics",
    summary="Prometheus metrics (bearer FINRAG_SECURITY_METRICS_TOKEN when set; 404 when on their own port)",
    response_class=Response,
    responses={
        401: {"model": ErrorResponse, "description": "metrics token missing or wrong"},
        404: {"model": ErrorResponse, "description": "metrics are served on FINRAG_SECURITY_METRICS_PORT"},
    },
)
async def metrics(request: Request, state: StateDep) -> Response:
    sec = state.settings.security
    if sec.metrics_port:
        raise not_found("/metrics on the API port (metrics are served on their own port)")
    token = sec.metrics_token.get_secret_value() if sec.metrics_token else None
    if not token_ok(request.headers.get("authorization"), token):
        raise ApiError(
            401, "unauthorized", "metrics need 'Authorization: Bearer <token>'", {"WWW-Authenticate": "Bearer"}
        )
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
