"""scheduler jobs: calendar jobs (the weekly digest) record their last run, so a new leader runs a missed one
once; APScheduler's own table goes (it held per-post wake-ups and pickled digest jobs; jobs now live in memory)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cron_runs",
        sa.Column("job_id", sa.String(100), primary_key=True),
        sa.Column("schedule", sa.String(200), nullable=False),
        sa.Column("last_fire", sa.DateTime(timezone=True), nullable=False),
    )
    # Created by APScheduler itself (not by a migration), so it may or may not be there.
    op.execute("DROP TABLE IF EXISTS apscheduler_jobs")


def downgrade() -> None:
    op.drop_table("cron_runs")
