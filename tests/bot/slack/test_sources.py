"""Fresh sources in Slack over signed requests: a card cites the page a brief links with its age (or says it was
not read), and /plume news lists the team's feed items with their age."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.bot.slack.conftest import running
from tests.bot.slack.test_slack_e2e import card_posts
from tests.fakes.web import FakeWeb, article, rss


@pytest.fixture
def web(monkeypatch):
    with FakeWeb(name="shop.tidewren.coffee") as site:
        site.resolving(monkeypatch)
        yield site


def test_a_card_cites_the_linked_page_with_its_age_and_an_unread_one_with_why(slack_settings, fake_slack, web):
    dated = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    page = web.page("/guji", article("Ethiopia Guji <launch>", "Our Ethiopia Guji is a natural from Guji.",
                                     published=dated))
    with running(slack_settings(plume_fetch_allow_private=True), fake_slack) as run:
        run.send.mention(f"Announce our Ethiopia Guji roast on LinkedIn {page} {web.url('/missing')}")
        run.idle()
        [card] = card_posts(fake_slack)
    shown = json.dumps(card["blocks"], ensure_ascii=False)
    assert "🔗 page “Ethiopia Guji &lt;launch&gt;” (Tidewren Roasters), fetched just now · dated" in shown
    assert "(2 days old)" in shown
    assert f"⚠ source not read: {web.url('/missing')} — the site answered HTTP 404" in shown


def test_plume_news_lists_recent_items_with_their_age(slack_settings, fake_slack, web):
    at = datetime.now(UTC) - timedelta(hours=3)
    feed = web.route("/feed.xml", rss([{"title": "Guji harvest starts early", "link": web.url("/n/1"), "published": at},
                                       {"title": "Port strike", "link": web.url("/n/2"), "published": at}]),
                     content_type="application/rss+xml")
    with running(slack_settings(plume_fetch_allow_private=True, plume_feeds=feed), fake_slack) as run:
        url = fake_slack.response_url("news")
        run.send.command("news guji", user="UMIA", response_url=url)
        run.idle()  # answers arrive in the order they finish: one at a time
        run.send.command("news", user="UMIA", response_url=url)
        run.idle()
    about, everything = (json.dumps(r, ensure_ascii=False) for r in fake_slack.responses[-2:])
    assert f"<{web.url('/n/1')}|Guji harvest starts early> — Coffee News, 3 h 00 min old" in about or \
        "Coffee News, 2 h 59 min old" in about
    assert "Port strike" not in about and "Port strike" in everything and "News about “guji”" in about


def test_plume_news_without_feeds_says_how_to_set_them(plume_slack):
    url = plume_slack.slack.response_url("news")
    plume_slack.send.command("news", user="UMIA", response_url=url)
    plume_slack.idle()
    assert "set `PLUME_FEEDS`" in json.dumps(plume_slack.slack.responses[-1])
