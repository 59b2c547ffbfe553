"""The team-wide publishing pause: while it holds, no post is taken for publishing; posts keep their place."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core import audit
from core.approvals import WORKSPACE, require_approver, workspace
from core.db import iso, now
from core.domain import Post, Status
from core.models import AuditRow, WorkspaceRow
from core.posts import with_status


@dataclass
class Pause:
    """Whether publishing is paused team-wide, by whom, why and since when."""

    held: bool = False
    held_by: str | None = None
    held_reason: str = ""
    held_at: str | None = None


def state(session: Session) -> Pause:
    row = session.get(WorkspaceRow, WORKSPACE)
    if row is None:
        return Pause()
    return Pause(held=row.held, held_by=row.held_by, held_reason=row.held_reason or "", held_at=iso(row.held_at))


def hold(session: Session, *, actor: str, reason: str = "") -> list[Post]:
    """Close the publishing gate team-wide (no approver check: PLUME_HOLD at start-up uses it too).

    Posts keep their status and place: nothing is taken for publishing until resume. Returns the
    scheduled posts the hold stops, in run_at order. The row lock waits for a take in progress, so
    once this commits no post starts going out.
    """
    row = workspace(session, lock=True)
    row.held, row.held_by, row.held_reason, row.held_at = True, actor, reason.strip(), now()
    audit.record(session, "workspace.held", actor=actor, reason=reason.strip())
    session.flush()
    return with_status(session, [Status.SCHEDULED])


PROPOSED = "workspace.hold_proposed"


def propose(session: Session, *, reason: str, evidence: dict) -> int:
    """Record that Plume proposes a hold (a crisis alert); its id is what the proposal's button carries."""
    row = audit.record(session, PROPOSED, actor="plume", reason=reason, evidence=evidence)
    session.flush()
    return row.id


def proposal(session: Session, proposal_id: int) -> str | None:
    """The reason of a proposed hold, or None when there is no such proposal."""
    row = session.get(AuditRow, proposal_id)
    return row.detail.get("reason", "") if row is not None and row.action == PROPOSED else None


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
    row = workspace(session, lock=True)
    row.held, row.held_by, row.held_reason, row.held_at = False, None, "", None
    audit.record(session, "workspace.resumed", actor=actor)
    session.flush()
    return with_status(session, [Status.SCHEDULED])
