"""Settings of the HTTP gateway only (FINRAG_SERVE_*); the QA engine keeps its own `Settings`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TenantBudget(BaseModel):
    """One tenant's limits; a field left out takes the default from `BudgetSettings`."""

    model_config = ConfigDict(extra="forbid")

    monthly_usd: float | None = Field(None, ge=0)
    per_query_usd: float | None = Field(None, ge=0)
    over_budget: Literal["reject", "offline"] | None = None


class BudgetSettings(BaseSettings):
    """LLM spend limits per tenant (FINRAG_BUDGET_*), counted from each answer's `cost_usd`."""

    model_config = SettingsConfigDict(env_prefix="FINRAG_BUDGET_", extra="ignore")

    monthly_usd: float | None = Field(
        None, ge=0, description="per tenant and calendar month (UTC); unset = unlimited, 0 = offline answers only"
    )
    per_query_usd: float | None = Field(
        None, ge=0, description="per request: stops escalation to costlier pipelines; unset = none, 0 = no LLM call"
    )
    over_budget: Literal["reject", "offline"] = Field(
        "offline", description="when the month's budget is spent: 402 error, or offline (extractive) answers"
    )
    # FINRAG_BUDGET_TENANTS='{"acme": {"monthly_usd": 50, "over_budget": "reject"}, "trial": {"monthly_usd": 0}}'
    tenants: dict[str, TenantBudget] = Field(default_factory=dict, description="per-tenant overrides (JSON)")

    def for_tenant(self, tenant: str) -> TenantBudget:
        """The defaults with the tenant's overrides (only the fields it sets) on top."""
        own = self.tenants.get(tenant)
        base = {"monthly_usd": self.monthly_usd, "per_query_usd": self.per_query_usd, "over_budget": self.over_budget}
        if own is not None:
            base.update({k: getattr(own, k) for k in own.model_fields_set})
        return TenantBudget(**base)


class ServeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FINRAG_SERVE_", extra="ignore")

    # Uploads
    max_upload_mb: float = Field(50.0, gt=0, description="largest accepted PDF upload")
    max_queued_jobs: int = Field(1000, ge=1, description="ingest queue depth before uploads get 503")

    # Rate limits (per API key)
    rate_limit_per_minute: int = Field(120, ge=1, description="moving-window requests per minute")
    max_concurrent_per_key: int = Field(8, ge=1, description="requests of one key in flight at once")

    # Response cache
    cache_enabled: bool = True
    cache_ttl_s: int = Field(7 * 24 * 3600, ge=1, description="entries also die when the tenant's index changes")

    # Shared backends: empty = in-process / on-disk defaults
    redis_url: str = Field("", description="rate limits + response cache in Redis, e.g. redis://localhost:6379/0")

    cors_origins: list[str] = Field(default_factory=list, description='JSON list, e.g. ["https://app.example"]')
    key_cache_s: float = Field(5.0, ge=0, description="how long a verified key is trusted before re-checking")
    page_dpi: int = Field(110, ge=36, le=300, description="resolution of page images")
    max_top_k: int = Field(50, ge=1, le=100)

    # Stored answers (GET /v1/answers/{id}, feedback) and LLM budgets (FINRAG_BUDGET_*)
    store_answers: bool = Field(True, description="keep every answer with its trace, for feedback and debugging")
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
