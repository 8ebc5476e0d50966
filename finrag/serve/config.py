"""Settings of the HTTP gateway only (FINRAG_SERVE_*); the QA engine keeps its own `Settings`."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
