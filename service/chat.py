"""What a chat front end remembers across restarts and instances: deliveries handled once, threads and cards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core import approvals, audit, chat, posts
from core.db import Database
from core.domain import AuditEvent, Post
from core.errors import FollowUpFailed, InvalidTransition

DELIVERY_MEMORY = timedelta(days=3)  # Slack retries for minutes, not days
SETTLED = (InvalidTransition, FollowUpFailed)  # the work happened, or there is none left to do: keep the claim


class Deliveries:
    """Each delivery (an event, a click, a form) is handled once, across restarts and instances."""

    def __init__(self, db: Database):
        self.db = db

    def claim(self, key: str) -> bool:
        """True the first time `key` is seen, False afterwards."""
        with self.db.session() as session:
            return chat.claim(session, key=key)

    def release(self, key: str) -> None:
        with self.db.session() as session:
            chat.release(session, key=key)

    @contextmanager
    def once(self, key: str | None) -> Iterator[bool]:
        """`with deliveries.once(key) as first:` — False for a repeat. If the work fails (a database error,
        a refusal, a bug) the claim is given back, so the same click works once the cause is gone."""
        if key is None:
            yield True
            return
        if not self.claim(key):
            yield False
            return
        try:
            yield True
        except SETTLED:
            raise
        except BaseException:
            self.release(key)
            raise

    def forget_old(self) -> int:
        with self.db.session() as session:
            return chat.forget_deliveries(session, before=datetime.now(UTC) - DELIVERY_MEMORY)


class Threads:
    """The chat threads briefs live in, and the cards shown there (so a front end updates, never re-posts)."""

    def __init__(self, db: Database):
        self.db = db

    def save(self, *, thread_id: str, team: str, channel: str, thread_ts: str) -> chat.Conversation:
        with self.db.session() as session:
            return chat.save_conversation(session, thread_id=thread_id, team=team, channel=channel,
                                          thread_ts=thread_ts)

    def get(self, thread_id: str) -> chat.Conversation | None:
        with self.db.session() as session:
            return chat.conversation(session, thread_id)

    def set_progress(self, thread_id: str, ts: str) -> None:
        with self.db.session() as session:
            chat.set_progress(session, thread_id=thread_id, ts=ts)

    def view(self, post_id: int) -> CardView | None:
        """What a post's cards must show now, or None when its brief has no chat thread."""
        with self.db.session() as session:
            post = posts.get(session, post_id)
            conversation = chat.conversation(session, post.thread_id)
            if conversation is None:
                return None
            cards = chat.cards(session, post.id)
            votes = approvals.votes(session, post_id=post.id, version=post.version)
            needed = approvals.rules(session).required_approvals
            trail = audit.trail(session, post.id) if any(c.version != post.version for c in cards) else []
        return CardView(post, conversation, cards, votes, needed, trail)

    def save_card(self, *, post: Post, channel: str, ts: str, shown: str) -> None:
        with self.db.session() as session:
            chat.save_card(session, post_id=post.id, version=post.version, channel=channel, ts=ts, text=post.text,
                           shown=shown)

    def mark_shown(self, *, post_id: int, version: int, channel: str, shown: str) -> None:
        with self.db.session() as session:
            chat.mark_shown(session, post_id=post_id, version=version, channel=channel, shown=shown)


@dataclass
class CardView:
    post: Post
    conversation: chat.Conversation
    cards: list[chat.Card]
    votes: list[str]
    needed: int
    trail: list[AuditEvent]  # the post's audit events, when an older card must say who superseded it
