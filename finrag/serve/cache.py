"""The API's side of the response cache: what an answer's key is made of, and per-tenant index versions.

The cache itself is `finrag.cache` (one protocol: on-disk SQLite embedded, Redis for replicas), with
entries namespaced by tenant. A key includes the tenant's index version, a counter bumped whenever that
tenant's documents change (ingest job finished, delete), so stale answers are never served; the tenant's
entries are also dropped then (`invalidate_tenant`), here and by `finrag worker` after its jobs."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.engine import Engine

from finrag.cache import cache_key
from finrag.db import session
from finrag.db.models import IndexVersionRow


def normalise_question(question: str) -> str:
    """Questions that differ only in case, spacing or final punctuation share an entry."""
    return " ".join(question.split()).casefold().rstrip(" ?!.")


def answer_key(question: str, mode: str, filters: dict[str, Any], top_k: int | None, version: str) -> str:
    """The key of an answer within its tenant's namespace of the cache."""
    return cache_key({"q": normalise_question(question), "m": mode, "f": filters, "k": top_k, "v": version})


class IndexVersions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()

    def get(self, tenant: str) -> int:
        with session(self.engine) as s:
            row = s.get(IndexVersionRow, tenant)
            return row.version if row else 0

    def bump(self, tenant: str) -> int:
        with self._lock, session(self.engine) as s, s.begin():
            row = s.get(IndexVersionRow, tenant)
            if row is None:
                row = IndexVersionRow(tenant=tenant, version=0)
                s.add(row)
            row.version += 1
            return row.version
