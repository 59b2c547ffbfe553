"""Slack under faults: a crash mid-brief, a saturated worker pool, a connection reset after Slack stored."""

import json
import threading
import time
from collections import Counter

from agents import nodes
from bot.slack import blocks
from tests.bot.slack.conftest import running
from tests.bot.slack.test_slack_e2e import card_posts, start, value
from tests.conftest import wait_for
from tests.fakes.copywriter import Copywriter
from tests.fakes.openai_server import FakeOpenAI

BRIEF = "Launch the Guji roast on LinkedIn and X https://tidewren.coffee/guji"


def test_a_crash_mid_brief_offers_retry_which_resumes_where_it_stopped(slack_settings, fake_slack, monkeypatch):
    real_draft, calls = nodes.draft, []

    def flaky_draft(state, ctx):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("worker died mid-draft")
        return real_draft(state, ctx)

    monkeypatch.setitem(nodes.ALL, "draft", flaky_draft)
    with running(slack_settings(), fake_slack) as run:
        assert start(run, BRIEF) == []
        said = json.dumps(fake_slack.calls_to("chat.update") + fake_slack.calls_to("chat.postMessage"))
        assert "nothing is lost" in said and blocks.RETRY in said
        run.send.click(blocks.RETRY, next(iter(_retry_values(fake_slack))), user="UANA")
        run.idle()
        assert len(card_posts(fake_slack)) == 2 and len(calls) == 2  # intake and retrieval were not redone


def _retry_values(slack):
    for call in slack.calls_to("chat.update") + slack.calls_to("chat.postMessage"):
        for block in call.get("blocks") or []:
            for element in block.get("elements", []):
                if element.get("action_id") == blocks.RETRY:
                    yield element["value"]


def test_modals_open_within_the_trigger_lifetime_while_the_model_is_busy(slack_settings, fake_slack):
    with FakeOpenAI(Copywriter().script) as fake:
        settings = slack_settings(plume_model="fake-model", openai_base_url=fake.base_url, openai_api_key="k")
        with running(settings, fake_slack) as run:
            card = start(run, BRIEF)[0]
            fake.delay = 4  # every model call now takes 4 s
            for n in range(4):  # keep the drafting workers busy with other briefs
                threading.Thread(target=run.send.mention, args=(BRIEF,), kwargs={"ts": f"17000009{n}0.000100"},
                                 daemon=True).start()
            time.sleep(0.5)
            clicked = time.monotonic()
            run.send.click(blocks.REQUEST_CHANGES, value(card), user="UANA", message_ts="1.1")
            opened = wait_for(lambda: [c for c in fake_slack.calls if c.method == "views.open"], timeout=10)
            assert opened[0].at - clicked < 3.0
            assert "expired_trigger_id" not in json.dumps(fake_slack.calls_to("views.open"))
            run.idle(120)


def test_a_reset_after_slack_stored_a_message_never_duplicates_it(plume_slack):
    run = plume_slack
    run.slack.fail("chat.postMessage", drop=True, times=2)  # the progress message and the first card
    first, second = start(run, BRIEF)  # the first card reached Slack, but Plume never heard its ts
    run.send.click(blocks.APPROVE, value(second), user="UBOSS")  # re-syncs the whole thread
    run.idle()
    posted = Counter(b["block_id"] for c in card_posts(run.slack) for b in c["blocks"]
                     if b.get("block_id", "").startswith("card:"))
    assert posted and max(posted.values()) == 1, posted
