"""News from the team's feeds (PLUME_FEEDS): what a news brief is about, the item that matches it, and the
recent items `/plume news` lists. Feeds are read through knowledge.sources, the one safe fetcher."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import regex

from core import platforms, sources, when
from core.grounding import fold
from knowledge.sources import FeedItem, Limits, SourceUnavailable, read_feed

NEWS = regex.compile(
    r"(?i)\bnews\s+(?:about|on|around|regarding|from)\s+(?P<topic>[^.!?\n]+)"
    r"|\b(?:actualit[ée]s?|nouvelles|infos?)\s+(?:du\s+jour\s+|de\s+la\s+semaine\s+)?"
    r"(?:sur|concernant|autour\s+de|à\s+propos\s+de|a\s+propos\s+de|de)\s+(?P<topic2>[^.!?\n]+)")
STOP = {"the", "a", "an", "of", "and", "or", "in", "on", "for", "to", "our", "about", "with", "le", "la", "les",
        "de", "des", "du", "et", "en", "sur", "un", "une", "nos", "notre", "linkedin", "twitter", "bluesky",
        "mastodon", "instagram", "threads", "facebook", "post", "posts", "english", "french", "anglais",
        "francais", "tomorrow", "today", "demain", "morning", "matin"}


def topic(text: str) -> str | None:
    """What a news brief is about: “react to today's news about the Guji harvest” → “the Guji harvest”."""
    found = NEWS.search(platforms.blank(text))
    if not found:
        return None
    about = (found["topic"] or found["topic2"] or "").strip()
    return " ".join(about.split()[:12]) or None


def words_of(about: str) -> list[str]:
    words = regex.findall(r"[\p{L}\p{N}]{3,}", fold(about))
    return [w for w in dict.fromkeys(words) if w not in STOP]


def matches(words: list[str], item: FeedItem) -> int:
    """How many of the topic's words the item's title and summary share (a short ending aside)."""
    said = set(regex.findall(r"[\p{L}\p{N}]{3,}", fold(f"{item.title} {item.summary}")))
    return sum(any(w == s or (len(w) >= 5 and s.startswith(w[:-1])) or (len(s) >= 5 and w.startswith(s[:-1]))
                   for s in said) for w in words)


def read_all(feeds: list[str], *, limits: Limits) -> tuple[list[FeedItem], list[str]]:
    """Every item of the team's feeds, and the feeds that could not be read (with why): one failing is not fatal."""
    items: list[FeedItem] = []
    problems = []
    for feed in feeds:
        try:
            items += read_feed(feed, limits=limits)
        except SourceUnavailable as exc:
            problems.append(f"feed {feed} not read ({exc})")
    return items, problems


def pick(about: str, *, feeds: list[str], limits: Limits, now: datetime,
         window: timedelta) -> tuple[FeedItem | None, str]:
    """The freshest item about `about` in the team's feeds, and a note when it is not what was asked."""
    if not feeds:
        return None, (f"This brief asks for news about “{about}”, but no feeds are configured (PLUME_FEEDS): "
                      "drafting from the brief alone.")
    items, problems = read_all(feeds, limits=limits)
    words = words_of(about)
    needed = max(1, math.ceil(len(words) / 2))
    relevant = [item for item in items if matches(words, item) >= needed]
    extra = f" ({'; '.join(problems)})" if problems else ""
    if not relevant:
        return None, f"No item about “{about}” in the team's feeds{extra}: drafting from the brief alone."
    newest = max(relevant, key=lambda i: i.published_at or "")
    at = sources.published({"published_at": newest.published_at})
    if at is None:
        return newest, f"The news item “{newest.title}” has no date: check it is recent before approving.{extra}"
    if now - at > window:
        fresh = "today's" if window <= timedelta(days=1) else "this week's" if window <= timedelta(days=7) else "recent"
        return newest, (f"The newest item about “{about}” (“{newest.title}”) is dated {when.day(at)}, "
                        f"{sources.age(now - at, day_only=False)}: it is not {fresh} news, and the drafts must not "
                        f"say it is.{extra}")
    return newest, f"Note: {'; '.join(problems)}." if problems else ""


def recent(*, feeds: list[str], limits: Limits, query: str = "", limit: int = 10
           ) -> tuple[list[FeedItem], list[str]]:
    """`/plume news [query]`: the newest items of the team's feeds (about `query` if given), and feed problems."""
    items, problems = read_all(feeds, limits=limits)
    words = words_of(query) if query else []
    if words:
        items = [i for i in items if matches(words, i)]
    items.sort(key=lambda i: i.published_at or "", reverse=True)
    return items[:limit], problems
