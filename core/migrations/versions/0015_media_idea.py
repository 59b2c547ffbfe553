"""media idea: the picture or video a draft's writer suggests, kept with the post and shown on its card

Revision ID: 0015
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("media_idea", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("media_idea")
