"""News: the recent items of the team's feeds (PLUME_FEEDS), for `/plume news` and the shell's `news`."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge import news
from knowledge.sources import FeedItem, Limits


@dataclass
class Headlines:
    items: list[FeedItem]
    problems: list[str] = field(default_factory=list)  # feeds that could not be read, and why
    feeds: int = 0  # how many feeds are configured


class News:
    def __init__(self, *, feeds: list[str], limits: Limits):
        self.feeds = feeds
        self.limits = limits

    def recent(self, query: str = "", *, limit: int = 10) -> Headlines:
        """The newest items (about `query` when given), newest first; a feed that fails is named, not fatal."""
        items, problems = news.recent(feeds=self.feeds, limits=self.limits, query=query, limit=limit)
        return Headlines(items, problems, len(self.feeds))
