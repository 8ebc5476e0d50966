"""Alembic migrations for every table of finrag.db.models (registry, updater, API gateway, online evaluation).

Production runs `upgrade(url)` (or `alembic -c finrag/db/migrations/alembic.ini upgrade head` with
FINRAG_DATABASE_URL set) before the API starts; the embedded SQLite default keeps using create_all().
A database that create_all() already made is stamped at the matching revision first, so switching
an existing deployment to migrations needs no manual step."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, pool

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    cfg = Config(str(HERE / "alembic.ini")) if (HERE / "alembic.ini").exists() else Config()
    cfg.set_main_option("script_location", str(HERE))
    # Not set_main_option("sqlalchemy.url"): configparser would choke on '%' in passwords.
    cfg.attributes["url"] = url
    return cfg


def current_revision(url: str) -> str | None:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def _adopt_unversioned(cfg: Config, url: str) -> None:
    """Stamp a database whose tables create_all() made (no alembic_version yet) at the last revision
    whose tables all exist, so `upgrade` only creates what is missing."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        insp = inspect(engine)
        tables = set(insp.get_table_names())
    finally:
        engine.dispose()
    if "alembic_version" in tables or not tables:
        return
    script = ScriptDirectory.from_config(cfg)
    adopted = None
    for rev in reversed(list(script.walk_revisions())):  # oldest first
        creates = getattr(rev.module, "CREATES", ())
        if creates and all(t in tables for t in creates):
            adopted = rev.revision
        else:
            break
    if adopted is not None:
        command.stamp(cfg, adopted)


def upgrade(url: str, revision: str = "head") -> str | None:
    """Bring the database at `url` to `revision`; returns the revision it is at afterwards."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    cfg = alembic_config(url)
    _adopt_unversioned(cfg, url)
    command.upgrade(cfg, revision)
    return current_revision(url)


def downgrade(url: str, revision: str) -> str | None:
    command.downgrade(alembic_config(url), revision)
    return current_revision(url)


def head() -> str:
    head_rev = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head_rev is not None
    return head_rev
