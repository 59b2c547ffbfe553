"""media and tokens: images and link cards on posts, a network's wait note, uploaded media ids, channel tokens

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("media", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("link_card", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("waiting", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "media_uploads",
        sa.Column("publish_key", sa.String(64), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(100), primary_key=True),
        sa.Column("remote", sa.JSON(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "channel_tokens",
        sa.Column("channel", sa.String(100), primary_key=True),
        sa.Column("network", sa.String(20), nullable=False),
        sa.Column("access", sa.Text(), nullable=False),
        sa.Column("refresh", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refresh_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("channel_tokens")
    op.drop_table("media_uploads")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("waiting")
        batch.drop_column("link_card")
        batch.drop_column("media")
