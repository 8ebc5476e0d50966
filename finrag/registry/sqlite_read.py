"""Read-only listing of the document registry straight from its SQLite file, with the standard library.

`finrag documents list` is a person waiting at a prompt: SQLAlchemy's import alone costs ~0.25 s, more
than the whole query. This reader returns exactly what `SqlRegistry.list` returns for a SQLite URL;
any other database (Postgres) goes through `SqlRegistry`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from finrag.records import DocStatus, DocType, DocumentRecord, Filing

_COLUMNS = (
    "doc_id", "tenant", "name", "source_path", "content_hash", "status", "pages", "chunks", "error", "filing",
    "created_at", "updated_at",
)  # fmt: skip


def filing_from_json(data: dict[str, Any] | None) -> Filing:
    """A stored filing dict back to a Filing: unknown document types become OTHER, unknown keys are dropped."""
    data = dict(data or {})
    if "doc_type" in data:
        try:
            data["doc_type"] = DocType(data["doc_type"])
        except ValueError:
            data["doc_type"] = DocType.OTHER
    known = set(Filing.__slots__)  # type: ignore[attr-defined]
    return Filing(**{k: v for k, v in data.items() if k in known})


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///PATH` URL; None for any other database or an in-memory SQLite."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def list_documents(path: Path, tenant: str | None = None, status: DocStatus | None = None) -> list[DocumentRecord]:
    """`SqlRegistry.list` on the SQLite file `path`, opened read-only (a missing file or table: no documents)."""
    if not path.is_file():
        return []
    sql = f"SELECT {', '.join(_COLUMNS)} FROM documents"
    where, args = [], []
    if tenant is not None:
        where.append("tenant = ?")
        args.append(tenant)
    if status is not None:
        where.append("status = ?")
        args.append(status.value)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY name"
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # a data folder nothing was ingested into yet
            return []
        raise
    finally:
        conn.close()
    return [_record(row) for row in rows]


def _record(row: sqlite3.Row) -> DocumentRecord:
    return DocumentRecord(
        doc_id=row["doc_id"],
        tenant=row["tenant"],
        name=row["name"],
        source_path=row["source_path"],
        content_hash=row["content_hash"],
        status=DocStatus(row["status"]),
        pages=row["pages"],
        chunks=row["chunks"],
        error=row["error"] or "",
        filing=filing_from_json(json.loads(row["filing"]) if row["filing"] else None),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
