"""due posts: an index in claim order, so the scheduler finds the next due posts without sorting them all;
the workspace row always exists, so the publishing gate (a row lock on it) holds from the first claim

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # claim_due and next_due: WHERE status = 'scheduled' AND run_at <= now ORDER BY run_at, id LIMIT n.
    op.create_index("ix_posts_status_run_at", "posts", ["status", "run_at", "id"])
    op.execute("INSERT INTO workspace_options (id, forbid_self_approval, required_approvals, held, held_reason) "
               "SELECT 'default', false, 1, false, '' WHERE NOT EXISTS "
               "(SELECT 1 FROM workspace_options WHERE id = 'default')")
    # Before this revision a team-wide pause moved scheduled posts to `held` (and only the pause did);
    # now they stay scheduled behind the workspace's gate, which still holds them if the pause is on.
    op.execute("UPDATE posts SET status = 'scheduled' WHERE status = 'held'")


def downgrade() -> None:
    op.drop_index("ix_posts_status_run_at", table_name="posts")
