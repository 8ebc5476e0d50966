"""Document registry in SQL through SQLAlchemy: SQLite by default, Postgres by URL."""

from __future__ import annotations

import json
import threading
from collections.abc import Collection
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from finrag.db import create_tables, make_engine
from finrag.db.models import DocumentRow
from finrag.records import DocStatus, DocumentRecord
from finrag.registry.sqlite_read import filing_from_json


def _now() -> str:
    # Microseconds: `fingerprint` tells registry states apart by row count and latest update, and two
    # changes within one second must not look alike.
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _where(stmt: Select[Any], tenant: str | None, status: DocStatus | None) -> Select[Any]:
    """`list`, `count` and `fingerprint` select the same documents."""
    if tenant is not None:
        stmt = stmt.where(DocumentRow.tenant == tenant)
    if status is not None:
        stmt = stmt.where(DocumentRow.status == status.value)
    return stmt


def _to_record(row: DocumentRow) -> DocumentRecord:
    return DocumentRecord(
        doc_id=row.doc_id,
        tenant=row.tenant,
        name=row.name,
        source_path=row.source_path,
        content_hash=row.content_hash,
        status=DocStatus(row.status),
        pages=row.pages,
        chunks=row.chunks,
        error=row.error or "",
        filing=filing_from_json(row.filing),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlRegistry:
    """Registry role. The same class serves SQLite and Postgres; only the URL differs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._engine is not None:
                return
            engine = make_engine(self.url)
            create_tables(engine)
            self._engine = engine

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self.warm_up()
        assert self._engine is not None
        return self._engine

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def get(self, tenant: str, doc_id: str) -> DocumentRecord | None:
        with self._session() as s:
            row = s.get(DocumentRow, (tenant, doc_id))
            return _to_record(row) if row else None

    def find_by_hash(self, tenant: str, content_hash: str) -> DocumentRecord | None:
        with self._session() as s:
            row = s.scalars(
                select(DocumentRow).where(DocumentRow.tenant == tenant, DocumentRow.content_hash == content_hash)
            ).first()
            return _to_record(row) if row else None

    def find_by_source(self, tenant: str, source_path: str) -> list[DocumentRecord]:
        with self._session() as s:
            rows = s.scalars(
                select(DocumentRow).where(DocumentRow.tenant == tenant, DocumentRow.source_path == source_path)
            ).all()
            return [_to_record(r) for r in rows]

    def upsert(self, record: DocumentRecord) -> None:
        now = _now()
        filing = asdict(record.filing)
        filing["doc_type"] = str(record.filing.doc_type)
        with self._session() as s, s.begin():
            row = s.get(DocumentRow, (record.tenant, record.doc_id))
            if row is None:
                row = DocumentRow(tenant=record.tenant, doc_id=record.doc_id, created_at=record.created_at or now)
                s.add(row)
            row.name = record.name
            row.source_path = record.source_path
            row.content_hash = record.content_hash
            row.status = record.status.value
            row.pages = record.pages
            row.chunks = record.chunks
            row.error = record.error
            row.filing = json.loads(json.dumps(filing))
            row.updated_at = now

    def set_status(self, tenant: str, doc_id: str, status: DocStatus, **fields: object) -> None:
        with self._session() as s, s.begin():
            row = s.get(DocumentRow, (tenant, doc_id))
            if row is None:
                raise KeyError(f"unknown document {doc_id!r}")
            row.status = status.value
            for key, value in fields.items():
                setattr(row, key, value)
            row.updated_at = _now()

    def list(self, tenant: str | None = None, status: DocStatus | None = None) -> list[DocumentRecord]:
        stmt = _where(select(DocumentRow).order_by(DocumentRow.name), tenant, status)
        with self._session() as s:
            return [_to_record(r) for r in s.scalars(stmt).all()]

    def fingerprint(self, tenant: str | None = None, status: DocStatus | None = None) -> str:
        """Changes whenever `list(tenant, status)` would: its row count and latest update, computed in
        SQL. What per-question caches compare, instead of loading and parsing every row per question."""
        stmt = _where(select(func.count(), func.max(DocumentRow.updated_at)).select_from(DocumentRow), tenant, status)
        with self._session() as s:
            count, latest = s.execute(stmt).one()
        return f"{count}:{latest or ''}"

    def count(self, tenant: str | None = None, status: DocStatus | None = None) -> int:
        """How many documents `list(tenant, status)` would return, counted in SQL."""
        with self._session() as s:
            return int(s.execute(_where(select(func.count()).select_from(DocumentRow), tenant, status)).scalar_one())

    def ready_ids(self, tenant: str, doc_ids: Collection[str]) -> set[str]:
        """Those of `doc_ids` that are READY: one indexed lookup of the few documents a question's
        hits come from, not a listing of the whole registry."""
        wanted = sorted(set(doc_ids))
        ready: set[str] = set()
        with self._session() as s:
            for start in range(0, len(wanted), 500):  # bounded IN lists
                # By primary key only: with the status in the WHERE clause SQLite walks the status index,
                # i.e. every READY row.
                stmt = select(DocumentRow.doc_id, DocumentRow.status).where(
                    DocumentRow.tenant == tenant, DocumentRow.doc_id.in_(wanted[start : start + 500])
                )
                ready.update(doc_id for doc_id, status in s.execute(stmt) if status == DocStatus.READY.value)
        return ready

    def delete(self, tenant: str, doc_id: str) -> None:
        with self._session() as s, s.begin():
            row = s.get(DocumentRow, (tenant, doc_id))
            if row is not None:
                s.delete(row)
