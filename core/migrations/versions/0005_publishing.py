"""publishing for real: idempotency key, network URL and attempts per post; imported metrics and comments

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("channel", sa.String(100), nullable=True))
        batch.add_column(sa.Column("publish_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("external_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "post_metrics",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("network", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False, server_default=""),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("posts.id"), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("posted_at", TS, nullable=False),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
        sa.Column("impressions", sa.Integer(), nullable=True),
        sa.Column("engagements", sa.Integer(), nullable=True),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.Column("comments", sa.Integer(), nullable=True),
        sa.Column("shares", sa.Integer(), nullable=True),
        sa.Column("clicks", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("imported_at", TS, nullable=False),
        sa.UniqueConstraint("network", "external_id", name="uq_post_metrics_network_external_id"),
    )
    op.create_index("ix_post_metrics_posted_at", "post_metrics", ["posted_at"])
    op.create_index("ix_post_metrics_post_id", "post_metrics", ["post_id"])
    op.create_table(
        "post_comments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("network", sa.String(20), nullable=False),
        sa.Column("external_post_id", sa.String(200), nullable=False),
        sa.Column("comment_id", sa.String(200), nullable=False),
        sa.Column("author", sa.String(200), nullable=False, server_default=""),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", TS, nullable=True),
        sa.Column("language", sa.String(10), nullable=False, server_default=""),
        sa.Column("sentiment", sa.Float(), nullable=True),
        sa.Column("imported_at", TS, nullable=False),
        sa.UniqueConstraint("network", "comment_id", name="uq_post_comments_network_comment_id"),
    )
    op.create_index("ix_post_comments_external_post_id", "post_comments", ["network", "external_post_id"])


def downgrade() -> None:
    op.drop_table("post_comments")
    op.drop_table("post_metrics")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("attempts")
        batch.drop_column("external_url")
        batch.drop_column("publish_key")
        batch.drop_column("channel")
