"""Alembic migrations on SQLite (no server): same checks as on Postgres, plus the alembic CLI entry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from finrag.registry.sql import SqlRegistry

pytest.importorskip("alembic")

from tests.test_backends_postgres import check_migrations, diff_against_models, table_names
from tests.test_contract_registry import _rec


def test_migrations_match_models_on_sqlite(tmp_path: Path) -> None:
    check_migrations(f"sqlite:///{tmp_path / 'm.sqlite3'}")


def test_upgrade_adopts_a_create_all_database_on_sqlite(tmp_path: Path) -> None:
    from finrag.db.migrations import head, upgrade

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    SqlRegistry(url).upsert(_rec("kept"))
    assert upgrade(url) == head()
    assert {"documents", "finrag_leases", "finrag_source_objects"} <= table_names(url)
    assert SqlRegistry(url).get("t1", "kept") is not None
    assert diff_against_models(url) == []


def test_alembic_command_line_uses_the_env_url(tmp_path: Path) -> None:
    from finrag.db import migrations

    db = tmp_path / "cli.sqlite3"
    env = {**os.environ, "FINRAG_DATABASE_URL": f"sqlite:///{db}"}
    ini = str(Path(migrations.__file__).parent / "alembic.ini")
    subprocess.run(
        [sys.executable, "-m", "alembic", "-c", ini, "upgrade", "head"], env=env, check=True, capture_output=True
    )
    out = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", ini, "current"], env=env, check=True, capture_output=True, text=True
    )
    assert migrations.head() in out.stdout
