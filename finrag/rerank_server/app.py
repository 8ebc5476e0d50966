"""`POST /rerank` {query, documents[], top_k} -> scores, from a sentence-transformers CrossEncoder.

The model loads at start-up (on the GPU when there is one and `device` is "auto"; the image must carry
a CUDA torch for that: see docs/deployment.md), so the first request is not the slow one. Requests are
scored one at a time (a lock: one model, one GPU stream), each one's (query, document) pairs in forward
passes of `batch_size` pairs cut at `max_length` tokens. Scores are the model's, sigmoid-squashed for
single-logit rerankers (0..1, higher = more relevant); results come best first, `index` pointing into
the request's `documents`. `GET /metrics`: Prometheus text with the request latency histogram, pairs
scored and the model/device serving."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import FastAPI, Response
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

DEFAULT_MODEL = "BAAI/bge-reranker-v2-m3"


class RerankRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(..., min_length=1, max_length=8_000)
    documents: list[str] = Field(..., max_length=2_000)
    top_k: int | None = Field(None, ge=1, description="results to return (default: all)")


class RerankResult(BaseModel):
    index: int = Field(description="position in the request's documents")
    score: float


class RerankResponse(BaseModel):
    model: str
    device: str
    results: list[RerankResult]
    elapsed_ms: float


class Scorer(Protocol):
    model_name: str
    device: str

    def load(self) -> None: ...

    def score(self, query: str, documents: list[str]) -> list[float]: ...


def resolve_device(device: str) -> str:
    """ "auto" -> cuda when torch sees a GPU, else cpu; anything else as given ("cuda:1", "mps")."""
    if device != "auto":
        return device
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:  # pragma: no cover - torch comes with sentence-transformers
        return "cpu"


class CrossEncoderScorer:
    def __init__(self, model: str, device: str = "auto", max_length: int = 512, batch_size: int = 32) -> None:
        self.model_name = model
        self.device = resolve_device(device)
        self.max_length = max_length
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            from sentence_transformers import CrossEncoder

            t0 = time.perf_counter()
            self._model = CrossEncoder(self.model_name, device=self.device, max_length=self.max_length)
            log.info(
                "rerank model loaded",
                extra={"model": self.model_name, "device": self.device, "s": round(time.perf_counter() - t0, 1)},
            )

    def score(self, query: str, documents: list[str]) -> list[float]:
        self.load()
        with self._lock:
            scores = self._model.predict(
                [(query, d) for d in documents], batch_size=self.batch_size, show_progress_bar=False
            )
        return [float(s) for s in scores]


class RerankMetrics:
    """The service's own Prometheus registry (one per app: several apps in one test process must not
    collide in the global one)."""

    # Seconds per /rerank request: ~5 ms (a few pairs on a GPU) to several seconds (60 pages on a CPU).
    BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

    def __init__(self, model: str, device: str) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "finrag_rerank_request_seconds",
            "Time to score one /rerank request (all its pairs)",
            buckets=self.BUCKETS,
            registry=self.registry,
        )
        self.pairs = Counter("finrag_rerank_pairs", "(query, document) pairs scored", registry=self.registry)
        self.errors = Counter("finrag_rerank_errors", "/rerank requests the model failed on", registry=self.registry)
        info = Gauge("finrag_rerank_model_info", "The model served, and on which device", ["model", "device"],
                     registry=self.registry)  # fmt: skip
        info.labels(model=model, device=device).set(1)

    def observe(self, seconds: float, pairs: int) -> None:
        self.latency.observe(seconds)
        self.pairs.inc(pairs)


def create_app(
    model: str = DEFAULT_MODEL,
    device: str = "auto",
    *,
    max_length: int = 512,
    batch_size: int = 32,
    max_chars: int = 20_000,
    scorer: Scorer | None = None,
) -> FastAPI:
    """An app around one model (`scorer` replaces the CrossEncoder, e.g. another backend)."""
    sc: Scorer = scorer or CrossEncoderScorer(model, device, max_length, batch_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sc.load()
        yield

    app = FastAPI(title="finrag reranker", version="1.0.0", lifespan=lifespan)
    app.state.scorer = sc
    metrics = RerankMetrics(sc.model_name, sc.device)
    app.state.metrics = metrics

    @app.get("/metrics")
    def prometheus() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    def healthz() -> dict[str, str | int]:
        out: dict[str, str | int] = {"status": "ok", "model": sc.model_name, "device": sc.device}
        for knob in ("batch_size", "max_length"):  # what this server was started with
            if isinstance(getattr(sc, knob, None), int):
                out[knob] = getattr(sc, knob)
        return out

    @app.post("/rerank", response_model=RerankResponse)
    def rerank(body: RerankRequest) -> RerankResponse:
        # a plain def: FastAPI runs it in a worker thread, the event loop stays free while the model runs
        t0 = time.perf_counter()
        docs = [d[:max_chars] for d in body.documents]
        try:
            scores = sc.score(body.query, docs) if docs else []
        except Exception:
            metrics.errors.inc()
            raise
        metrics.observe(time.perf_counter() - t0, len(docs))
        order = sorted(range(len(docs)), key=lambda i: -scores[i])
        if body.top_k is not None:
            order = order[: body.top_k]
        return RerankResponse(
            model=sc.model_name,
            device=sc.device,
            results=[RerankResult(index=i, score=scores[i]) for i in order],
            elapsed_ms=round((time.perf_counter() - t0) * 1000, 2),
        )

    return app


def run_rerank_server(
    host: str = "127.0.0.1",
    port: int = 8080,
    model: str = DEFAULT_MODEL,
    device: str = "auto",
    *,
    max_length: int = 512,
    batch_size: int = 32,
) -> None:
    """Serve `model` on host:port with uvicorn (one process: one copy of the model on the device)."""
    import uvicorn

    app = create_app(model, device, max_length=max_length, batch_size=batch_size)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
