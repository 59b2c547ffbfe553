"""Publishing news in the thread over real HTTP: Retry, “It was posted” / “Post it again”, permalinks,
held posts, and moving posts with a time in words confirmed in the reader's zone."""

import json
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.slack import blocks
from core import audit as audit_log
from core import claims
from core.domain import Status
from core.when import When
from tests.bot.slack.test_commands_home import ask
from tests.bot.slack.test_slack_e2e import card_posts, ephemerals, start, stored, updates_of, value
from tests.conftest import wait_for

NEWS_TS = "1700000999.000001"  # the news message a button sits on (Slack sends its ts with the click)


def approve_all(run) -> list[int]:
    ids = []
    for card in start(run):
        run.send.click(blocks.APPROVE, value(card), user="UBOSS")
        ids.append(int(value(card).split(":")[0]))
        run.idle()  # one at a time: see the report on concurrent approvals in one thread
    assert all(stored(run.plume, i).status == Status.SCHEDULED for i in ids)
    return ids


def as_if_sent(run, post_id: int, outcome, **kw):
    """What the scheduler records after a send, then tells the front ends (the scheduler's notify hook)."""
    with run.plume.db.session() as session:
        claims.take_for_publishing(session, post_id=post_id)
        post = outcome(session, post_id=post_id, **kw)
    run.plume.scheduler.notify_hook(post)  # what the scheduler does after recording an outcome
    run.idle()
    return post


def news_for(run, post_id: int) -> dict:
    found = [m for m in run.slack.calls_to("chat.postMessage")
             if any(b.get("block_id") == f"post:{post_id}" for b in m.get("blocks") or [])]
    assert found, f"no news with buttons for post #{post_id}"
    return found[-1]


def buttons(message: dict) -> dict[str, str]:
    return {e["text"]["text"]: e["action_id"] for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]}


def said(run) -> list[str]:
    return [m["text"] for m in run.slack.calls_to("chat.postMessage")]


def audit(run, post_id: int) -> list[str]:
    with run.plume.db.session() as session:
        return [e.action for e in audit_log.trail(session, post_id)]


def test_a_failed_post_has_retry_for_approvers_only_and_a_double_click_retries_once(plume_slack):
    run = plume_slack
    post_id = approve_all(run)[0]
    as_if_sent(run, post_id, claims.mark_failed, reason="LinkedIn answered 503 three times")
    news = news_for(run, post_id)
    assert news["thread_ts"] == "1700000100.000100"
    assert "was not published: LinkedIn answered 503 three times" in news["text"]
    assert buttons(news) == {"Retry": blocks.RETRY_POST}
    assert {e["value"] for b in news["blocks"] if b["type"] == "actions" for e in b["elements"]} == {str(post_id)}

    run.send.click(blocks.RETRY_POST, str(post_id), user="UANA", message_ts=NEWS_TS, thread_ts="1700000100.000100")
    run.idle()
    assert "🙅 Only the team's approvers can retry a post." in ephemerals(run.slack, "UANA")[-1]
    assert stored(run.plume, post_id).status == Status.FAILED and updates_of(run.slack, NEWS_TS) == []

    clicks = [threading.Thread(target=run.send.click, args=(blocks.RETRY_POST, str(post_id)),
                               kwargs={"user": "UBOSS", "message_ts": NEWS_TS}) for _ in range(3)]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    run.idle()
    assert audit(run, post_id).count("post.retried") == 1
    done = updates_of(run.slack, NEWS_TS)[-1]
    assert "<@UBOSS> sent it again" in json.dumps(done) and buttons(done) == {}
    published = wait_for(lambda: stored(run.plume, post_id).status == Status.PUBLISHED and stored(run.plume, post_id))
    assert (run.plume.settings.outbox / f"post-{published.id}.json").exists()

    # A later click by another approver changes nothing and says who acted.
    run.send.click(blocks.RETRY_POST, str(post_id), user="UMIA", message_ts=NEWS_TS)
    run.idle()
    assert ephemerals(run.slack, "UMIA")[-1].startswith(f"Post #{post_id} is already published")
    assert audit(run, post_id).count("post.retried") == 1


def test_an_unknown_post_asks_a_human_and_each_answer_settles_it(plume_slack):
    run = plume_slack
    first, second = approve_all(run)
    for post_id in (first, second):
        as_if_sent(run, post_id, claims.mark_unknown, reason="the network timed out after the request was sent")
    news = news_for(run, first)
    assert "may or may not be on" in news["text"]
    assert buttons(news) == {"It was posted": blocks.POSTED, "Post it again": blocks.POST_AGAIN}
    key = stored(run.plume, second).publish_key

    run.send.click(blocks.POSTED, str(first), user="UANA", message_ts=NEWS_TS)
    run.idle()
    assert "Only the team's approvers can settle a post" in ephemerals(run.slack, "UANA")[-1]
    assert stored(run.plume, first).status == Status.UNKNOWN

    run.send.click(blocks.POSTED, str(first), user="UBOSS", message_ts=NEWS_TS)
    run.send.click(blocks.POST_AGAIN, str(second), user="UMIA", message_ts="1700000999.000002")
    run.idle()
    confirmed = stored(run.plume, first)
    assert confirmed.status == Status.PUBLISHED and confirmed.last_actor == "UBOSS"
    assert "<@UBOSS> confirmed it is on" in json.dumps(updates_of(run.slack, NEWS_TS)[-1])
    again = updates_of(run.slack, "1700000999.000002")[-1]
    assert "<@UMIA> asked to post it again" in json.dumps(again) and buttons(again) == {}
    sent = wait_for(lambda: stored(run.plume, second).status == Status.PUBLISHED and stored(run.plume, second))
    assert sent.publish_key == key  # the same idempotency key as the attempt that may have gone through
    assert audit(run, second)[-4:] == ["post.not_posted", "post.retried", "post.publishing", "post.published"]


def test_published_news_and_the_card_carry_the_permalink(plume_slack):
    run = plume_slack
    post_id = next(i for i in approve_all(run) if stored(run.plume, i).network == "linkedin")
    url = "https://www.linkedin.com/feed/update/urn:li:share:7000000000000000001"
    as_if_sent(run, post_id, claims.mark_published, ref="urn:li:share:7000000000000000001", url=url)
    link = f"<{url}|View on LinkedIn>"
    assert any(text.startswith(f"📤 Published post #{post_id}") and link in text for text in said(run))
    card = [u for u in run.slack.calls_to("chat.update") if f"post #{post_id}" in json.dumps(u)][-1]
    assert link in json.dumps(card) and "published" in json.dumps(card)


def test_a_post_held_at_start_up_says_why_and_publish_now_releases_it(plume_slack):
    run = plume_slack
    post_id = approve_all(run)[0]
    with run.plume.db.session() as session:  # what start-up recovery does with a post far past its time
        post = claims.hold_overdue(session, post_id=post_id, reason="its time passed 5 h ago while Plume was "
                                                                    "not running; retry it to publish now, or move it")
    run.plume.scheduler.notify_hook(post)  # what the scheduler does after recording an outcome
    run.idle()
    news = news_for(run, post_id)
    text = json.dumps(news, ensure_ascii=False)
    assert "is held: its time passed 5 h ago" in text and "move it to tomorrow 9am" in text
    assert buttons(news) == {"Publish now": blocks.RETRY_POST}
    run.send.click(blocks.RETRY_POST, str(post_id), user="UMIA", message_ts=NEWS_TS)
    run.idle()
    wait_for(lambda: stored(run.plume, post_id).status == Status.PUBLISHED)


def test_a_thread_reply_moves_posts_with_a_time_in_words_confirmed_in_the_readers_zone(plume_slack):
    run = plume_slack
    run.slack.user_zones["UBOSS"] = "America/New_York"
    linkedin, x = sorted(approve_all(run), key=lambda i: stored(run.plume, i).network)
    x_time = stored(run.plume, x).run_at
    run.slack.reset()
    run.send.reply("move the LinkedIn one to next Tuesday 9am Paris", thread_ts="1700000100.000100", user="UBOSS")
    run.idle()
    paris = ZoneInfo("Europe/Paris")
    now = datetime.now(paris)
    tuesday = (now + timedelta(days=(1 - now.weekday()) % 7 or 7)).replace(hour=9, minute=0, second=0, microsecond=0)
    moved = stored(run.plume, linkedin)
    assert moved.status == Status.SCHEDULED and datetime.fromisoformat(moved.run_at) == tuesday
    assert stored(run.plume, x).run_at == x_time and audit(run, x).count("post.moved") == 0  # not named
    [reply] = run.slack.calls_to("chat.postMessage")
    shown = When(at=tuesday, zone="America/New_York").describe()
    assert reply["thread_ts"] == "1700000100.000100" and f"moved post #{linkedin}" in reply["text"]
    assert shown in reply["text"] and "03:00 America/New_York" in shown
    assert audit(run, linkedin).count("post.moved") == 1

    # Only approvers move approved posts; times in the past, unreadable, or during a hold are refused.
    run.send.reply("move it to tomorrow 10am", thread_ts="1700000100.000100", user="UANA")
    run.idle()
    assert "Only the team's approvers can move a scheduled post" in ephemerals(run.slack, "UANA")[-1]
    past = (now - timedelta(days=2)).date().isoformat()
    run.send.reply(f"reschedule it for {past} 09:00", thread_ts="1700000100.000100", user="UBOSS")
    run.send.reply("postpone it until the cows come home", thread_ts="1700000100.000100", user="UBOSS")
    run.idle()
    answers = " | ".join(ephemerals(run.slack, "UBOSS")[-2:])  # handled side by side: either order
    assert "is in the past" in answers and "I couldn't read a date or time in “the cows come home”" in answers
    assert "on hold" in ask(run, "hold launch moved")
    run.send.reply("move it to tomorrow 9am", thread_ts="1700000100.000100", user="UBOSS")
    run.idle()
    assert "Publishing is on hold" in ephemerals(run.slack, "UBOSS")[-1]
    assert datetime.fromisoformat(stored(run.plume, linkedin).run_at) == tuesday
    assert audit(run, linkedin).count("post.moved") == 1


def test_a_thread_reply_moves_a_draft_and_it_comes_back_for_approval(plume_slack):
    run = plume_slack
    cards = start(run)
    x_card = next(c for c in cards if "X ·" in c["text"])
    x_id = int(value(x_card).split(":")[0])
    run.send.reply("move the X post to tomorrow at 14:00", thread_ts="1700000100.000100", user="UANA")
    run.idle()
    paris = ZoneInfo("Europe/Paris")
    tomorrow = (datetime.now(paris) + timedelta(days=1)).replace(hour=14, minute=0, second=0, microsecond=0)
    post = stored(run.plume, x_id)
    assert post.status == Status.AWAITING_APPROVAL and post.version == 2
    assert datetime.fromisoformat(post.run_at) == tomorrow
    fresh = [c for c in card_posts(run.slack) if value(c) == f"{x_id}:2"]
    assert len(fresh) == 1 and "Proposed: *" in json.dumps(fresh[0])
    assert any("still needs an approval" in text for text in said(run))
    # A reply that is not about time is still a change request.
    run.send.reply("publish the price too", thread_ts="1700000100.000100", user="UANA")
    run.idle()
    assert any("Asking for changes on 2 drafts" in text for text in said(run))


def test_queue_shows_times_in_the_readers_zone_and_what_needs_a_human(plume_slack):
    run = plume_slack
    first, second = approve_all(run)
    as_if_sent(run, second, claims.mark_unknown, reason="timed out")
    run.slack.user_zones["UBOSS"] = "Asia/Tokyo"
    shown = ask(run, "queue")
    at = datetime.fromisoformat(stored(run.plume, first).run_at).astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"`{at:%H:%M}` #{first}" in shown and "Times in Asia/Tokyo" in shown
    assert f"Needs a human:* #{second}" in shown and "(unknown)" in shown


def test_a_failed_post_is_retried_at_a_time_in_words_from_a_thread_reply(plume_slack):
    run = plume_slack
    post_id = approve_all(run)[0]
    as_if_sent(run, post_id, claims.mark_failed, reason="Mastodon answered 401: the token was revoked")
    run.send.reply("retry it tomorrow 9am", thread_ts="1700000100.000100", user="UMIA")
    run.idle()
    tomorrow = (datetime.now(ZoneInfo("Europe/Paris")) + timedelta(days=1)).replace(hour=9, minute=0, second=0,
                                                                                   microsecond=0)
    post = stored(run.plume, post_id)
    assert post.status == Status.SCHEDULED and datetime.fromisoformat(post.run_at) == tomorrow
    assert any(f"<@UMIA> put post #{post_id}" in text and "back on the schedule for" in text
               and When(at=tomorrow, zone="Europe/Paris").describe() in text for text in said(run))
    assert audit(run, post_id)[-1] == "post.retried"
