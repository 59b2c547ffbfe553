"""The storage side of publishing: the scheduler claims due posts here and records what the network said."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core import lifecycle
from core.approvals import WORKSPACE
from core.db import as_utc, now
from core.domain import Post, Status, digest
from core.errors import InvalidTransition, PlumeError, ValidationFailed
from core.models import AuditRow, CronRunRow, PostRow, WorkspaceRow
from core.pause import state as pause_state
from core.posts import to_post, transition


@dataclass
class Claim:
    """What one claim round took: posts now `publishing` (ours to send once) and posts refused
    (`failed` at the door: text changed after approval, no channel for the network), to announce."""

    taken: list[Post]
    refused: list[Post]


def claim_due(session: Session, *, at: datetime, limit: int, route=None, post_id: int | None = None) -> Claim:
    """Take up to `limit` due scheduled posts, oldest run_at first: `scheduled → publishing`.

    Only one worker can win a post (row lock, then a compare-and-set on status and version). The
    approved hash is verified, and the publish key and channel are stored before anything is sent.
    `route(network)` names the channel a post goes to. Nothing is taken while publishing is on hold:
    the workspace row is read under a share lock, so `hold` waits for a claim in progress.
    """
    # The row exists from migration 0007 on: a hold (FOR UPDATE) waits for a claim (FOR SHARE) in progress.
    gate = session.get(WorkspaceRow, WORKSPACE, with_for_update={"read": True}, populate_existing=True)
    if gate is not None and gate.held:
        return Claim([], [])
    query = select(PostRow).where(PostRow.status == str(Status.SCHEDULED))
    if post_id is not None:
        query = query.where(PostRow.id == post_id)
    query = (query.where(PostRow.run_at <= at)
             .order_by(PostRow.run_at, PostRow.id).limit(limit).with_for_update(skip_locked=True))
    claim, taking = Claim([], []), {}
    rows = session.scalars(query.execution_options(populate_existing=True)).all()
    for row in rows:
        try:
            if row.approved_hash != digest(row.text, row.media):
                raise ValidationFailed("the text or its images changed after it was approved; approve it again")
            channel = row.channel or (route(row.network) if route else None)
        except PlumeError as refused:
            claim.refused.append(transition(session, post_id=row.id, to=Status.FAILED, actor="plume",
                                            action="post.failed", reason=str(refused)))
            continue
        taking[row.id] = {"channel": channel, "publish_key": row.publish_key or uuid.uuid4().hex}
    claim.taken = transition_many(session, to=Status.PUBLISHING, action="post.publishing", moves=taking,
                                  rows=[row for row in rows if row.id in taking])
    return claim


def transition_many(session: Session, *, to: Status, action: str, moves: dict[int, dict],
                    actor: str = "plume", rows: list[PostRow] | None = None) -> list[Post]:
    """`transition` for a batch (the scheduler's hot path): one locking read, one UPDATE statement
    and one INSERT of audit events for all. `moves`: post id → column changes, plus "reason"; every
    entry has the same keys. Returns the posts in the order of `moves`; a post that may not move to
    `to` is left out (someone moved it first). `rows`: the posts' rows, already locked by the caller.
    """
    if not moves:
        return []
    rows = rows if rows is not None else session.scalars(select(PostRow).where(PostRow.id.in_(list(moves))).order_by(PostRow.id)
                           .with_for_update().execution_options(populate_existing=True)).all()
    at, params, events, moved = now(), [], [], []
    for row in rows:
        if not lifecycle.allowed(row.status, to):
            continue
        changes = dict(moves[row.id])
        reason = changes.pop("reason", "")
        values = {"status": str(to), "updated_at": at, "last_actor": actor, "last_reason": reason, "waiting": "",
                  **changes}
        params.append({"b_id": row.id, "b_status": row.status, "b_version": row.version,
                       **{f"v_{k}": v for k, v in values.items()}})
        events.append({"at": at, "actor": actor, "action": action, "post_id": row.id, "from_status": row.status,
                       "to_status": str(to), "detail": {"reason": reason, "version": row.version}})
        for key, value in values.items():
            set_committed_value(row, key, value)
        moved.append(to_post(row))
    if not params:
        return []
    order = {post_id: place for place, post_id in enumerate(moves)}  # rows are locked in id order
    moved.sort(key=lambda post: order[post.id])
    table = PostRow.__table__
    statement = (update(table).where(table.c.id == bindparam("b_id"), table.c.status == bindparam("b_status"),
                                     table.c.version == bindparam("b_version"))
                 .values({key[2:]: bindparam(key) for key in params[0] if key.startswith("v_")}))
    done = session.connection().execute(statement, params)
    if done.rowcount != len(params):  # the rows are locked: only a bug elsewhere gets here
        raise InvalidTransition("Some posts were changed by someone else just now.")
    session.connection().execute(insert(AuditRow.__table__), events)
    return moved


def take_for_publishing(session: Session, *, post_id: int, route=None) -> Post | None:
    """Claim one post whatever its time; None when it is not ours (held, cancelled, taken, refused)."""
    taken = claim_due(session, at=datetime.max.replace(tzinfo=UTC), limit=1, route=route, post_id=post_id).taken
    return taken[0] if taken else None


def mark_published(session: Session, *, post_id: int, ref: str, url: str | None = None, reason: str = "") -> Post:
    """The network has the post: keep its id and permalink."""
    return transition(session, post_id=post_id, to=Status.PUBLISHED, actor="plume", action="post.published",
                      reason=reason, published_at=now(), external_ref=ref, external_url=url)


def mark_failed(session: Session, *, post_id: int, reason: str, actor: str = "plume") -> Post:
    return transition(session, post_id=post_id, to=Status.FAILED, actor=actor, action="post.failed",
                      reason=reason)


def mark_unknown(session: Session, *, post_id: int, reason: str) -> Post:
    return transition(session, post_id=post_id, to=Status.UNKNOWN, actor="plume", action="post.unknown",
                      reason=reason)


def hold_overdue(session: Session, *, post_id: int, reason: str) -> Post:
    """A post found too late at start-up: held for a human to release or move, never sent late silently."""
    return transition(session, post_id=post_id, to=Status.HELD, actor="plume", action="post.held", reason=reason)


def overdue(session: Session, *, before: datetime) -> list[Post]:
    """Scheduled posts whose time passed before `before`, oldest first."""
    query = (select(PostRow).where(PostRow.status == str(Status.SCHEDULED), PostRow.run_at < before)
             .order_by(PostRow.run_at, PostRow.id))
    return [to_post(r) for r in session.scalars(query)]


def next_due(session: Session) -> datetime | None:
    """When the earliest scheduled post falls due (None: nothing scheduled, or publishing is on hold)."""
    if pause_state(session).held:
        return None
    return as_utc(session.scalar(select(func.min(PostRow.run_at)).where(PostRow.status == str(Status.SCHEDULED))))


def interrupted_publishing(session: Session) -> list[Post]:
    """Posts left in `publishing` by a crash: the network may or may not have them."""
    query = select(PostRow).where(PostRow.status == str(Status.PUBLISHING)).order_by(PostRow.run_at, PostRow.id)
    return [to_post(r) for r in session.scalars(query)]


def register_cron(session: Session, *, job_id: str, schedule: str, at: datetime) -> None:
    """A calendar job the leader runs: new, or on another schedule than before, it owes no run due before `at`."""
    row = session.get(CronRunRow, job_id, with_for_update=True, populate_existing=True)
    if row is None:
        session.add(CronRunRow(job_id=job_id, schedule=schedule, last_fire=at.astimezone(UTC)))
    elif row.schedule != schedule:
        row.schedule, row.last_fire = schedule, at.astimezone(UTC)


def claim_cron_run(session: Session, *, job_id: str, fire: datetime) -> bool:
    """Take the run due at `fire`: True for one caller only, however many leaders (in turn or at once) ask."""
    done = session.execute(update(CronRunRow).where(CronRunRow.job_id == job_id, CronRunRow.last_fire < fire.astimezone(UTC))
                           .values(last_fire=fire.astimezone(UTC)))
    return done.rowcount == 1
