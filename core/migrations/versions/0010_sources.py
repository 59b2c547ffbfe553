"""sources: pages and news items read for a brief (or why not), and the sources each post's card cites

Revision ID: 0010
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("thread_id", sa.String(200), sa.ForeignKey("briefs.thread_id"), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False, server_default=""),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("title", sa.Text(), nullable=False, server_default=""),
        sa.Column("site_name", sa.Text(), nullable=False, server_default=""),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.String(40), nullable=True),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
        sa.Column("text_hash", sa.String(64), nullable=False, server_default=""),
        sa.Column("error", sa.Text(), nullable=False, server_default=""),
        sa.Column("feed_url", sa.Text(), nullable=False, server_default=""),
        sa.UniqueConstraint("thread_id", "url", name="uq_sources_thread_url"),
    )
    op.create_index("ix_sources_thread_id", "sources", ["thread_id"])
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("sources", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("sources")
    op.drop_index("ix_sources_thread_id", table_name="sources")
    op.drop_table("sources")
