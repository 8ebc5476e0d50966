"""Prometheus metrics the service exports. Names here are the contract for the Grafana dashboard and
the alert rules in deploy/monitoring (a test checks every query there references one of these).

Label values are bounded and never come from request text: routes are templates, failures are
categories, and a tenant appears only when the operator names it (FINRAG_SECURITY_METRICS_TENANTS);
the question of a failed answer stays in the tenant's own stored answers (GET /v1/answers/{id})."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# The stages of one answer whose latency is exported (the `stage` label's only values): question scope,
# the whole retrieval (scope included), the reranker within it, the answer pipelines' runs and the
# trust scoring / inline judge after each run.
STAGES = ("scope", "retrieve", "rerank", "generate", "judge")
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass(slots=True)
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    request_latency: Histogram
    stage_latency: Histogram
    errors: Counter
    cache: Counter
    pipeline: Counter
    llm_tokens: Counter
    llm_cost: Counter
    faithfulness: Histogram
    ingest_documents: Counter
    ingest_pages: Counter
    ingest_duration: Histogram
    online_eval: Histogram
    feedback: Counter
    failed_queries: Counter
    satisfaction: TenantGauge
    budget_spent: TenantGauge


def build_metrics(registry: CollectorRegistry | None = None, tenants: Collection[str] = ()) -> Metrics:
    """A fresh set per app (no import-time globals), so tests can build several apps. `tenants`: those
    exported by name in the per-tenant gauges (the others are left out)."""
    reg = registry or CollectorRegistry()
    return Metrics(
        registry=reg,
        requests=Counter("finrag_requests", "HTTP requests", ["route", "method", "status"], registry=reg),
        request_latency=Histogram(
            "finrag_request_latency_seconds",
            "request latency",
            ["route", "pipeline"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        ),
        stage_latency=Histogram(
            "finrag_stage_latency_seconds",
            "time spent in each stage of a computed (not cached) answer",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=reg,
        ),
        errors=Counter("finrag_errors", "errors by type", ["type"], registry=reg),
        cache=Counter("finrag_cache_requests", "response cache lookups", ["result"], registry=reg),
        pipeline=Counter("finrag_pipeline", "answers by pipeline chosen", ["pipeline"], registry=reg),
        llm_tokens=Counter("finrag_llm_tokens", "LLM tokens", ["model", "kind"], registry=reg),
        llm_cost=Counter("finrag_llm_cost_usd", "LLM cost in USD", ["model"], registry=reg),
        faithfulness=Histogram(
            "finrag_faithfulness",
            "faithfulness score of answers",
            buckets=(0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0),
            registry=reg,
        ),
        ingest_documents=Counter("finrag_ingest_documents", "documents ingested", ["status"], registry=reg),
        ingest_pages=Counter("finrag_ingest_pages", "pages ingested", registry=reg),
        ingest_duration=Histogram(
            "finrag_ingest_duration_seconds",
            "ingest job duration",
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800),
            registry=reg,
        ),
        online_eval=Histogram(
            "finrag_online_eval_score",
            "online evaluation scores",
            ["metric"],
            buckets=(0.1, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0),
            registry=reg,
        ),
        feedback=Counter("finrag_feedback", "answer feedback", ["rating"], registry=reg),
        failed_queries=Counter(
            "finrag_failed_queries",
            "answers without citations or below the faithfulness threshold, by reason",
            ["reason"],
            registry=reg,
        ),
        satisfaction=TenantGauge(
            Gauge("finrag_feedback_satisfaction_ratio", "share of rated answers rated up", ["tenant"], registry=reg),
            tenants,
        ),
        budget_spent=TenantGauge(
            Gauge("finrag_tenant_spend_usd", "LLM spend this month", ["tenant"], registry=reg), tenants
        ),
    )


class _Discarded:
    """The series of a tenant the operator did not name: set and inc go nowhere."""

    def set(self, value: float) -> None:
        pass

    def inc(self, amount: float = 1) -> None:
        pass


class TenantGauge:
    """A per-tenant gauge exporting only the tenants named in configuration, so tenant names (made
    by whoever creates keys) never grow the label set or reach a scraper unasked."""

    def __init__(self, gauge: Gauge, tenants: Collection[str]) -> None:
        self.gauge = gauge
        self.tenants = frozenset(tenants)

    def labels(self, *, tenant: str) -> Any:
        return self.gauge.labels(tenant=tenant) if tenant in self.tenants else _Discarded()
