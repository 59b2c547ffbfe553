"""Slack front end: processed deliveries, conversations, cards, workspace rules, votes, groups

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "processed_deliveries",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_processed_deliveries_at", "processed_deliveries", ["at"])
    op.create_table(
        "conversations",
        sa.Column("thread_id", sa.String(200), primary_key=True),
        sa.Column("team", sa.String(50), nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("thread_ts", sa.String(50), nullable=False),
        sa.Column("progress_ts", sa.String(50), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "cards",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("posts.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("ts", sa.String(50), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("shown", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("post_id", "version", "channel", name="uq_cards_post_version_channel"),
    )
    op.create_index("ix_cards_post_id", "cards", ["post_id"])
    op.create_table(
        "workspace_options",
        sa.Column("id", sa.String(50), primary_key=True),
        sa.Column("forbid_self_approval", sa.Boolean(), nullable=False),
        sa.Column("required_approvals", sa.Integer(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("held_by", sa.String(100), nullable=True),
        sa.Column("held_reason", sa.Text(), nullable=False),
        sa.Column("held_at", TS, nullable=True),
    )
    op.create_table(
        "approval_votes",
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("posts.id"), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("actor", sa.String(100), primary_key=True),
        sa.Column("at", TS, nullable=False),
    )
    op.create_table(
        "approver_groups",
        sa.Column("group_id", sa.String(50), primary_key=True),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("fetched_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("approver_groups")
    op.drop_table("approval_votes")
    op.drop_table("workspace_options")
    op.drop_table("cards")
    op.drop_table("conversations")
    op.drop_table("processed_deliveries")
