"""API gateway, job and online-evaluation tables (finrag.db.models: serve_*, finrag_jobs, online_eval*)

Before this revision these tables were only made by create_all() at start-up, so a Postgres upgraded
with `finrag migrate` lacked them. A table that create_all() already made is kept as it is (a database
that ran the service before adopting migrations). The API's old `serve_jobs` table (upload jobs, now
run through the job queue, whose embedded journal is `finrag_jobs`) is left as it is: nothing reads it.

Revision ID: 0003_service_tables
Revises: 0002_updater
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_service_tables"
down_revision: str | None = "0002_updater"
branch_labels: str | None = None
depends_on: str | None = None
CREATES: tuple[str, ...] = (
    "serve_api_keys",
    "finrag_jobs",
    "serve_index_versions",
    "serve_answers",
    "serve_feedback",
    "serve_tenant_spend",
    "online_eval",
    "online_eval_judge",
)


def _missing(name: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if _missing("serve_api_keys"):
        op.create_table(
            "serve_api_keys",
            sa.Column("key_id", sa.String(length=32), nullable=False),
            sa.Column("tenant", sa.String(length=64), nullable=False),
            sa.Column("name", sa.String(length=128), nullable=False),
            sa.Column("key_hash", sa.String(length=64), nullable=False),
            sa.Column("prefix", sa.String(length=16), nullable=False),
            sa.Column("scopes", sa.String(length=64), nullable=False),
            sa.Column("created_at", sa.String(length=40), nullable=False),
            sa.Column("revoked_at", sa.String(length=40), nullable=True),
            sa.PrimaryKeyConstraint("key_id"),
        )
        op.create_index("ix_serve_api_keys_tenant", "serve_api_keys", ["tenant"])
        op.create_index("ix_serve_api_keys_key_hash", "serve_api_keys", ["key_hash"], unique=True)
    if _missing("finrag_jobs"):
        op.create_table(
            "finrag_jobs",
            sa.Column("id", sa.String(length=64), nullable=False),
            sa.Column("kind", sa.String(length=32), nullable=False),
            sa.Column("tenant", sa.String(length=64), nullable=False),
            sa.Column("payload", sa.JSON(), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("max_attempts", sa.Integer(), nullable=False),
            sa.Column("error", sa.Text(), nullable=False),
            sa.Column("result", sa.JSON(), nullable=False),
            sa.Column("created_at", sa.String(length=40), nullable=False),
            sa.Column("updated_at", sa.String(length=40), nullable=False),
            sa.Column("started_at", sa.String(length=40), nullable=True),
            sa.Column("finished_at", sa.String(length=40), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_finrag_jobs_tenant", "finrag_jobs", ["tenant"])
        op.create_index("ix_finrag_jobs_status", "finrag_jobs", ["status"])
        op.create_index("ix_finrag_jobs_created_at", "finrag_jobs", ["created_at"])
    if _missing("serve_index_versions"):
        op.create_table(
            "serve_index_versions",
            sa.Column("tenant", sa.String(length=64), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("tenant"),
        )
    if _missing("serve_answers"):
        op.create_table(
            "serve_answers",
            sa.Column("answer_id", sa.String(length=40), nullable=False),
            sa.Column("tenant", sa.String(length=64), nullable=False),
            sa.Column("created_at", sa.String(length=40), nullable=False),
            sa.Column("request_id", sa.String(length=128), nullable=False),
            sa.Column("key_id", sa.String(length=32), nullable=False),
            sa.Column("question", sa.Text(), nullable=False),
            sa.Column("mode", sa.String(length=16), nullable=False),
            sa.Column("pipeline", sa.String(length=32), nullable=False),
            sa.Column("cached", sa.Boolean(), nullable=False),
            sa.Column("cost_usd", sa.Float(), nullable=False),
            sa.Column("charged_usd", sa.Float(), nullable=False),
            sa.Column("answer", sa.JSON(), nullable=False),
            sa.Column("trace", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("answer_id"),
        )
        op.create_index("ix_serve_answers_tenant", "serve_answers", ["tenant"])
        op.create_index("ix_serve_answers_created_at", "serve_answers", ["created_at"])
    if _missing("serve_feedback"):
        op.create_table(
            "serve_feedback",
            sa.Column("answer_id", sa.String(length=40), nullable=False),
            sa.Column("tenant", sa.String(length=64), nullable=False),
            sa.Column("rating", sa.String(length=8), nullable=False),
            sa.Column("comment", sa.Text(), nullable=False),
            sa.Column("key_id", sa.String(length=32), nullable=False),
            sa.Column("created_at", sa.String(length=40), nullable=False),
            sa.Column("updated_at", sa.String(length=40), nullable=False),
            sa.PrimaryKeyConstraint("answer_id"),
        )
        op.create_index("ix_serve_feedback_tenant", "serve_feedback", ["tenant"])
    if _missing("serve_tenant_spend"):
        op.create_table(
            "serve_tenant_spend",
            sa.Column("tenant", sa.String(length=64), nullable=False),
            sa.Column("month", sa.String(length=7), nullable=False),
            sa.Column("usd", sa.Float(), nullable=False),
            sa.Column("answers", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("tenant", "month"),
        )
    if _missing("online_eval"):
        op.create_table(
            "online_eval",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("created_at", sa.String(length=32), nullable=False),
            sa.Column("tenant", sa.String(length=128), nullable=False),
            sa.Column("question", sa.Text(), nullable=False),
            sa.Column("pipeline", sa.String(length=32), nullable=False),
            sa.Column("answered_by", sa.String(length=128), nullable=False),
            sa.Column("faithfulness", sa.Float(), nullable=False),
            sa.Column("numeric_support", sa.Float(), nullable=False),
            sa.Column("relevance", sa.Float(), nullable=False),
            sa.Column("citations", sa.Integer(), nullable=False),
            sa.Column("unsupported_figures", sa.Text(), nullable=False),
            sa.Column("inline_faithfulness", sa.Float(), nullable=True),
            sa.Column("cost_usd", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_online_eval_created_at", "online_eval", ["created_at"])
        op.create_index("ix_online_eval_tenant", "online_eval", ["tenant"])
    if _missing("online_eval_judge"):
        op.create_table(
            "online_eval_judge",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("eval_id", sa.Integer(), nullable=False),
            sa.Column("judge", sa.String(length=160), nullable=False),
            sa.Column("score", sa.Float(), nullable=False),
            sa.Column("heuristic", sa.Float(), nullable=False),
            sa.Column("claims", sa.Text(), nullable=False),
            sa.Column("cost_usd", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_online_eval_judge_eval_id", "online_eval_judge", ["eval_id"])


def downgrade() -> None:
    for table in reversed(CREATES):
        op.drop_table(table)  # its indexes go with it
