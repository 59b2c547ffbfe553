"""reports: indexes that let a report read only the period it covers (bench/report.py: 100k posts, 1M metrics)

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = {
    # Covering: engagement by period is summed from the index alone, never from the metric rows.
    "ix_post_metrics_report": ("post_metrics", ["posted_at", "network", "impressions", "engagements", "likes",
                                                "comments", "shares", "clicks", "source"]),
    # Covering, in GROUP BY order: negative shares per post without sorting or reading comment text.
    "ix_post_comments_report": ("post_comments", ["network", "external_post_id", "at", "imported_at", "sentiment"]),
    # Decisions in a period by kind, and "was this post ever sent back?" answered from the index.
    "ix_audit_events_report": ("audit_events", ["action", "at", "post_id"]),
    "ix_audit_events_post_status": ("audit_events", ["post_id", "to_status"]),
    "ix_posts_created_at": ("posts", ["created_at"]),
    "ix_posts_approved_at": ("posts", ["approved_at"]),
    "ix_posts_published_at": ("posts", ["published_at"]),
}


# SQLite has no time zones: a report groups metrics by their stored UTC hour (insights.reports._local_hours),
# and this expression index hands them over already in that order.
SQLITE_HOURS = ("CREATE INDEX ix_post_metrics_hours ON post_metrics (substr(posted_at, 1, 13), posted_at, network, "
                "impressions, engagements, likes, comments, shares, clicks, source)")


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_HOURS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_post_metrics_hours")
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
