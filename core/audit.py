"""The audit log: who did what to which post, when and why; every state change writes one event."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import iso, now
from core.domain import AuditEvent
from core.models import AuditRow


def record(session: Session, action: str, *, actor: str, post_id: int | None = None,
           from_status: str | None = None, to_status: str | None = None, **detail) -> AuditRow:
    row = AuditRow(at=now(), actor=actor, action=action, post_id=post_id, from_status=from_status,
                   to_status=to_status, detail=detail)
    session.add(row)
    return row


def trail(session: Session, post_id: int) -> list[AuditEvent]:
    rows = session.scalars(select(AuditRow).where(AuditRow.post_id == post_id).order_by(AuditRow.id))
    return [AuditEvent(at=iso(r.at), actor=r.actor, action=r.action, post_id=r.post_id,
                       from_status=r.from_status, to_status=r.to_status, detail=dict(r.detail or {}))
            for r in rows]
