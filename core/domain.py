"""Plain domain types shared by every layer (dataclasses that round-trip through dicts)."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

NETWORKS = ("x", "bluesky", "mastodon", "linkedin", "threads", "instagram", "facebook")
LOCALES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
           "pt": "Portuguese", "nl": "Dutch"}
OFFLINE_LABEL = "offline template draft — configure a model for AI drafting"
NEEDS_MODEL_WARNING = "translation needs a model: showing the source text"
MAX_BRIEF_CHARS = 4000


class Status(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    HELD = "held"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    FAILED = "failed"
    UNKNOWN = "unknown"


class Action(StrEnum):
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    EDIT = "edit"
    REJECT = "reject"


def digest(text: str, media: list[dict] | None = None) -> str:
    """The approved-hash: what was approved is exactly what gets published, images and alt text included.

    A post without images hashes its text alone, so hashes stored before images existed still match.
    """
    signed = text
    if media:
        signed += "".join(f"\x00{m['sha256']}\x00{m.get('alt', '')}" for m in media)
    return hashlib.sha256(signed.encode("utf-8")).hexdigest()


class Record:
    """Round-trips a dataclass through plain dicts (graph state and JSON columns hold dicts)."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Brief(Record):
    text: str
    goal: str = ""
    key_message: str = ""
    networks: list[str] = field(default_factory=list)
    locales: list[str] = field(default_factory=list)
    timezone: str = "UTC"
    not_before: str | None = None  # ISO datetime: earliest wanted publication
    links: list[str] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Passage(Record):
    id: str
    source: str
    heading: str
    text: str
    locale: str = ""
    score: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.source} › {self.heading}" if self.heading else self.source


@dataclass
class Check(Record):
    name: str
    ok: bool
    message: str
    severity: str = "error"  # "error" blocks nothing but is flagged; "warning" is advice


@dataclass
class Media(Record):
    """One image attached to a post, kept by content under PLUME_HOME/media (core.media)."""

    sha256: str
    filename: str
    mime: str
    size: int  # bytes
    width: int
    height: int
    alt: str = ""  # required before approval: what the image shows, for people who cannot see it


@dataclass
class LinkCard(Record):
    """What a link preview shows, read from the page's OpenGraph tags when drafting."""

    url: str
    title: str = ""
    description: str = ""
    image: dict | None = None  # a Media dict (the thumbnail, stored like any image), or None
    note: str = ""  # why there is no card or no thumbnail (offline, refused, too large…)


@dataclass
class Variant(Record):
    network: str
    locale: str
    text: str
    rationale: str = ""
    media_idea: str = ""
    citations: list[str] = field(default_factory=list)  # passage ids
    checks: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    offline: bool = False
    proposed_at: str | None = None  # ISO datetime with offset
    time_reason: str = ""
    post_id: int | None = None
    version: int = 1
    media: list[dict] = field(default_factory=list)  # Media dicts, each with this locale's alt text
    link_card: dict | None = None  # a LinkCard dict for the first link, when one was fetched


@dataclass
class Decision(Record):
    post_id: int
    action: str
    actor: str
    version: int | None = None  # the version the human saw; stale approvals are refused
    reason: str = ""
    text: str | None = None  # for edits
    run_at: str | None = None  # for edits that move the time


@dataclass
class Post(Record):
    """A variant as stored: what the queue, the cards and the publisher read."""

    id: int
    thread_id: str
    network: str
    locale: str
    text: str
    status: str
    version: int
    run_at: str | None = None
    time_reason: str = ""
    offline: bool = False
    checks: list[dict] = field(default_factory=list)
    citations: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rationale: str = ""
    media_idea: str = ""  # the picture or video the writer suggests (shown until an image is attached)
    approved_by: str | None = None
    approved_at: str | None = None
    approved_hash: str | None = None
    published_at: str | None = None
    external_ref: str | None = None
    external_url: str | None = None
    channel: str | None = None
    publish_key: str | None = None
    attempts: int = 0
    last_actor: str | None = None
    last_reason: str = ""
    media: list[dict] = field(default_factory=list)  # Media dicts; each localized post has its own alt text
    link_card: dict | None = None  # a LinkCard dict
    waiting: str = ""  # why the network made this post wait until run_at (a daily cap…); shown in the queue
    sources: list[dict] = field(default_factory=list)  # fresh sources it was drafted from (core.sources.cited)


@dataclass
class AuditEvent(Record):
    at: str
    actor: str
    action: str
    post_id: int | None
    from_status: str | None
    to_status: str | None
    detail: dict = field(default_factory=dict)
