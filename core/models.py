"""SQLAlchemy tables: briefs, posts (one per variant) and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class BriefRow(Base):
    __tablename__ = "briefs"

    thread_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    parsed: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PostRow(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("briefs.thread_id"), index=True)
    network: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    checks: Mapped[list] = mapped_column(JSON, default=list)
    citations: Mapped[list] = mapped_column(JSON, default=list)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    rationale: Mapped[str] = mapped_column(Text, default="")
    media_idea: Mapped[str] = mapped_column(Text, default="")  # the picture or video the writer suggests
    run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    time_reason: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    approved_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    external_ref: Mapped[str | None] = mapped_column(Text, nullable=True)  # the network's id for the post
    external_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    channel: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the configured channel it went to
    publish_key: Mapped[str | None] = mapped_column(String(64), nullable=True)  # chosen before the first send
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # sends the network certainly refused
    last_actor: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_reason: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[list] = mapped_column(JSON, default=list)  # Media dicts (core.domain.Media)
    link_card: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # a LinkCard dict
    waiting: Mapped[str] = mapped_column(Text, default="")  # the network asked this post to wait, and why
    sources: Mapped[list] = mapped_column(JSON, default=list)  # fresh sources cited on its card (core.sources)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditRow(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), nullable=True, index=True)
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class UploadRow(Base):
    """An image already uploaded to a network for one post: a resend reuses it instead of uploading again."""

    __tablename__ = "media_uploads"

    publish_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(100), primary_key=True)
    remote: Mapped[dict] = mapped_column(JSON, default=dict)  # the network's id or blob reference
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TokenRow(Base):
    """A channel's OAuth tokens, encrypted with PLUME_SECRET_KEY (publishing.tokens)."""

    __tablename__ = "channel_tokens"

    channel: Mapped[str] = mapped_column(String(100), primary_key=True)
    network: Mapped[str] = mapped_column(String(20))
    access: Mapped[str] = mapped_column(Text)  # Fernet token of the access token
    refresh: Mapped[str | None] = mapped_column(Text, nullable=True)  # Fernet token of the refresh token
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    extra: Mapped[dict] = mapped_column(JSON, default=dict)  # client id, token URL, scopes: no secrets
    generation: Mapped[int] = mapped_column(Integer, default=1)  # +1 on every refresh
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SourceRow(Base):
    """A page or news item read for a brief (knowledge.sources), or the reason it could not be read."""

    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("thread_id", "url", name="uq_sources_thread_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("briefs.thread_id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(10))  # "html" | "pdf" | "news"
    title: Mapped[str] = mapped_column(Text, default="")
    site_name: Mapped[str] = mapped_column(Text, default="")
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the page's own date, ISO
    text: Mapped[str] = mapped_column(Text, default="")
    text_hash: Mapped[str] = mapped_column(String(64), default="")
    error: Mapped[str] = mapped_column(Text, default="")  # why it was not read ("" when it was)
    feed_url: Mapped[str] = mapped_column(Text, default="")  # the feed a news item came from


# --- Slack
# What a chat front end must remember across restarts: deliveries already handled, where each
# card and thread lives, the workspace's approval rules and pause, approval votes, user groups.

class DeliveryRow(Base):
    """A delivery (event id, message, click) already handled: redeliveries and double clicks stop here."""

    __tablename__ = "processed_deliveries"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class ConversationRow(Base):
    """Where a brief's thread lives in Slack (the graph thread id is derived from these parts)."""

    __tablename__ = "conversations"

    thread_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    team: Mapped[str] = mapped_column(String(50))
    channel: Mapped[str] = mapped_column(String(50))
    thread_ts: Mapped[str] = mapped_column(String(50))
    progress_ts: Mapped[str | None] = mapped_column(String(50), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CardRow(Base):
    """One posted card: a version of a post, the text it showed, and the state it last rendered."""

    __tablename__ = "cards"
    __table_args__ = (UniqueConstraint("post_id", "version", "channel", name="uq_cards_post_version_channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(50))
    ts: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text)
    shown: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WorkspaceRow(Base):
    """Workspace-wide rules (own-brief approval, approvals needed) and the publishing pause."""

    __tablename__ = "workspace_options"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    forbid_self_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    required_approvals: Mapped[int] = mapped_column(Integer, default=1)
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    held_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    held_reason: Mapped[str] = mapped_column(Text, default="")
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CronRunRow(Base):
    """A calendar job the scheduler leader runs (the weekly digest…): the latest due time already run."""

    __tablename__ = "cron_runs"

    job_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    schedule: Mapped[str] = mapped_column(String(200))  # as registered; a new one owes no earlier run
    last_fire: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # runs due up to here: done or not owed


class VoteRow(Base):
    """One approver's approval of one version, when the workspace requires more than one."""

    __tablename__ = "approval_votes"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(100), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GroupRow(Base):
    """Members of an approver user group, as last resolved through the chat API."""

    __tablename__ = "approver_groups"

    group_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    members: Mapped[list] = mapped_column(JSON, default=list)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- learning from feedback


class FeedbackRow(Base):
    """What a human said or changed about a draft: the raw material for proposed brand rules."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    network: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(20))  # "reason" | "edit"
    reason: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")


class RuleRow(Base):
    """A brand rule Plume proposes (core.rules); it applies only once a human accepts it."""

    __tablename__ = "brand_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)  # one proposal per rule, ever
    kind: Mapped[str] = mapped_column(String(20))  # the brand.yaml key it sets: "banned", "hashtags"…
    rule: Mapped[dict] = mapped_column(JSON, default=dict)  # a brand.yaml fragment
    evidence: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20), default="feedback")  # "feedback" | "guidelines"
    locale: Mapped[str] = mapped_column(String(10), default="")
    found_in: Mapped[list] = mapped_column(JSON, default=list)  # [{source, heading, quote}]
    status: Mapped[str] = mapped_column(String(20), default="proposed")  # proposed | accepted | dismissed
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RuleSourceRow(Base):
    """A guideline file `plume ingest` read for rules, and the version it read."""

    __tablename__ = "rule_sources"

    source: Mapped[str] = mapped_column(String(500), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))


# --- what the networks say back


class MetricRow(Base):
    """Engagement of one post on a network, imported from the network's export (`plume import-metrics`)."""

    __tablename__ = "post_metrics"
    __table_args__ = (UniqueConstraint("network", "external_id", name="uq_post_metrics_network_external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    network: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(100), default="")
    external_id: Mapped[str] = mapped_column(String(200))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), nullable=True, index=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    impressions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    engagements: Mapped[int | None] = mapped_column(Integer, nullable=True)
    likes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comments: Mapped[int | None] = mapped_column(Integer, nullable=True)
    shares: Mapped[int | None] = mapped_column(Integer, nullable=True)
    clicks: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(50))  # the export format it came from
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CommentRow(Base):
    """A comment or reply on a published post, imported from CSV, with its sentiment score."""

    __tablename__ = "post_comments"
    __table_args__ = (UniqueConstraint("network", "comment_id", name="uq_post_comments_network_comment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    network: Mapped[str] = mapped_column(String(20))
    external_post_id: Mapped[str] = mapped_column(String(200))
    comment_id: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    language: Mapped[str] = mapped_column(String(10), default="")
    sentiment: Mapped[float | None] = mapped_column(Float, nullable=True)  # -1 (negative) … 1 (positive)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
