"""The updater's shared state in the registry's database (SQLite or Postgres): what it has seen of each
source object (ETag + content hash) and named leases, so several replicas agree on who scans."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from finrag.db import create_tables, make_engine
from finrag.db.models import LeaseRow, SourceObjectRow


@dataclass(slots=True)
class SeenObject:
    key: str
    etag: str
    content_hash: str
    doc_id: str = ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SourceState:
    """What the updater last saw of each object of a source, shared by all replicas through the DB."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        self._engine = engine
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = make_engine(self.url)
                create_tables(self._engine)
            return self._engine

    def seen(self, source: str) -> dict[str, SeenObject]:
        with Session(self.engine) as s:
            rows = s.scalars(select(SourceObjectRow).where(SourceObjectRow.source == source)).all()
            return {r.key: SeenObject(r.key, r.etag, r.content_hash, r.doc_id) for r in rows}

    def record(self, source: str, tenant: str, obj: SeenObject) -> None:
        with Session(self.engine) as s, s.begin():
            row = s.get(SourceObjectRow, (source, obj.key))
            if row is None:
                row = SourceObjectRow(source=source, key=obj.key)
                s.add(row)
            row.tenant = tenant
            row.etag = obj.etag
            row.content_hash = obj.content_hash
            row.doc_id = obj.doc_id
            row.updated_at = _now()

    def forget(self, source: str, key: str) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(delete(SourceObjectRow).where(SourceObjectRow.source == source, SourceObjectRow.key == key))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


class SqlLease:
    """A named lease in a SQL table: one holder at a time until `expires_at`; the holder renews it.

    Acquire/renew is a single conditional UPDATE (or an INSERT that the primary key makes exclusive), so it
    is atomic on SQLite and Postgres alike, without advisory locks."""

    def __init__(
        self, url: str, name: str, ttl_s: float = 60.0, holder: str | None = None, engine: Engine | None = None
    ):
        self.url = url
        self.name = name
        self.ttl_s = ttl_s
        self.holder = holder or default_holder()
        self._state = SourceState(url, engine)

    def acquire(self) -> bool:
        """Take the lease if it is free or expired, or renew it if we hold it. True when we hold it."""
        now = time.time()
        engine = self._state.engine
        with engine.begin() as conn:
            res = conn.execute(
                update(LeaseRow)
                .where(LeaseRow.name == self.name)
                .where((LeaseRow.holder == self.holder) | (LeaseRow.expires_at < now))
                .values(holder=self.holder, expires_at=now + self.ttl_s)
            )
            if res.rowcount:
                return True
        try:
            with engine.begin() as conn:
                conn.execute(insert(LeaseRow).values(name=self.name, holder=self.holder, expires_at=now + self.ttl_s))
            return True
        except IntegrityError:  # someone else holds it (or inserted it just now)
            return False

    renew = acquire

    def release(self) -> None:
        with self._state.engine.begin() as conn:
            conn.execute(delete(LeaseRow).where(LeaseRow.name == self.name, LeaseRow.holder == self.holder))

    def holder_now(self) -> str | None:
        with Session(self._state.engine) as s:
            row = s.get(LeaseRow, self.name)
            return row.holder if row is not None and row.expires_at >= time.time() else None
