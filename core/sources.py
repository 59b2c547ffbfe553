"""Fresh sources a brief was drafted from (pages linked in it, news items): stored, and cited on cards.

A source is a plain dict in the graph's state and on a post (`Post.sources`): url, final_url, kind
("html" | "pdf" | "news"), title, site_name, fetched_at, published_at (the source's own date, ISO, or
None), and either its text or the `error` that kept it from being read. Cards show `describe(source)`:
“page “Ethiopia Guji” (tidewren.coffee), fetched 2 h 05 min ago · dated Thu 3 Dec (2 days old)”.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import when
from core.db import as_utc, iso
from core.models import SourceRow

NOUNS = {"html": "page", "pdf": "PDF", "news": "news item"}
CARD_FIELDS = ("id", "url", "final_url", "kind", "title", "site_name", "fetched_at", "published_at", "error")


def save(session: Session, *, thread_id: str, source: dict) -> dict:
    """Store what was read for a brief (or why not); a run that repeats after a crash replaces its row."""
    row = session.scalars(select(SourceRow).where(SourceRow.thread_id == thread_id,
                                                  SourceRow.url == source["url"])).first()
    if row is None:
        row = SourceRow(thread_id=thread_id, url=source["url"])
        session.add(row)
    text = source.get("text", "")
    row.final_url, row.kind = source.get("final_url") or source["url"], source.get("kind") or "html"
    row.title, row.site_name = source.get("title", ""), source.get("site_name", "")
    row.fetched_at = as_utc(datetime.fromisoformat(source["fetched_at"]))
    row.published_at, row.error, row.feed_url = source.get("published_at"), source.get("error", ""), \
        source.get("feed_url", "")
    row.text, row.text_hash = text, hashlib.sha256(text.encode()).hexdigest() if text else ""
    session.flush()
    return {**source, "id": f"src-{row.id}"}


def for_thread(session: Session, thread_id: str) -> list[dict]:
    rows = session.scalars(select(SourceRow).where(SourceRow.thread_id == thread_id).order_by(SourceRow.id))
    return [{"id": f"src-{r.id}", "url": r.url, "final_url": r.final_url, "kind": r.kind, "title": r.title,
             "site_name": r.site_name, "fetched_at": iso(r.fetched_at), "published_at": r.published_at,
             "text": r.text, "error": r.error, "feed_url": r.feed_url} for r in rows]


def cited(source: dict) -> dict:
    """What a card shows of a source (its text stays in the sources table)."""
    return {k: source.get(k) for k in CARD_FIELDS if source.get(k) is not None}


def published(source: dict) -> datetime | None:
    """The source's own date as a moment (a day alone counts as its noon, UTC), or None."""
    value = source.get("published_at")
    if not value:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(12), UTC)
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return as_utc(at)


def host(url: str) -> str:
    return (urlsplit(url).hostname or url).removeprefix("www.")


def describe(source: dict, *, now: datetime, zone: str) -> str:
    """One line for a card: what the source is, how long ago it was fetched, and its own date and age."""
    url = source.get("final_url") or source.get("url", "")
    if source.get("error"):
        return f"source not read: {source.get('url', '')} — {source['error']}"
    where = source.get("site_name") or host(url)
    title = source.get("title") or host(url)
    line = f"{NOUNS.get(source.get('kind', ''), 'page')} “{title[:90]}” ({where})"
    fetched = source.get("fetched_at")
    if fetched:
        ago = now - as_utc(datetime.fromisoformat(fetched))
        line += ", fetched just now" if ago.total_seconds() < 60 else f", fetched {when.duration(ago)} ago"
    at = published(source)
    if at is None:
        return line + " · undated"
    local = at.astimezone(ZoneInfo(zone)) if len(source["published_at"]) > 10 else at
    return line + f" · dated {when.day(local)} ({age(now - at, day_only=len(source['published_at']) == 10)})"


def age(delta, *, day_only: bool) -> str:
    """“3 h old”, “2 days old”, “today”: a day alone has no hours to count."""
    if day_only:
        days = max(round(delta.total_seconds() / 86400), 0)
        return "today" if days == 0 else "1 day old" if days == 1 else f"{days} days old"
    return f"{when.duration(delta)} old"
