"""The read_sources node: pages linked in the brief and, for a news brief, the matching item of the team's
feeds, fetched (knowledge.sources), stored (core.sources) and handed to the drafts as quoted data."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime

from agents.state import BriefState, Context
from core import grounding, sources
from core.domain import Brief
from knowledge import news
from knowledge.sources import FeedItem, Limits, SourceUnavailable, fetch

MAX_LINKS = 3  # pages read per brief: what a post can cite, not a crawl
PROMPT_CHARS = 2500  # of each source's text quoted to the model
def read_sources(state: BriefState, ctx: Context) -> dict:
    """Read what the brief points to. Nothing here waits for a human; a run that repeats after a crash
    stores the same rows again (core.sources.save replaces them)."""
    brief = Brief.from_dict(state["brief"])
    limits = Limits.from_settings(ctx.settings)
    now = ctx.clock()
    notes = list(state.get("notes", []))
    found = [page_source(link, limits=limits, now=now) for link in brief.links[:MAX_LINKS]]
    topic = news.topic(brief.text)
    if topic:
        item, note = news.pick(topic, feeds=ctx.settings.feeds, limits=limits, now=now,
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
