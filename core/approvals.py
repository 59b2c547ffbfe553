"""Who may decide: approvers (user ids and user groups), the workspace's approval rules, and votes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.db import as_utc, now
from core.domain import Action
from core.errors import NotAuthorized, ValidationFailed
from core.models import BriefRow, GroupRow, PostRow, VoteRow, WorkspaceRow

WORKSPACE = "default"  # one workspace per Plume installation for now
GROUP_TTL = timedelta(minutes=10)


@dataclass
class Rules:
    """How many approvers a draft needs, and whether a brief's author may approve its drafts."""

    forbid_self_approval: bool = False
    required_approvals: int = 1


def workspace(session: Session, *, lock: bool = False) -> WorkspaceRow:
    """The workspace's row (approval rules and the publishing pause), created on first use."""
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
    return Rules(forbid_self_approval=row.forbid_self_approval, required_approvals=row.required_approvals)


def set_rules(session: Session, *, actor: str, approvers: list[str], forbid_self_approval: bool | None = None,
              required_approvals: int | None = None) -> Rules:
    require_approver(session, actor=actor, approvers=approvers, doing="change the approval rules")
    if required_approvals is not None and not 1 <= required_approvals <= 5:
        raise ValidationFailed("Approvals needed must be between 1 and 5.")
    row = workspace(session, lock=True)
    if forbid_self_approval is not None:
        row.forbid_self_approval = forbid_self_approval
    if required_approvals is not None:
        row.required_approvals = required_approvals
    audit.record(session, "workspace.rules", actor=actor, forbid_self_approval=row.forbid_self_approval,
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
        author = session.scalar(select(BriefRow.created_by).join(PostRow, PostRow.thread_id == BriefRow.thread_id)
                                .where(PostRow.id == post_id))
        if author == actor:
            raise NotAuthorized("This workspace asks someone other than the brief's author to approve its drafts.")


def votes(session: Session, *, post_id: int, version: int) -> list[str]:
    query = (select(VoteRow.actor).where(VoteRow.post_id == post_id, VoteRow.version == version)
             .order_by(VoteRow.at))
    return list(session.scalars(query))
