"""briefs, posts and the audit log

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "briefs",
        sa.Column("thread_id", sa.String(200), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("parsed", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(100), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("thread_id", sa.String(200), sa.ForeignKey("briefs.thread_id"), nullable=False),
        sa.Column("network", sa.String(20), nullable=False),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("run_at", TS, nullable=True),
        sa.Column("time_reason", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.String(100), nullable=True),
        sa.Column("approved_at", TS, nullable=True),
        sa.Column("approved_hash", sa.String(64), nullable=True),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("external_ref", sa.Text(), nullable=True),
        sa.Column("last_actor", sa.String(100), nullable=True),
        sa.Column("last_reason", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_posts_thread_id", "posts", ["thread_id"])
    op.create_index("ix_posts_status", "posts", ["status"])
    op.create_index("ix_posts_run_at", "posts", ["run_at"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("posts.id"), nullable=True),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_post_id", "audit_events", ["post_id"])


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("posts")
    op.drop_table("briefs")
