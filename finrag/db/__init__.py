"""The SQL database (registry, updater state, API gateway tables, online evaluation): SQLite by default,
Postgres by URL. One package owns every table (`finrag.db.models`) and its migrations (`finrag.db.migrations`)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):  # a fresh data dir: create its folder
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # pre-ping: a restarted Postgres leaves dead pooled connections; test them before use.
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        # WAL lets the API read while an ingest or a background worker writes; busy_timeout waits on
        # SQLite's lock instead of failing with "database is locked".
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


_CREATE_LOCK = threading.Lock()


def create_tables(engine: Engine) -> None:
    """Embedded default (no migration step): create whatever table is missing; a no-op when alembic
    made them. Replicas starting together race between "does it exist" and CREATE: the loser retries."""
    from finrag.db.models import Base

    with _CREATE_LOCK:  # same process: one at a time; other processes: retry below
        for attempt in range(5):
            try:
                Base.metadata.create_all(engine)
                return
            except (OperationalError, ProgrammingError, IntegrityError):
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_database(url: str) -> Engine:
    """An engine on `url` with every table present (created when missing: the embedded default)."""
    engine = make_engine(url)
    create_tables(engine)
    return engine
