"""What a chat front end remembers across restarts: handled deliveries, threads and their cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import now
from core.models import CardRow, ConversationRow, DeliveryRow


@dataclass
class Conversation:
    thread_id: str
    team: str
    channel: str
    thread_ts: str
    progress_ts: str | None = None


@dataclass
class Card:
    post_id: int
    version: int
    channel: str
    ts: str
    text: str
    shown: str


def claim(session: Session, *, key: str) -> bool:
    """True the first time `key` is seen (ever, across restarts and instances), False afterwards."""
    if session.get(DeliveryRow, key) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(DeliveryRow(key=key, at=now()))
    except IntegrityError:  # another instance claimed it between our read and our write
        return False
    return True


def release(session: Session, *, key: str) -> None:
    """Forget one claim, so that a refused click can be tried again once the reason is fixed."""
    session.execute(delete(DeliveryRow).where(DeliveryRow.key == key))


def forget_deliveries(session: Session, *, before: datetime) -> int:
    """Slack retries for minutes, not days: old keys can go."""
    return session.execute(delete(DeliveryRow).where(DeliveryRow.at < before)).rowcount or 0


def save_conversation(session: Session, *, thread_id: str, team: str, channel: str, thread_ts: str) -> Conversation:
    row = session.get(ConversationRow, thread_id)
    if row is None:
        row = ConversationRow(thread_id=thread_id, team=team, channel=channel, thread_ts=thread_ts, created_at=now())
        session.add(row)
        session.flush()
    return _conversation(row)


def conversation(session: Session, thread_id: str) -> Conversation | None:
    row = session.get(ConversationRow, thread_id)
    return _conversation(row) if row else None


def set_progress(session: Session, *, thread_id: str, ts: str) -> None:
    row = session.get(ConversationRow, thread_id)
    if row is not None:
        row.progress_ts = ts


def _conversation(row: ConversationRow) -> Conversation:
    return Conversation(row.thread_id, row.team, row.channel, row.thread_ts, row.progress_ts)


def save_card(session: Session, *, post_id: int, version: int, channel: str, ts: str, text: str, shown: str) -> None:
    session.add(CardRow(post_id=post_id, version=version, channel=channel, ts=ts, text=text, shown=shown,
                        created_at=now()))
    session.flush()


def cards(session: Session, post_id: int) -> list[Card]:
    rows = session.scalars(select(CardRow).where(CardRow.post_id == post_id).order_by(CardRow.id))
    return [Card(r.post_id, r.version, r.channel, r.ts, r.text, r.shown) for r in rows]


def mark_shown(session: Session, *, post_id: int, version: int, channel: str, shown: str) -> None:
    row = session.scalars(select(CardRow).where(CardRow.post_id == post_id, CardRow.version == version,
                                                CardRow.channel == channel)).first()
    if row is not None:
        row.shown = shown
