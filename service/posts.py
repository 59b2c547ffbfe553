"""Posts after approval: retry, settle, reschedule, cancel, hold and resume; the queue; times in words."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from core import pause, posts
from core.db import Database
from core.domain import Post, Status, digest
from core.errors import InvalidTransition, NotFound, ValidationFailed
from core.when import When, parse_when, unreadable, validate_when
from insights import metrics
from insights.metrics import History
from publishing import timing
from service.people import People

RETRYABLE = (Status.FAILED, Status.HELD)  # held: overdue at start-up, or paused; an approver releases it
ATTENTION = (Status.FAILED, Status.UNKNOWN)


class Unreadable(ValidationFailed):
    """The words hold no time Plume can read (as opposed to a time that is refused)."""


@dataclass(frozen=True)
class Queue:
    """What `queue` shows: upcoming posts by time, posts a human must look at, and the pause."""

    upcoming: list[Post]
    attention: list[Post]
    waiting: int
    pause: pause.Pause = field(default_factory=pause.Pause)


def read_when(text: str, *, now: datetime, zone: str, held: bool = False, network: str | None = None,
              history: Callable[[str], History | None] | None = None) -> When:
    """“next Tuesday 9am Paris”, “tomorrow morning” → a When; Unreadable, or ValidationFailed if past or on hold.

    A day without an hour (“next Tuesday”) gets that day's best slot for `network` — from the engagement
    `history(zone)` gives, as proposals do, else the published studies — else 09:00.
    """
    parsed = parse_when(text, now=now, timezone=zone)
    if parsed is None:
        raise Unreadable(unreadable(text))
    if not parsed.exact:
        day = parsed.local().date()
        learned = history(parsed.zone) if history and network else None
        slot = timing.propose(network, timezone=parsed.zone, now=now, not_before=parsed.at,
                              history=learned).at if network else None
        at = slot if slot and slot.astimezone(ZoneInfo(parsed.zone)).date() == day else \
            datetime.combine(day, time(9), tzinfo=ZoneInfo(parsed.zone))
        parsed = replace(parsed, at=at.astimezone(UTC), exact=True)
    return validate_when(parsed, now=now, held=held)


class Posts:
    """Each write is one transaction, validated and audited in core; the scheduler is only woken after the
    commit, since the posts table decides what is published and when."""

    def __init__(self, *, db: Database, scheduler, people: People, zone: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.db = db
        self.scheduler = scheduler
        self.people = people
        self.zone = zone
        self.clock = clock

    @property
    def approvers(self) -> list[str]:
        return self.people.approvers

    def wake(self) -> None:
        """The posts table decides; the publisher in this process is only told a post may be due sooner.
        (Commands without a scheduler leave it to the running Plume, which looks every few seconds.)"""
        if self.scheduler is not None:
            self.scheduler.wake()

    # --- reads ------------------------------------------------------------------------------------

    def get(self, post_id: int) -> Post:
        with self.db.session() as session:
            return posts.get(session, post_id)

    def for_thread(self, thread_id: str) -> list[Post]:
        with self.db.session() as session:
            return posts.for_thread(session, thread_id)

    def with_status(self, statuses: Iterable[Status]) -> list[Post]:
        with self.db.session() as session:
            return posts.with_status(session, statuses)

    def paused(self) -> pause.Pause:
        with self.db.session() as session:
            return pause.state(session)

    def queue(self) -> Queue:
        with self.db.session() as session:
            return Queue(upcoming=posts.with_status(session, [Status.SCHEDULED, Status.HELD]),
                         attention=posts.with_status(session, ATTENTION),
                         waiting=len(posts.with_status(session, [Status.AWAITING_APPROVAL])),
                         pause=pause.state(session))

    # --- time in words ----------------------------------------------------------------------------

    def when(self, text: str, *, zone: str | None = None, network: str | None = None) -> When:
        """A time in words, read in `zone` (the person's), refused if past or while publishing is on hold."""
        now = self.clock()

        def history(zone: str) -> History | None:
            with self.db.session() as session:
                return metrics.best_cells(session, network=network, timezone=zone, now=now)

        return read_when(text, now=now, zone=zone or self.zone, held=self.paused().held, network=network,
                         history=history)

    # --- a post that needs a human ----------------------------------------------------------------

    def retry(self, *, post_id: int, actor: str, when: str | None = None, zone: str | None = None) -> Post:
        """An approver puts a failed (or held) post back on the schedule: now, or at a time in words."""
        self.people.refresh()
        post = self.get(post_id)
        at = self.when(when, zone=zone, network=post.network).at if when and when.strip() else self.clock()
        with self.db.session() as session:
            post = posts.get(session, post_id)
            if post.status == Status.UNKNOWN:
                raise InvalidTransition(f"Post #{post_id} may already be online: check the network first, then "
                                        "say whether it was posted.", current=post.status)
            if post.status not in RETRYABLE:
                raise InvalidTransition(f"Post #{post_id} is {post.status.replace('_', ' ')}; only a failed or held "
                                        "post can be retried.", current=post.status,
                                        decided_by=post.last_actor)
            if post.approved_hash != digest(post.text, post.media):
                raise ValidationFailed(f"Post #{post_id}'s text changed after it was approved, so it cannot go out "
                                       "as it is; start a new brief with the text you want.")
            post = posts.retry(session, post_id=post_id, actor=actor, run_at=at, approvers=self.approvers)
        self.wake()
        return post

    def settle(self, *, post_id: int, actor: str, posted: bool) -> Post:
        """A human checked the network: “It was posted” marks it published; “Post it again” sends it now.

        Sending again keeps the post's idempotency key, so a network that honours it (Mastodon, the
        webhook) or looks it up (Bluesky) still cannot end up with two copies.
        """
        self.people.refresh()
        with self.db.session() as session:
            post = posts.settle_unknown(session, post_id=post_id, actor=actor, posted=posted,
                                        approvers=self.approvers)
            if posted:
                return post
            post = posts.retry(session, post_id=post_id, actor=actor, run_at=self.clock(), approvers=self.approvers)
        self.wake()
        return post

    # --- the schedule ----------------------------------------------------------------------------

    def reschedule(self, *, post_id: int, actor: str, when: str, zone: str | None = None) -> Post:
        """Move a scheduled post to a time in words; a failed or held one is retried at that time."""
        self.people.refresh()
        current = self.get(post_id)
        at = self.when(when, zone=zone, network=current.network).at
        if current.status in RETRYABLE:
            return self.retry(post_id=post_id, actor=actor, when=when, zone=zone)
        with self.db.session() as session:
            post = posts.move(session, post_id=post_id, actor=actor, run_at=at, approvers=self.approvers)
        self.wake()
        return post

    def cancel(self, *, post_id: int, actor: str, reason: str = "") -> Post:
        self.people.refresh()
        with self.db.session() as session:
            post = posts.cancel(session, post_id=post_id, actor=actor, reason=reason, approvers=self.approvers)
        return post

    def hold(self, *, actor: str, reason: str = "") -> list[Post]:
        """Pause all publishing at once; returns the scheduled posts that now wait (they keep their place)."""
        self.people.refresh()
        with self.db.session() as session:
            return pause.hold_all(session, actor=actor, approvers=self.approvers, reason=reason)

    def hold_proposed(self, *, proposal_id: int, actor: str) -> tuple[list[Post], str]:
        """An approver accepts a hold Plume proposed (a crisis alert, insights.alerts): publishing is held with
        the alert's evidence as the reason. The held posts and that reason."""
        with self.db.session() as session:
            reason = pause.proposal(session, proposal_id)
            current = pause.state(session)
        if reason is None:
            raise NotFound("That hold proposal is not known here any more.")
        if current.held:
            raise InvalidTransition(f"Publishing is already on hold (by {current.held_by}).", current="held",
                                    decided_by=current.held_by)
        return self.hold(actor=actor, reason=reason), reason

    def resume(self, *, actor: str) -> list[Post]:
        """End the pause; scheduled posts go out in order, overdue ones first."""
        self.people.refresh()
        with self.db.session() as session:
            resumed = pause.resume_all(session, actor=actor, approvers=self.approvers)
        self.wake()
        return resumed
