"""The two failures every front end handles the same way (the service handles them once), through signed
Slack requests: a decision recorded whose follow-up fails, and a storage error during a click."""

import json

from sqlalchemy.exc import OperationalError

from agents import nodes
from bot.slack import blocks
from core import posts
from core.domain import Status
from tests.bot.slack.test_slack_e2e import ephemerals, start, stored, value


def test_an_approval_whose_scheduling_fails_is_reported_as_recorded_with_a_retry(plume_slack, monkeypatch):
    run = plume_slack
    card = start(run)[0]
    post_id = int(value(card).split(":")[0])
    real_schedule = posts.schedule

    def broken(*args, **kwargs):
        raise RuntimeError("the job store is unreachable")

    monkeypatch.setattr(nodes.posts, "schedule", broken)
    run.send.click(blocks.APPROVE, value(card), user="UBOSS")
    run.idle()
    assert stored(run.plume, post_id).status == Status.APPROVED  # the decision stands
    told = [m for m in run.slack.calls_to("chat.postMessage") if "is recorded" in m["text"]]
    assert len(told) == 1 and told[0]["thread_ts"] == "1700000100.000100"
    assert f"Your approval of post #{post_id} is recorded, but scheduling it did not finish" in told[0]["text"]
    assert "Nothing was changed" not in json.dumps([c.args for c in run.slack.calls])
    retry = next(b for b in told[0]["blocks"] if b["type"] == "actions")["elements"][0]
    assert retry["text"]["text"] == "Retry" and retry["action_id"] == blocks.RETRY

    # Once the cause is gone, Retry carries the brief on: the post is scheduled, once.
    monkeypatch.setattr(nodes.posts, "schedule", real_schedule)
    run.send.click(blocks.RETRY, retry["value"], user="UBOSS")
    run.idle()
    post = stored(run.plume, post_id)
    assert post.status == Status.SCHEDULED and post.approved_by == "UBOSS"
    assert ephemerals(run.slack, "UBOSS") == []


def test_a_storage_error_during_a_click_gives_the_click_back(plume_slack, monkeypatch):
    run = plume_slack
    card = start(run)[0]
    post_id = int(value(card).split(":")[0])
    real_decide = posts.decide
    failures = []

    def locked_once(session, decision, **kwargs):
        if not failures:
            failures.append(decision.post_id)
            raise OperationalError("UPDATE posts", {}, Exception("database is locked"))
        return real_decide(session, decision, **kwargs)

    monkeypatch.setattr(posts, "decide", locked_once)
    run.send.click(blocks.APPROVE, value(card), user="UBOSS")
    run.idle()
    assert failures == [post_id] and stored(run.plume, post_id).status == Status.AWAITING_APPROVAL
    [refusal] = ephemerals(run.slack, "UBOSS")
    assert "database is unavailable" in refusal and "Nothing was changed" in refusal

    # The same click again (same person, same card version) is not taken for a duplicate: it approves.
    run.send.click(blocks.APPROVE, value(card), user="UBOSS")
    run.idle()
    post = stored(run.plume, post_id)
    assert post.status == Status.SCHEDULED and post.approved_by == "UBOSS"
