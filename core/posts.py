"""The one write funnel for briefs and posts: every status change is validated and audited here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core import lifecycle
from core.domain import Action, AuditEvent, Decision, Post, Status, Variant, digest
from core.errors import InvalidTransition, NotAuthorized, NotFound, PlumeError, ValidationFailed
from core.models import AuditRow, BriefRow, GroupRow, PostRow, VoteRow, WorkspaceRow


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes even for timezone-aware columns; everything stored is UTC.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value else None


def to_post(row: PostRow) -> Post:
    return Post(
        id=row.id, thread_id=row.thread_id, network=row.network, locale=row.locale, text=row.text,
        status=row.status, version=row.version, run_at=iso(row.run_at), time_reason=row.time_reason,
        offline=row.offline, checks=list(row.checks or []), citations=list(row.citations or []),
        warnings=list(row.warnings or []), rationale=row.rationale, approved_by=row.approved_by,
        approved_at=iso(row.approved_at), approved_hash=row.approved_hash,
        published_at=iso(row.published_at), external_ref=row.external_ref, external_url=row.external_url,
        channel=row.channel, publish_key=row.publish_key, attempts=row.attempts or 0, last_actor=row.last_actor, last_reason=row.last_reason or "",
        media=list(row.media or []), link_card=row.link_card, waiting=row.waiting or "",
    )


def record(session: Session, action: str, *, actor: str, post_id: int | None = None,
           from_status: str | None = None, to_status: str | None = None, **detail) -> None:
    session.add(AuditRow(at=now(), actor=actor, action=action, post_id=post_id,
                         from_status=from_status, to_status=to_status, detail=detail))


# --- briefs -------------------------------------------------------------------------------

def save_brief(session: Session, *, thread_id: str, text: str, actor: str, parsed: dict | None = None,
               channel: str | None = None) -> None:
    row = session.get(BriefRow, thread_id)
    if row is None:
        session.add(BriefRow(thread_id=thread_id, text=text, parsed=parsed or {}, created_by=actor,
                             channel=channel, created_at=now()))
        session.flush()
        record(session, "brief.received", actor=actor, thread_id=thread_id, chars=len(text))
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


def audit_trail(session: Session, post_id: int) -> list[AuditEvent]:
    rows = session.scalars(select(AuditRow).where(AuditRow.post_id == post_id).order_by(AuditRow.id))
    return [AuditEvent(at=iso(r.at), actor=r.actor, action=r.action, post_id=r.post_id,
                       from_status=r.from_status, to_status=r.to_status, detail=dict(r.detail or {}))
            for r in rows]


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
    record(session, action, actor=actor, post_id=post_id, from_status=current, to_status=str(to),
           reason=reason, version=values.get("version", row.version))
    session.flush()
    session.refresh(row)
    return to_post(row)


def present(session: Session, *, thread_id: str, variant: Variant, citations: list[dict],
            actor: str = "plume") -> Post:
    """Store a checked variant and put it in front of a human (new post, or a new version of one).

    `citations` are the cited passages (id, source, heading) resolved from `variant.citations`.
    """
    fields = dict(text=variant.text, checks=variant.checks, warnings=variant.warnings,
                  rationale=variant.rationale, offline=variant.offline, time_reason=variant.time_reason,
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
        record(session, "post.drafted", actor=actor, post_id=row.id, to_status=row.status,
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


# --- workspace rules ----------------------------------------------------------------------

WORKSPACE = "default"  # one workspace per Plume installation for now
GROUP_TTL = timedelta(minutes=10)


@dataclass
class Rules:
    """Who may approve what, and whether publishing is paused team-wide."""

    forbid_self_approval: bool = False
    required_approvals: int = 1
    held: bool = False
    held_by: str | None = None
    held_reason: str = ""
    held_at: str | None = None


def _workspace(session: Session, *, lock: bool = False) -> WorkspaceRow:
    row = session.get(WorkspaceRow, WORKSPACE, with_for_update=lock)
    if row is None:
        row = WorkspaceRow(id=WORKSPACE, forbid_self_approval=False, required_approvals=1, held=False,
                           held_reason="")
        session.add(row)
        session.flush()
    return row


def rules(session: Session) -> Rules:
    row = session.get(WorkspaceRow, WORKSPACE)
    if row is None:
        return Rules()
    return Rules(forbid_self_approval=row.forbid_self_approval, required_approvals=row.required_approvals,
                 held=row.held, held_by=row.held_by, held_reason=row.held_reason or "", held_at=iso(row.held_at))


def set_rules(session: Session, *, actor: str, approvers: list[str], forbid_self_approval: bool | None = None,
              required_approvals: int | None = None) -> Rules:
    require_approver(session, actor=actor, approvers=approvers, doing="change the approval rules")
    if required_approvals is not None and not 1 <= required_approvals <= 5:
        raise ValidationFailed("Approvals needed must be between 1 and 5.")
    row = _workspace(session, lock=True)
    if forbid_self_approval is not None:
        row.forbid_self_approval = forbid_self_approval
    if required_approvals is not None:
        row.required_approvals = required_approvals
    record(session, "workspace.rules", actor=actor, forbid_self_approval=row.forbid_self_approval,
           required_approvals=row.required_approvals)
    session.flush()
    return rules(session)


def is_group(approver: str) -> bool:
    """Slack user group ids start with S; user ids with U or W."""
    return approver.startswith("S")


def store_group(session: Session, *, group_id: str, members: list[str]) -> None:
    row = session.get(GroupRow, group_id)
    if row is None:
        session.add(GroupRow(group_id=group_id, members=sorted(set(members)), fetched_at=now()))
    else:
        row.members, row.fetched_at = sorted(set(members)), now()
    session.flush()


def stale_groups(session: Session, approvers: list[str], *, ttl: timedelta = GROUP_TTL) -> list[str]:
    """Approver groups whose members were never resolved, or not recently."""
    stale = []
    for group_id in filter(is_group, approvers):
        row = session.get(GroupRow, group_id)
        if row is None or as_utc(row.fetched_at) < now() - ttl:
            stale.append(group_id)
    return stale


def group_members(session: Session, approvers: list[str]) -> dict[str, list[str]]:
    rows = session.scalars(select(GroupRow).where(GroupRow.group_id.in_([a for a in approvers if is_group(a)])))
    return {row.group_id: list(row.members or []) for row in rows}


def may_decide(*, actor: str, approvers: list[str], groups: dict[str, list[str]] | None = None) -> bool:
    """Approvers are user ids and user group ids (members resolved and cached by the front end)."""
    if not approvers or actor in approvers:
        return True
    return any(actor in (groups or {}).get(a, []) for a in approvers if is_group(a))


def is_approver(session: Session, *, actor: str, approvers: list[str]) -> bool:
    return may_decide(actor=actor, approvers=approvers, groups=group_members(session, approvers))


def require_approver(session: Session, *, actor: str, approvers: list[str], doing: str) -> None:
    if not is_approver(session, actor=actor, approvers=approvers):
        raise NotAuthorized(f"Only the team's approvers can {doing}.")


def authorize(session: Session, *, post_id: int, actor: str, action: str, approvers: list[str]) -> None:
    """Raise NotAuthorized unless `actor` may take `action` on this post. Anyone may ask for changes or edit."""
    if Action(action) not in (Action.APPROVE, Action.REJECT):
        return
    if not is_approver(session, actor=actor, approvers=approvers):
        raise NotAuthorized("Only the team's approvers can approve or reject drafts.")
    if Action(action) is Action.APPROVE and rules(session).forbid_self_approval:
        post = get(session, post_id)
        if brief_author(session, post.thread_id) == actor:
            raise NotAuthorized("This workspace asks someone other than the brief's author to approve its drafts.")


def votes(session: Session, *, post_id: int, version: int) -> list[str]:
    query = (select(VoteRow.actor).where(VoteRow.post_id == post_id, VoteRow.version == version)
             .order_by(VoteRow.at))
    return list(session.scalars(query))


# --- human decisions ----------------------------------------------------------------------

def decide(session: Session, decision: Decision, *, approvers: list[str]) -> Post:
    """Apply one human decision. Approve/reject need an approver; anyone may ask for changes or edit."""
    action = Action(decision.action)
    current = get(session, decision.post_id)
    if current.status != Status.AWAITING_APPROVAL:  # an old card: say who decided, whoever clicks
        raise InvalidTransition(f"Post #{current.id} was already decided ({current.status.replace('_', ' ')}).",
                                current=current.status, decided_by=current.approved_by or current.last_actor)
    authorize(session, post_id=decision.post_id, actor=decision.actor, action=action, approvers=approvers)
    post_id, actor, reason = decision.post_id, decision.actor, decision.reason.strip()
    if action is Action.APPROVE:
        needed = rules(session).required_approvals
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
    already = votes(session, post_id=row.id, version=row.version)
    if decision.actor in already:
        raise InvalidTransition(f"You already approved post #{row.id}; it needs {needed} approvals.",
                                current=row.status, decided_by=decision.actor)
    session.add(VoteRow(post_id=row.id, version=row.version, actor=decision.actor, at=now()))
    record(session, "post.approval_vote", actor=decision.actor, post_id=row.id, from_status=row.status,
           to_status=row.status, version=row.version, votes=len(already) + 1, needed=needed)
    session.flush()
    return len(already) + 1 >= needed


# --- moving an approved post ----------------------------------------------------------------

def move(session: Session, *, post_id: int, actor: str, run_at: datetime, approvers: list[str]) -> Post:
    """An approver moves a scheduled post to another time; the status stays, the audit says who."""
    require_approver(session, actor=actor, approvers=approvers, doing="move a scheduled post")
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
    record(session, "post.moved", actor=actor, post_id=post_id, from_status=row.status, to_status=row.status,
           run_at=iso(run_at), was=was)
    session.flush()
    session.refresh(row)
    return to_post(row)


# --- scheduling and publishing ------------------------------------------------------------

HOLD_REASON = "publishing is on hold"


def schedule(session: Session, *, post_id: int, run_at: datetime, actor: str = "plume") -> Post:
    """Schedule an approved post. During a team-wide hold it stays scheduled and waits at the gate."""
    return transition(session, post_id=post_id, to=Status.SCHEDULED, actor=actor, action="post.scheduled",
                      run_at=as_utc(run_at))


def hold(session: Session, *, actor: str, reason: str = "") -> list[Post]:
    """Close the publishing gate team-wide (no approver check: PLUME_HOLD at start-up uses it too).

    Posts keep their status and place: nothing is taken for publishing until resume. Returns the
    scheduled posts the hold stops, in run_at order. The row lock waits for a take in progress, so
    once this commits no post starts going out.
    """
    row = _workspace(session, lock=True)
    row.held, row.held_by, row.held_reason, row.held_at = True, actor, reason.strip(), now()
    record(session, "workspace.held", actor=actor, reason=reason.strip())
    session.flush()
    return with_status(session, [Status.SCHEDULED])


def hold_all(session: Session, *, actor: str, approvers: list[str], reason: str = "") -> list[Post]:
    """An approver pauses all publishing at once; scheduled posts stay scheduled (see `hold`)."""
    require_approver(session, actor=actor, approvers=approvers, doing="pause publishing")
    return hold(session, actor=actor, reason=reason)


def resume_all(session: Session, *, actor: str, approvers: list[str]) -> list[Post]:
    """Open the gate again: scheduled posts go out in run_at order, overdue ones one after another.

    Returns them in that order. Posts held one by one (overdue past the grace at start-up) stay held
    until an approver retries or moves each of them.
    """
    require_approver(session, actor=actor, approvers=approvers, doing="resume publishing")
    row = _workspace(session, lock=True)
    row.held, row.held_by, row.held_reason, row.held_at = False, None, "", None
    record(session, "workspace.resumed", actor=actor)
    session.flush()
    return with_status(session, [Status.SCHEDULED])


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
    if rules(session).held:
        return None
    return as_utc(session.scalar(select(func.min(PostRow.run_at)).where(PostRow.status == str(Status.SCHEDULED))))


def cancel(session: Session, *, post_id: int, actor: str, reason: str = "", approvers: list[str] | None = None) -> Post:
    """Cancel a post before it is published. With `approvers`, only an approver or the brief's author may."""
    if approvers is not None:
        post = get(session, post_id)
        if brief_author(session, post.thread_id) != actor:
            require_approver(session, actor=actor, approvers=approvers, doing="cancel someone else's post")
    return transition(session, post_id=post_id, to=Status.CANCELLED, actor=actor, action="post.cancelled",
                      reason=reason)


def interrupted_publishing(session: Session) -> list[Post]:
    """Posts left in `publishing` by a crash: the network may or may not have them."""
    query = select(PostRow).where(PostRow.status == str(Status.PUBLISHING)).order_by(PostRow.run_at, PostRow.id)
    return [to_post(r) for r in session.scalars(query)]


def open_threads(session: Session) -> list[str]:
    """Threads with a post still in front of a human or about to be scheduled."""
    live = [str(s) for s in (Status.AWAITING_APPROVAL, Status.CHANGES_REQUESTED, Status.APPROVED)]
    query = select(PostRow.thread_id).where(PostRow.status.in_(live)).distinct()
    briefs_without_posts = select(BriefRow.thread_id).where(~BriefRow.thread_id.in_(select(PostRow.thread_id)))
    return sorted(set(session.scalars(query)) | set(session.scalars(briefs_without_posts)))


def retry(session: Session, *, post_id: int, actor: str, run_at: datetime, approvers: list[str]) -> Post:
    """A human puts a failed or held post back on the schedule, with three fresh attempts.

    The approved hash still guards its text, and the publish key is kept: a network that saw the
    earlier attempt under that key still cannot end up with two copies.
    """
    require_approver(session, actor=actor, approvers=approvers, doing="retry a post")
    return transition(session, post_id=post_id, to=Status.SCHEDULED, actor=actor, action="post.retried",
                      run_at=as_utc(run_at), attempts=0)


def settle_unknown(session: Session, *, post_id: int, actor: str, posted: bool, approvers: list[str]) -> Post:
    """A human checked the network: the post is there (published) or it is not (failed, retryable)."""
    require_approver(session, actor=actor, approvers=approvers, doing="settle a post")
    if posted:
        return transition(session, post_id=post_id, to=Status.PUBLISHED, actor=actor, action="post.confirmed",
                          reason="confirmed on the network", published_at=now())
    return transition(session, post_id=post_id, to=Status.FAILED, actor=actor, action="post.not_posted",
                      reason="not on the network")
