"""Calendar exports: the publishing schedule as iCalendar events, and everything published as CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from core import platforms, posts
from core.domain import Post, Status

# What a team wants on its content calendar: what will go out, and what did (or may have).
ON_CALENDAR = (Status.SCHEDULED, Status.HELD, Status.PUBLISHING, Status.PUBLISHED, Status.FAILED, Status.UNKNOWN)
CSV_COLUMNS = ("id", "network", "channel", "locale", "published_at", "url", "approved_by", "text")
SUMMARY_WORDS = 48  # characters of the text in an event's title
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def uid(post_id: int) -> str:
    """Stable across exports, so a subscribed calendar updates an event instead of duplicating it."""
    return f"plume-post-{post_id}@plume"


def first_words(text: str, limit: int = SUMMARY_WORDS) -> str:
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[:limit + 1].rsplit(" ", 1)[0] if " " in line[:limit + 1] else line[:limit]
    return cut.rstrip(" ,;:.—-") + "…"


def starts_at(post: Post) -> datetime | None:
    stamp = post.published_at if post.status == Status.PUBLISHED and post.published_at else post.run_at
    return datetime.fromisoformat(stamp).astimezone(UTC) if stamp else None


def to_ics(calendar_posts: Iterable[Post], *, stamp: datetime | None = None, name: str = "Plume posts") -> bytes:
    """One VEVENT per post with a time; DTSTART in UTC so every calendar shows it in its own zone."""
    cal = Calendar()
    cal.add("prodid", "-//Plume//Publishing calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    for post in calendar_posts:
        start = starts_at(post)
        if start is None:
            continue
        label = platforms.get(post.network).label
        status = post.status.replace("_", " ")
        event = Event()
        event.add("uid", uid(post.id))
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("summary", f"{label} · {post.locale}: {first_words(post.text)}")
        details = [post.text, "", f"Status: {status}"]
        if post.channel:
            details.append(f"Channel: {post.channel}")
        if post.approved_by:
            details.append(f"Approved by: {post.approved_by}")
        if post.last_reason and post.status in (Status.FAILED, Status.UNKNOWN, Status.HELD):
            details.append(f"Why: {post.last_reason}")
        details.append(f"Post #{post.id}")
        event.add("description", "\n".join(details))
        if post.status == Status.PUBLISHED and post.external_url:
            event.add("url", post.external_url)
        event.add("categories", [label])
        cal.add_component(event)
    return cal.to_ical()


def write_csv(published: Iterable[Post], out: TextIO) -> int:
    """Everything published, one row per post, oldest first; returns the number of rows."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for post in published:
        writer.writerow([post.id, post.network, post.channel or "", post.locale, post.published_at or "",
                         post.external_url or "", _cell(post.approved_by or ""), _cell(post.text)])
        rows += 1
    return rows


def _cell(value: str) -> str:
    # A spreadsheet runs a cell that starts with = + - @ as a formula (CSV injection): quote it as text.
    return "'" + value if value.startswith(FORMULA_START) else value


def calendar_posts(session: Session) -> list[Post]:
    return posts.with_status(session, ON_CALENDAR)


def published_posts(session: Session) -> list[Post]:
    found = posts.with_status(session, [Status.PUBLISHED])
    return sorted(found, key=lambda post: (post.published_at or "", post.id))


def export_ics(session: Session, *, stamp: datetime | None = None) -> bytes:
    """`plume export --ics`: the calendar of scheduled and published posts."""
    return to_ics(calendar_posts(session), stamp=stamp)


def export_csv(session: Session, out: TextIO) -> int:
    """`plume export --csv`: every published post."""
    return write_csv(published_posts(session), out)
