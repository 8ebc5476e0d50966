"""Everything one app instance owns, built by `create_app` and reached through `get_state`."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from finrag.observability.metrics import Metrics
from finrag.serve.cache import IndexVersions, ResponseCache
from finrag.serve.config import ServeSettings
from finrag.serve.jobs import IngestWorker, JobStore
from finrag.serve.keys import KeyStore
from finrag.serve.pages import PageRenderer
from finrag.serve.ratelimit import RateLimiter
from finrag.service import QAService
from finrag.settings import Settings


@dataclass(slots=True)
class ServeState:
    settings: Settings
    serve: ServeSettings
    service: QAService
    owns_service: bool
    engine: Engine
    keys: KeyStore
    jobs: JobStore
    worker: IngestWorker
    versions: IndexVersions
    cache: ResponseCache
    limiter: RateLimiter
    metrics: Metrics
    pages: PageRenderer
    write_lock: threading.Lock

    @property
    def uploads_dir(self) -> Path:
        return self.settings.data_dir / "uploads"

    def tenant_changed(self, tenant: str) -> None:
        """A tenant's documents changed: new index version (cache keys move on), old entries dropped."""
        self.versions.bump(tenant)
        self.cache.forget_tenant(tenant)
