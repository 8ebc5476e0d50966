"""updater state and leases (finrag.updater.state)

Revision ID: 0002_updater
Revises: 0001_documents
Create Date: 2026-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002_updater"
down_revision: str | None = "0001_documents"
branch_labels: str | None = None
depends_on: str | None = None
CREATES: tuple[str, ...] = ("finrag_source_objects", "finrag_leases")


def upgrade() -> None:
    op.create_table(
        "finrag_source_objects",
        sa.Column("source", sa.String(length=512), nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("etag", sa.String(length=128), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("doc_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("source", "key"),
    )
    op.create_table(
        "finrag_leases",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("finrag_leases")
    op.drop_table("finrag_source_objects")
