"""The one write funnel for briefs and posts: every status change is validated and audited here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import approvals, audit, lifecycle
from core.db import as_utc, iso, now
from core.domain import Action, Decision, Post, Status, Variant, digest
from core.errors import InvalidTransition, NotFound, ValidationFailed
from core.models import BriefRow, PostRow, VoteRow


def to_post(row: PostRow) -> Post:
    return Post(
        id=row.id, thread_id=row.thread_id, network=row.network, locale=row.locale, text=row.text,
        status=row.status, version=row.version, run_at=iso(row.run_at), time_reason=row.time_reason,
        offline=row.offline, checks=list(row.checks or []), citations=list(row.citations or []),
        warnings=list(row.warnings or []), rationale=row.rationale, media_idea=row.media_idea or "",
        approved_by=row.approved_by,
        approved_at=iso(row.approved_at), approved_hash=row.approved_hash,
        published_at=iso(row.published_at), external_ref=row.external_ref, external_url=row.external_url,
        channel=row.channel, publish_key=row.publish_key, attempts=row.attempts or 0, last_actor=row.last_actor, last_reason=row.last_reason or "",
        media=list(row.media or []), link_card=row.link_card, waiting=row.waiting or "",
        sources=list(row.sources or []),
    )


# --- briefs -------------------------------------------------------------------------------

def save_brief(session: Session, *, thread_id: str, text: str, actor: str, parsed: dict | None = None,
               channel: str | None = None) -> None:
    row = session.get(BriefRow, thread_id)
    if row is None:
        session.add(BriefRow(thread_id=thread_id, text=text, parsed=parsed or {}, created_by=actor,
                             channel=channel, created_at=now()))
        session.flush()
        audit.record(session, "brief.received", actor=actor, thread_id=thread_id, chars=len(text))
    elif parsed is not None:
        row.parsed = parsed


def brief_author(session: Session, thread_id: str) -> str | None:
    row = session.get(BriefRow, thread_id)
    return row.created_by if row else None


def brief_text(session: Session, thread_id: str) -> tuple[str, str] | None:
    """The brief's text and author, to start it again if a crash came before its first step."""
    row = session.get(BriefRow, thread_id)
    return (row.text, row.created_by) if row else None


# --- reads --------------------------------------------------------------------------------

def get(session: Session, post_id: int) -> Post:
    row = session.get(PostRow, post_id)
    if row is None:
        raise NotFound(f"There is no post #{post_id}.")
    return to_post(row)


def for_thread(session: Session, thread_id: str) -> list[Post]:
    rows = session.scalars(select(PostRow).where(PostRow.thread_id == thread_id).order_by(PostRow.id))
    return [to_post(r) for r in rows]


def with_status(session: Session, statuses: Iterable[Status]) -> list[Post]:
    query = (select(PostRow).where(PostRow.status.in_([str(s) for s in statuses]))
             .order_by(PostRow.run_at, PostRow.id))
    return [to_post(r) for r in session.scalars(query)]


# --- the transition funnel ----------------------------------------------------------------

def transition(session: Session, *, post_id: int, to: Status, actor: str, action: str,
               reason: str = "", expect_version: int | None = None, **changes) -> Post:
    """Move one post to `to`, compare-and-set on (status, version) so exactly one caller wins."""
    row = session.get(PostRow, post_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound(f"There is no post #{post_id}.")
    current = row.status
    try:
        lifecycle.require(current, to)
    except InvalidTransition as exc:
        exc.decided_by = row.approved_by or row.last_actor
        raise
    if expect_version is not None and row.version != expect_version:
        raise InvalidTransition(
            f"Post #{post_id} changed since you saw it (now version {row.version}); look at the new version first.",
            current=current, decided_by=row.last_actor)
    # A network's "wait until" note lasts only until the post moves again.
    values = {"status": str(to), "updated_at": now(), "last_actor": actor, "last_reason": reason, "waiting": "",
              **changes}
    done = session.execute(
        update(PostRow).where(PostRow.id == post_id, PostRow.status == current, PostRow.version == row.version)
        .values(**values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise InvalidTransition(f"Post #{post_id} was changed by someone else just now.", current=current)
    audit.record(session, action, actor=actor, post_id=post_id, from_status=current, to_status=str(to),
           reason=reason, version=values.get("version", row.version))
    session.flush()
    session.refresh(row)
    return to_post(row)


def present(session: Session, *, thread_id: str, variant: Variant, citations: list[dict],
            sources: list[dict] | None = None, actor: str = "plume") -> Post:
    """Store a checked variant and put it in front of a human (new post, or a new version of one).

    `citations` are the cited passages (id, source, heading) resolved from `variant.citations`; `sources`
    the fresh sources the draft was given (core.sources.cited: pages and news items, read or not).
    """
    fields = dict(sources=sources or [], text=variant.text, checks=variant.checks, warnings=variant.warnings,
                  rationale=variant.rationale, media_idea=variant.media_idea, offline=variant.offline,
                  time_reason=variant.time_reason,
                  run_at=parse_time(variant.proposed_at), media=variant.media, link_card=variant.link_card)
    if variant.post_id is None:
        existing = session.scalars(select(PostRow).where(
            PostRow.thread_id == thread_id, PostRow.network == variant.network, PostRow.locale == variant.locale,
            PostRow.status == str(Status.AWAITING_APPROVAL))).first()
        if existing is not None:  # stored by a run that a crash cut short before its checkpoint
            return to_post(existing)
        row = PostRow(thread_id=thread_id, network=variant.network, locale=variant.locale,
                      status=str(Status.AWAITING_APPROVAL), version=1, citations=citations,
                      created_at=now(), updated_at=now(), last_reason="", **fields)
        session.add(row)
        session.flush()
        audit.record(session, "post.drafted", actor=actor, post_id=row.id, to_status=row.status,
               network=variant.network, locale=variant.locale)
        return to_post(row)
    row = session.get(PostRow, variant.post_id)
    if row is None:
        raise NotFound(f"There is no post #{variant.post_id}.")
    if row.status == Status.AWAITING_APPROVAL:
        return to_post(row)  # already presented (a node re-ran after a crash)
    # An edit already counted its own version; new images or alt text are a new version too.
    bump = 1 if variant.text != row.text or variant.media != list(row.media or []) else 0
    return transition(session, post_id=row.id, to=Status.AWAITING_APPROVAL, actor=actor,
                      action="post.revised", version=row.version + bump,
                      citations=citations, **fields)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError as exc:
        raise ValidationFailed(f"“{value}” is not a date and time (expected e.g. 2026-12-03T09:00+01:00).") from exc


# --- human decisions ----------------------------------------------------------------------

def decide(session: Session, decision: Decision, *, approvers: list[str]) -> Post:
    """Apply one human decision. Approve/reject need an approver; anyone may ask for changes or edit."""
    action = Action(decision.action)
    current = get(session, decision.post_id)
    if current.status != Status.AWAITING_APPROVAL:  # an old card: say who decided, whoever clicks
        raise InvalidTransition(f"Post #{current.id} was already decided ({current.status.replace('_', ' ')}).",
                                current=current.status, decided_by=current.approved_by or current.last_actor)
    approvals.authorize(session, post_id=decision.post_id, actor=decision.actor, action=action, approvers=approvers)
    post_id, actor, reason = decision.post_id, decision.actor, decision.reason.strip()
    if action is Action.APPROVE:
        needed = approvals.rules(session).required_approvals
        if needed > 1 and not _enough_votes(session, decision, needed):
            return get(session, post_id)
        post = get(session, post_id)
        if unlabelled := [m.get("filename") or m["sha256"][:12] for m in post.media if not m.get("alt", "").strip()]:
            raise ValidationFailed(f"Post #{post_id} has an image without alt text ({', '.join(unlabelled)}); "
                                   "describe each image for people who cannot see it, then approve.")
        return transition(session, post_id=post_id, to=Status.APPROVED, actor=actor, action="post.approved",
                          reason=reason, expect_version=decision.version, approved_by=actor,
                          approved_at=now(), approved_hash=digest(post.text, post.media))
    if action is Action.REJECT:
        return transition(session, post_id=post_id, to=Status.REJECTED, actor=actor, action="post.rejected",
                          reason=reason, expect_version=decision.version)
    if action is Action.REQUEST_CHANGES:
        if not reason:
            raise ValidationFailed("Say what should change, e.g. “shorter, and mention the Paris shop”.")
        return transition(session, post_id=post_id, to=Status.CHANGES_REQUESTED, actor=actor,
                          action="post.changes_requested", reason=reason, expect_version=decision.version)
    text = (decision.text or "").strip()
    if not text:
        raise ValidationFailed("An edit needs the new text.")
    post = get(session, post_id)
    extra = {"run_at": parse_time(decision.run_at), "time_reason": f"set by {actor}"} if decision.run_at else {}
    return transition(session, post_id=post_id, to=Status.CHANGES_REQUESTED, actor=actor, action="post.edited",
                      reason=reason or "edited by hand", expect_version=decision.version,
                      text=text, version=post.version + 1, **extra)


def _enough_votes(session: Session, decision: Decision, needed: int) -> bool:
    """Record one approver's vote on the version they saw; True once `needed` distinct approvers agree."""
    row = session.get(PostRow, decision.post_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound(f"There is no post #{decision.post_id}.")
    if row.status != Status.AWAITING_APPROVAL:
        try:
            lifecycle.require(row.status, Status.APPROVED)
        except InvalidTransition as exc:
            exc.decided_by = row.approved_by or row.last_actor
            raise
    if decision.version is not None and row.version != decision.version:
        raise InvalidTransition(
            f"Post #{row.id} changed since you saw it (now version {row.version}); look at the new version first.",
            current=row.status, decided_by=row.last_actor)
    already = approvals.votes(session, post_id=row.id, version=row.version)
    if decision.actor in already:
        raise InvalidTransition(f"You already approved post #{row.id}; it needs {needed} approvals.",
                                current=row.status, decided_by=decision.actor)
    session.add(VoteRow(post_id=row.id, version=row.version, actor=decision.actor, at=now()))
    audit.record(session, "post.approval_vote", actor=decision.actor, post_id=row.id, from_status=row.status,
           to_status=row.status, version=row.version, votes=len(already) + 1, needed=needed)
    session.flush()
    return len(already) + 1 >= needed


# --- after approval -------------------------------------------------------------------------

def move(session: Session, *, post_id: int, actor: str, run_at: datetime, approvers: list[str]) -> Post:
    """An approver moves a scheduled post to another time; the status stays, the audit says who."""
    approvals.require_approver(session, actor=actor, approvers=approvers, doing="move a scheduled post")
    row = session.get(PostRow, post_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound(f"There is no post #{post_id}.")
    if row.status != Status.SCHEDULED:
        raise InvalidTransition(f"Post #{post_id} is {row.status.replace('_', ' ')}; only a scheduled post can be "
                                "moved.", current=row.status, decided_by=row.last_actor)
    was = iso(row.run_at)
    done = session.execute(  # compare-and-set: a publisher that claimed the post first wins
        update(PostRow).where(PostRow.id == post_id, PostRow.status == row.status)
        .values(run_at=as_utc(run_at), time_reason=f"moved by {actor}", updated_at=now(), last_actor=actor,
                waiting="")
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise InvalidTransition(f"Post #{post_id} was changed by someone else just now.", current=row.status)
    audit.record(session, "post.moved", actor=actor, post_id=post_id, from_status=row.status, to_status=row.status,
           run_at=iso(run_at), was=was)
    session.flush()
    session.refresh(row)
    return to_post(row)


def schedule(session: Session, *, post_id: int, run_at: datetime, actor: str = "plume") -> Post:
    """Schedule an approved post. During a team-wide hold it stays scheduled and waits at the gate."""
    return transition(session, post_id=post_id, to=Status.SCHEDULED, actor=actor, action="post.scheduled",
                      run_at=as_utc(run_at))


def cancel(session: Session, *, post_id: int, actor: str, reason: str = "", approvers: list[str] | None = None) -> Post:
    """Cancel a post before it is published. With `approvers`, only an approver or the brief's author may."""
    if approvers is not None:
        post = get(session, post_id)
        if brief_author(session, post.thread_id) != actor:
            approvals.require_approver(session, actor=actor, approvers=approvers, doing="cancel someone else's post")
    return transition(session, post_id=post_id, to=Status.CANCELLED, actor=actor, action="post.cancelled",
                      reason=reason)


def retry(session: Session, *, post_id: int, actor: str, run_at: datetime, approvers: list[str]) -> Post:
    """A human puts a failed or held post back on the schedule, with three fresh attempts.

    The approved hash still guards its text, and the publish key is kept: a network that saw the
    earlier attempt under that key still cannot end up with two copies.
    """
    approvals.require_approver(session, actor=actor, approvers=approvers, doing="retry a post")
    return transition(session, post_id=post_id, to=Status.SCHEDULED, actor=actor, action="post.retried",
                      run_at=as_utc(run_at), attempts=0)


def settle_unknown(session: Session, *, post_id: int, actor: str, posted: bool, approvers: list[str]) -> Post:
    """A human checked the network: the post is there (published) or it is not (failed, retryable)."""
    approvals.require_approver(session, actor=actor, approvers=approvers, doing="settle a post")
    if posted:
        return transition(session, post_id=post_id, to=Status.PUBLISHED, actor=actor, action="post.confirmed",
                          reason="confirmed on the network", published_at=now())
    return transition(session, post_id=post_id, to=Status.FAILED, actor=actor, action="post.not_posted",
                      reason="not on the network")


def open_threads(session: Session) -> list[str]:
    """Threads with a post still in front of a human or about to be scheduled."""
    live = [str(s) for s in (Status.AWAITING_APPROVAL, Status.CHANGES_REQUESTED, Status.APPROVED)]
    query = select(PostRow.thread_id).where(PostRow.status.in_(live)).distinct()
    briefs_without_posts = select(BriefRow.thread_id).where(~BriefRow.thread_id.in_(select(PostRow.thread_id)))
    return sorted(set(session.scalars(query)) | set(session.scalars(briefs_without_posts)))
