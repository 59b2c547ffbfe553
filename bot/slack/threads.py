"""A brief's Slack thread as Plume keeps it: the progress message, one card per draft version kept in step
with the database, news of publishing, and private answers to the person who clicked."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict

from agents.runner import Event, Outcome
from bot.slack import blocks
from bot.slack.api import SlackAPI
from bot.slack.work import Busy, WorkPool
from core.domain import AuditEvent, Post, Status
from core.errors import PlumeError
from service import Service

log = logging.getLogger(__name__)


class Progress:
    """The one message in the thread that follows the graph as it moves."""

    def __init__(self, threads: Threads, *, thread_id: str, channel: str, thread_ts: str):
        self.threads, self.thread_id, self.channel, self.thread_ts = threads, thread_id, channel, thread_ts
        self.steps: list[str] = []
        self.ts = threads.api.post(channel, blocks.progress([]), thread_ts=thread_ts)
        if self.ts:
            threads.service.threads.set_progress(thread_id, self.ts)

    def show(self, payload: dict) -> None:
        if self.ts:
            self.threads.api.update(self.channel, self.ts, payload)
        else:  # the first post failed (logged): try once more to say something
            self.ts = self.threads.api.post(self.channel, payload, thread_ts=self.thread_ts)

    def on_event(self, event: Event) -> None:
        if event.kind == "progress" and event.message not in self.steps:
            self.steps.append(event.message)
            self.show(blocks.progress(self.steps))

    def finish(self, outcome: Outcome) -> None:
        notes = [*outcome.brief.get("warnings", []), *outcome.notes]
        self.show(blocks.progress(self.steps, done=True, notes=notes, count=len(outcome.waiting)))

    def fail(self, error: str, *, retry: str | None = None) -> None:
        self.show(blocks.progress(self.steps, error=error, retry_value=retry))


class Threads:
    """Makes Slack show what the database says. Used after a request's ack, and by any process that hears
    publishing news (the scheduler's leader), with a client made from the settings."""

    def __init__(self, *, api: SlackAPI, service: Service, zone: str, pool: WorkPool | None = None):
        self.api = api
        self.service = service
        self.zone = zone
        self.pool = pool  # where publishing news is told, off the scheduler's thread
        self._card_locks: dict[int, threading.Lock] = defaultdict(threading.Lock)

    def progress(self, *, thread_id: str, channel: str, thread_ts: str) -> Progress:
        return Progress(self, thread_id=thread_id, channel=channel, thread_ts=thread_ts)

    def tell(self, user: str, channel: str | None, thread_ts: str | None, text: str) -> None:
        """Only this person sees it: ephemeral in the channel, else a DM (clicks in the App Home)."""
        if channel:
            self.api.ephemeral(channel, user, text, thread_ts=thread_ts)
        else:
            self.api.post(user, blocks.notice(text))

    def say(self, channel: str | None, thread_ts: str | None, payload: dict, *, user: str | None = None) -> None:
        """In the thread for everyone; in the person's DM when the click came from the App Home."""
        target = channel or user
        if target:
            self.api.post(target, payload, thread_ts=thread_ts if channel else None)

    def say_in_thread(self, thread_id: str, payload: dict, *, user: str) -> None:
        """In the brief's thread, or the person's DM when the brief has none (it came from the shell)."""
        conversation = self.service.threads.get(thread_id)
        if conversation is not None:
            self.api.post(conversation.channel, payload, thread_ts=conversation.thread_ts)
        else:
            self.api.post(user, payload)

    # --- cards ---------------------------------------------------------------------------------

    def sync_thread(self, thread_id: str) -> None:
        for post in self.service.posts.for_thread(thread_id):
            self.sync_post(post.id)

    def sync_post(self, post_id: int) -> None:
        """Post the card of a new version, update stale ones (each change is shown once)."""
        with self._card_locks[post_id]:
            try:
                view = self.service.threads.view(post_id)
            except PlumeError:
                return
            if view is None:
                return  # a brief from the shell or the demo
            post, conversation, threads = view.post, view.conversation, self.service.threads
            current = f"{post.status}:{len(view.votes)}"
            if (post.status == Status.AWAITING_APPROVAL
                    and not any(c.version == post.version and c.channel == conversation.channel for c in view.cards)
                    and self.service.deliveries.claim(f"card:{post.id}:{post.version}:{conversation.channel}")):
                payload = blocks.card(post, zone=self.zone, votes=view.votes, needed=view.needed)
                ts = self.api.post(conversation.channel, payload, thread_ts=conversation.thread_ts)
                if ts:
                    threads.save_card(post=post, channel=conversation.channel, ts=ts, shown=current)
                else:
                    log.warning("card for post %s v%s could not be posted; it stays in /plume pending and App Home",
                                post.id, post.version)
            for card in view.cards:
                if card.version == post.version:
                    if card.shown == current:
                        continue
                    payload, shown = blocks.card(post, zone=self.zone, votes=view.votes, needed=view.needed), current
                else:
                    if card.shown == "superseded":
                        continue
                    payload = blocks.card(post, zone=self.zone, text=card.text,
                                          superseded=superseded(view.trail, card.version, post.version))
                    shown = "superseded"
                if self.api.update(card.channel, card.ts, payload):
                    threads.mark_shown(post_id=post.id, version=card.version, channel=card.channel, shown=shown)

    # --- publishing news -------------------------------------------------------------------------

    def on_post_update(self, post: Post) -> None:
        """Scheduler news (published, failed, unknown, held): update the card and tell the thread."""
        try:
            (self.pool.submit if self.pool else (lambda fn, *a: fn(*a)))(self.announce, post)
        except Busy:
            log.warning("could not queue the announcement for post %s", post.id)

    def announce(self, post: Post, text: str | None = None) -> None:
        """Tell the post's thread: `text`, or the post's publishing news with the buttons it needs."""
        self.sync_post(post.id)
        conversation = self.service.threads.get(post.thread_id)
        if conversation is None:
            return
        payload = blocks.notice(text) if text is not None else blocks.post_news(post, zone=self.zone)
        self.api.post(conversation.channel, payload, thread_ts=conversation.thread_ts)

    def close(self, timeout: float = 30.0) -> None:
        if self.pool is not None:
            self.pool.shutdown(timeout)


def superseded(trail: list[AuditEvent], version: int, latest: int) -> blocks.Superseded:
    """Who took `version` out of review, and how (edited, or changes requested), from the audit trail."""
    for event in trail:
        if event.from_status != Status.AWAITING_APPROVAL or event.to_status != Status.CHANGES_REQUESTED:
            continue
        edited = event.action == "post.edited"
        seen = event.detail.get("version", 0) - (1 if edited else 0)
        if seen == version:
            return blocks.Superseded(actor=event.actor, reason=event.detail.get("reason", ""), edited=edited,
                                     next_version=version + 1)
    return blocks.Superseded(actor=None, reason="", edited=False, next_version=latest)
