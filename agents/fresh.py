"""The read_sources node: pages linked in the brief and, for a news brief, the matching item of the team's
feeds, fetched (knowledge.sources), stored (core.sources) and handed to the drafts as quoted data."""

from __future__ import annotations

import contextlib
import math
from dataclasses import replace
from datetime import datetime

import regex

from agents.state import BriefState, Context
from core import grounding, platforms, sources, when
from core.domain import Brief
from core.grounding import fold
from knowledge.sources import FeedItem, Limits, SourceUnavailable, fetch, read_feed

MAX_LINKS = 3  # pages read per brief: what a post can cite, not a crawl
PROMPT_CHARS = 2500  # of each source's text quoted to the model
NEWS = regex.compile(
    r"(?i)\bnews\s+(?:about|on|around|regarding|from)\s+(?P<topic>[^.!?\n]+)"
    r"|\b(?:actualit[ée]s?|nouvelles|infos?)\s+(?:du\s+jour\s+|de\s+la\s+semaine\s+)?"
    r"(?:sur|concernant|autour\s+de|à\s+propos\s+de|a\s+propos\s+de|de)\s+(?P<topic2>[^.!?\n]+)")
STOP = {"the", "a", "an", "of", "and", "or", "in", "on", "for", "to", "our", "about", "with", "le", "la", "les",
        "de", "des", "du", "et", "en", "sur", "un", "une", "nos", "notre", "linkedin", "twitter", "bluesky",
        "mastodon", "instagram", "threads", "facebook", "post", "posts", "english", "french", "anglais",
        "francais", "tomorrow", "today", "demain", "morning", "matin"}


def read_sources(state: BriefState, ctx: Context) -> dict:
    """Read what the brief points to. Nothing here waits for a human; a run that repeats after a crash
    stores the same rows again (core.sources.save replaces them)."""
    brief = Brief.from_dict(state["brief"])
    limits = Limits.from_settings(ctx.settings)
    now = ctx.clock()
    notes = list(state.get("notes", []))
    found = [page_source(link, limits=limits, now=now) for link in brief.links[:MAX_LINKS]]
    topic = news_topic(brief.text)
    if topic:
        item, note = pick_news(topic, feeds=ctx.settings.feeds, limits=limits, now=now,
                               window=grounding.window_of(brief.text))
        if note:
            notes.append(note)
        if item is not None:
            found.append(news_source(item, limits=limits, now=now))
    notes += [f"Source not read: {s['url']} — {s['error']}. The drafts do not use it." for s in found if s.get("error")]
    with ctx.db.session() as session:
        stored = [sources.save(session, thread_id=state["thread_id"], source=s) for s in found]
    return {"sources": stored, "notes": notes}


def page_source(link: str, *, limits: Limits, now: datetime) -> dict:
    url = link if "://" in link else f"https://{link}"
    try:
        page = fetch(url, limits=limits, now=now)
    except SourceUnavailable as exc:
        return {"url": url, "kind": "html", "fetched_at": now.isoformat(), "error": str(exc)}
    return {"url": url, "final_url": page.final_url, "kind": page.kind, "title": page.title,
            "site_name": page.site_name, "description": page.description, "fetched_at": page.fetched_at,
            "published_at": page.published_at, "text": page.text, "error": ""}


def news_source(item: FeedItem, *, limits: Limits, now: datetime) -> dict:
    """A feed item as a source: its own date, its summary, and its article's text when that can be read."""
    text = "\n".join(filter(None, [item.title, item.summary]))
    if item.link:
        with contextlib.suppress(SourceUnavailable):  # the feed's summary is still a dated source
            text += "\n" + fetch(item.link, limits=limits, now=now).text
    return {"url": item.link or item.feed_url, "final_url": item.link or item.feed_url, "kind": "news",
            "title": item.title, "site_name": item.feed_title, "fetched_at": now.isoformat(),
            "published_at": item.published_at, "text": text, "feed_url": item.feed_url, "error": ""}


# --- news -------------------------------------------------------------------------------------------

def news_topic(text: str) -> str | None:
    """What a news brief is about: “react to today's news about the Guji harvest” → “the Guji harvest”."""
    found = NEWS.search(platforms.blank(text))
    if not found:
        return None
    topic = (found["topic"] or found["topic2"] or "").strip()
    return " ".join(topic.split()[:12]) or None


def topic_words(topic: str) -> list[str]:
    words = regex.findall(r"[\p{L}\p{N}]{3,}", fold(topic))
    return [w for w in dict.fromkeys(words) if w not in STOP]


def matches(words: list[str], item: FeedItem) -> int:
    """How many of the topic's words the item's title and summary share (a short ending aside)."""
    said = set(regex.findall(r"[\p{L}\p{N}]{3,}", fold(f"{item.title} {item.summary}")))
    return sum(any(w == s or (len(w) >= 5 and s.startswith(w[:-1])) or (len(s) >= 5 and w.startswith(s[:-1]))
                   for s in said) for w in words)


def pick_news(topic: str, *, feeds: list[str], limits: Limits, now: datetime,
              window) -> tuple[FeedItem | None, str]:
    """The freshest item about `topic` in the team's feeds, and a note when it is not what was asked."""
    if not feeds:
        return None, (f"This brief asks for news about “{topic}”, but no feeds are configured (PLUME_FEEDS): "
                      "drafting from the brief alone.")
    items: list[FeedItem] = []
    problems = []
    for feed in feeds:
        try:
            items += read_feed(feed, limits=limits)
        except SourceUnavailable as exc:
            problems.append(f"feed {feed} not read ({exc})")
    words = topic_words(topic)
    needed = max(1, math.ceil(len(words) / 2))
    scored = [(matches(words, item), item) for item in items]
    relevant = [item for score, item in scored if score >= needed]
    extra = f" ({'; '.join(problems)})" if problems else ""
    if not relevant:
        return None, f"No item about “{topic}” in the team's feeds{extra}: drafting from the brief alone."
    newest = max(relevant, key=lambda i: i.published_at or "")
    at = sources.published({"published_at": newest.published_at})
    if at is None:
        return newest, f"The news item “{newest.title}” has no date: check it is recent before approving.{extra}"
    if now - at > window:
        return newest, (f"The newest item about “{topic}” (“{newest.title}”) is dated {when.day(at)}, "
                        f"{sources.age(now - at, day_only=False)}: it is not today's news, and the drafts must not "
                        f"say it is.{extra}")
    return newest, f"Note: {'; '.join(problems)}." if problems else ""


def recent_news(*, feeds: list[str], limits: Limits, query: str = "", limit: int = 10
                ) -> tuple[list[FeedItem], list[str]]:
    """`/plume news [query]`: the newest items of the team's feeds (about `query` if given), and feed problems."""
    items: list[FeedItem] = []
    problems = []
    for feed in feeds:
        try:
            items += read_feed(feed, limits=limits)
        except SourceUnavailable as exc:
            problems.append(f"{feed}: {exc}")
    words = topic_words(query) if query else []
    if words:
        items = [i for i in items if matches(words, i)]
    items.sort(key=lambda i: i.published_at or "", reverse=True)
    return items[:limit], problems


# --- handing sources to the model, and to offline templates --------------------------------------------

def prompt_block(found: list[dict]) -> str:
    """The sources as quoted data for a prompt, each clearly delimited (never instructions)."""
    if not found:
        return "(none)"
    blocks = []
    for source in found:
        if source.get("error"):
            blocks.append(f"[{source.get('id', '?')}] NOT READ ({source['error']}): {source['url']} — state "
                          "nothing about it.")
            continue
        dated = f"dated {source['published_at']}" if source.get("published_at") else "undated"
        text = source.get("text", "")[:PROMPT_CHARS].replace("<<<", "‹‹‹").replace(">>>", "›››")
        blocks.append(f"[{source.get('id', '?')}] {sources.NOUNS.get(source.get('kind', ''), 'page')} "
                      f"“{source.get('title', '')}” — {source.get('final_url') or source['url']} — {dated}, "
                      f"fetched {source.get('fetched_at', '')}\n<<<\n{text}\n>>>")
    return "\n\n".join(blocks)


def offline_brief(brief: Brief, found: list[dict]) -> Brief:
    """Offline templates draft a news brief from its item: the item's title as the message, its link added."""
    news = next((s for s in found if s.get("kind") == "news" and not s.get("error")), None)
    if news is None:
        return brief
    links = list(dict.fromkeys([*brief.links, news["url"]]))
    return replace(brief, key_message=news["title"], links=links)
