"""The FastAPI gateway: `create_app(settings)` builds one self-contained app (no import-time state)."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from finrag.cache import build_cache
from finrag.db import open_database
from finrag.ingest.render import PageRenderer
from finrag.jobs import service_handlers
from finrag.observability.exporter import MetricsExporter
from finrag.observability.metrics import Metrics, TenantGauge, build_metrics
from finrag.queue import build_queue
from finrag.queue.journal import SqlJobJournal
from finrag.serve.answers import AnswerStore, satisfaction
from finrag.serve.budget import BudgetGuard
from finrag.serve.cache import IndexVersions
from finrag.serve.errors import install_error_handlers
from finrag.serve.jobs import ApiJobs
from finrag.serve.keys import KeyStore
from finrag.serve.middleware import (
    AuthGateMiddleware,
    BodyLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from finrag.serve.ratelimit import RateLimiter
from finrag.serve.routes import answers, chat, documents, health, jobs, keys, query
from finrag.serve.state import ServeState
from finrag.service import QAService
from finrag.settings import ServeSettings, Settings

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"

DESCRIPTION = """Cited question answering over financial filings.

Authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>` (keys: `finrag keys create`).
Every route works inside the key's tenant. Errors are `{"error": {"type", "message"}}`.
Every answer gets an `answer_id` (`GET /v1/answers/{answer_id}`, `POST /v1/feedback`); LLM spend is
limited per tenant (FINRAG_BUDGET_*): over budget, 402 `budget_exceeded` or offline answers.
The OpenAI-compatible endpoints (`/v1/chat/completions`, `/v1/models`) accept the official clients."""


def satisfaction_gauge(metrics: Metrics) -> TenantGauge:
    """finrag_feedback_satisfaction_ratio{tenant}: share of rated answers rated up (from the stored
    ratings, so it survives restarts; the finrag_feedback counter counts ratings per process); only
    the tenants named in FINRAG_SECURITY_METRICS_TENANTS are exported."""
    return metrics.satisfaction


def build_state(settings: Settings, service: QAService | None, serve: ServeSettings) -> ServeState:
    owns = service is None
    service = service or QAService(settings)
    engine = open_database(settings.sqlite_url)
    metrics = build_metrics(tenants=settings.security.metrics_tenants)
    service.engine.attach_metrics(metrics)
    versions = IndexVersions(engine)
    cache = build_cache(
        serve.redis_url,
        path=settings.data_dir / "cache" / "responses.sqlite3",
        ttl_s=serve.cache_ttl_s,
        enabled=serve.cache_enabled,
    )
    write_lock = threading.Lock()
    if serve.job_queue == "redis":
        if not serve.redis_url:
            raise ValueError("FINRAG_SERVE_JOB_QUEUE=redis needs FINRAG_SERVE_REDIS_URL")
        queue = build_queue(serve.redis_url)
    else:
        queue = build_queue(journal=SqlJobJournal(engine))
    answer_store = AnswerStore(engine)
    budget = BudgetGuard(serve.budget, answer_store, metrics.budget_spent)
    sat = satisfaction_gauge(metrics)
    # Gauges from the database, so a restart does not zero them until the next request.
    for tenant, usd in answer_store.spend_by_tenant().items():
        budget.observe(tenant, usd)
    for tenant, counts in answer_store.ratings().items():
        ratio = satisfaction(counts)
        if ratio is not None:
            sat.labels(tenant=tenant).set(round(ratio, 4))
    jobs = ApiJobs(queue, {}, max_queued=serve.max_queued_jobs)
    state = ServeState(
        settings=settings,
        serve=serve,
        service=service,
        owns_service=owns,
        engine=engine,
        keys=KeyStore(engine, serve.key_cache_s, settings.security.max_keys_per_tenant),
        jobs=jobs,
        versions=versions,
        cache=cache,
        limiter=RateLimiter(
            serve.rate_limit_per_minute,
            serve.max_concurrent_per_key,
            serve.redis_url,
            tenant_per_minute=settings.security.tenant_rate_limit_per_minute,
        ),
        metrics=metrics,
        pages=PageRenderer(settings.data_dir / "cache" / "pages", serve.page_dpi),
        write_lock=write_lock,
        answers=answer_store,
        budget=budget,
        satisfaction=sat,
    )
    # Each finished ingest / delete moves the tenant's index version on and drops its cached answers.
    jobs.worker.handlers.update(
        service_handlers(service, metrics, write_lock=write_lock, on_change=state.tenant_changed)
    )
    return state


def create_app(
    settings: Settings, service: QAService | None = None, serve_settings: ServeSettings | None = None
) -> FastAPI:
    """One app over one QAService (built from `settings` unless given; a given one is not closed); the
    HTTP settings are `settings.serve` unless `serve_settings` is given."""
    serve = serve_settings or settings.serve
    state = build_state(settings, service, serve)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = state.service
        svc.warm_up()  # everything loaded before the first request instead of during it
        state.jobs.start()
        sec = settings.security
        exporter = (
            MetricsExporter(
                state.metrics.registry,
                sec.metrics_host,
                sec.metrics_port,
                sec.metrics_token.get_secret_value() if sec.metrics_token else None,
            ).start()
            if sec.metrics_port
            else None
        )
        log.info(
            "finrag api ready",
            extra={"data_dir": str(settings.data_dir), "cache": state.cache.name, "limits": state.limiter.backend},
        )
        try:
            yield
        finally:
            if exporter is not None:
                exporter.stop()
            state.jobs.stop()
            state.jobs.queue.close()
            state.pages.close()
            state.cache.close()
            if state.owns_service:
                svc.close()
            state.engine.dispose()

    app = FastAPI(
        title="finrag",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "query", "description": "Questions and cited answers"},
            {"name": "answers", "description": "Stored answers and feedback on them"},
            {"name": "documents", "description": "Filings: upload, list, delete, page images"},
            {"name": "jobs", "description": "Background ingestion"},
            {"name": "openai", "description": "OpenAI-compatible chat completions"},
            {"name": "keys", "description": "API keys (admin scope)"},
            {"name": "health", "description": "Probes and metrics"},
        ],
    )
    app.state.finrag = state
    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        # The schema states the configured limits, the ones the handlers apply.
        schema = base_openapi()
        models = schema["components"]["schemas"]
        models["QueryRequest"]["properties"]["question"]["maxLength"] = settings.max_question_chars
        for name in ("QueryRequest", "ChatRequest"):  # and the configured top_k ceiling
            for option in models[name]["properties"]["top_k"].get("anyOf", []):
                if option.get("type") == "integer":
                    option["maximum"] = serve.max_top_k
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    install_error_handlers(app)
    for router in (
        query.router,
        answers.router,
        documents.router,
        jobs.router,
        chat.router,
        keys.router,
        health.router,
    ):
        app.include_router(router)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    # Added last = outermost: request ids and metrics cover everything, the 401s and 413s included.
    # The key is checked (headers only) before the body limit, and both before any body is read.
    upload_limit = int(serve.max_upload_mb * 2**20) + 2**20  # + multipart overhead
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.security.max_body_kb * 1024,
        metrics=state.metrics,
        per_path={"/v1/documents": (upload_limit, "FINRAG_SERVE_MAX_UPLOAD_MB")},
    )
    app.add_middleware(AuthGateMiddleware, verify=state.keys.verify, metrics=state.metrics)
    if serve.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=serve.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware, metrics=state.metrics)
    return app
