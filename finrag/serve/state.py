"""Everything one app instance owns, built by `create_app` and reached through `get_state`."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from finrag.cache import ResponseCache
from finrag.ingest.render import PageRenderer
from finrag.observability.metrics import Metrics
from finrag.serve.answers import AnswerStore, satisfaction
from finrag.serve.budget import BudgetGuard
from finrag.serve.cache import IndexVersions
from finrag.serve.jobs import ApiJobs
from finrag.serve.keys import KeyStore
from finrag.serve.ratelimit import RateLimiter
from finrag.service import QAService
from finrag.settings import ServeSettings, Settings


@dataclass(slots=True)
class ServeState:
    settings: Settings
    serve: ServeSettings
    service: QAService
    owns_service: bool
    engine: Engine
    keys: KeyStore
    jobs: ApiJobs
    versions: IndexVersions
    cache: ResponseCache
    limiter: RateLimiter
    metrics: Metrics
    pages: PageRenderer
    write_lock: threading.Lock
    answers: AnswerStore
    budget: BudgetGuard
    satisfaction: Any  # Gauge finrag_feedback_satisfaction_ratio{tenant}

    @property
    def uploads_dir(self) -> Path:
        return self.settings.data_dir / "uploads"

    def tenant_changed(self, tenant: str) -> None:
        """A tenant's documents changed: new index version (cache keys move on), old entries dropped."""
        self.versions.bump(tenant)
        self.cache.invalidate_tenant(tenant)

    def feedback_changed(self, tenant: str) -> None:
        """Re-export the tenant's satisfaction ratio (up / all ratings stored, so restarts keep it)."""
        ratio = satisfaction(self.answers.ratings(tenant).get(tenant, {}))
        if ratio is not None:
            self.satisfaction.labels(tenant=tenant).set(round(ratio, 4))
