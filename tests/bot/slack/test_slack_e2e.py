"""End to end over real HTTP: signed requests into the real app, a fake Slack Web API recording the answers."""

import json
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.slack import blocks
from core import audit, posts
from core.domain import Status
from core.when import When
from tests.bot.slack.conftest import running
from tests.conftest import wait_for
from tests.fakes.copywriter import Copywriter
from tests.fakes.openai_server import FakeOpenAI

BRIEF = "Announce our new Ethiopia Guji roast on LinkedIn and X"


def card_posts(slack) -> list[dict]:
    return [c for c in slack.calls_to("chat.postMessage")
            if any(b.get("block_id", "").startswith("card:") for b in c.get("blocks") or [])]


def value(card: dict) -> str:
    return next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0]["value"]


def stored(plume, post_id: int):
    with plume.db.session() as session:
        return posts.get(session, post_id)


def updates_of(slack, ts: str) -> list[dict]:
    return [u for u in slack.calls_to("chat.update") if u["ts"] == ts]


def ephemerals(slack, user: str) -> list[str]:
    return [e["text"] for e in slack.calls_to("chat.postEphemeral") if e["user"] == user]


def start(run, text=BRIEF, ts="1700000100.000100") -> list[dict]:
    answer = run.send.mention(text, ts=ts)
    assert answer.status == 200
    run.idle()
    return card_posts(run.slack)


def test_mention_to_cards_to_approve_to_scheduled(plume_slack):
    run = plume_slack
    cards = start(run)
    assert len(cards) == 2  # LinkedIn and X, English
    progress = run.slack.calls_to("chat.postMessage")[0]
    assert progress["thread_ts"] == "1700000100.000100" and "Working on your brief" in progress["text"]
    final = updates_of(run.slack, "1700000000.000001")[-1]
    assert "Ready for review — 2 drafts below" in final["text"]
    assert all(c["thread_ts"] == "1700000100.000100" for c in cards)
    text = json.dumps(cards[0], ensure_ascii=False)
    assert "Length *" in text and "📚 Cites: " in text and "🕘 Proposed:" in text and "Europe/Paris" in text

    post_id = int(value(cards[0]).split(":")[0])
    answer = run.send.click(blocks.APPROVE, value(cards[0]), user="UBOSS", message_ts="x")
    assert answer.status == 200 and answer.seconds < 1
    run.idle()
    post = stored(run.plume, post_id)
    assert post.status == Status.SCHEDULED and post.approved_by == "UBOSS"
    updated = [u for u in run.slack.calls_to("chat.update") if f"post #{post_id}" in json.dumps(u)]
    last = updated[-1]
    assert not any(b["type"] == "actions" for b in last["blocks"])
    assert "Approved by <@UBOSS>" in json.dumps(last) and "scheduled for" in json.dumps(last)

    # A click on the old card answers who decided, and changes nothing.
    run.send.click(blocks.APPROVE, value(cards[0]), user="UMIA")
    run.idle()
    assert ephemerals(run.slack, "UMIA") == ["Already approved by <@UBOSS>. Nothing was changed."]
    assert stored(run.plume, post_id).approved_by == "UBOSS"


def test_unauthorized_click_is_refused_politely_and_nothing_changes(plume_slack):
    run = plume_slack
    cards = start(run)
    post_id = int(value(cards[0]).split(":")[0])
    before = len(run.slack.calls_to("chat.update"))
    run.send.click(blocks.APPROVE, value(cards[0]), user="UANA")
    run.send.click(blocks.REJECT, value(cards[0]), user="UANA")
    run.idle()
    refusals = ephemerals(run.slack, "UANA")
    assert len(refusals) == 2 and all("Only the team's approvers" in r for r in refusals)
    assert stored(run.plume, post_id).status == Status.AWAITING_APPROVAL
    assert run.slack.calls_to("views.open") == []  # no Reject modal for a non-approver
    assert len(run.slack.calls_to("chat.update")) == before


def test_duplicate_deliveries_and_double_clicks_do_the_work_once(plume_slack):
    run = plume_slack
    for attempt in range(4):
        run.send.mention(BRIEF, ts="1700000200.000200", event_id="EvSAME", retry=attempt or None)
        time.sleep(0.3 * attempt)
    # The same message also arrives as a plain message event with its own event id.
    run.send.event({"type": "message", "channel_type": "channel", "user": "UANA", "text": f"<@UPLUME> {BRIEF}",
                    "channel": "CMKT", "ts": "1700000200.000200"})
    run.idle()
    progress = [c for c in run.slack.calls_to("chat.postMessage") if "Working on your brief" in c["text"]]
    assert len(progress) == 1 and len(card_posts(run.slack)) == 2

    card = card_posts(run.slack)[0]
    post_id = int(value(card).split(":")[0])
    clicks = [threading.Thread(target=run.send.click, args=(blocks.APPROVE, value(card)), kwargs={"user": "UBOSS"})
              for _ in range(3)]
    for c in clicks:
        c.start()
    for c in clicks:
        c.join()
    run.idle()
    with run.plume.db.session() as session:
        trail = [e.action for e in audit.trail(session, post_id)]
    assert trail.count("post.approved") == 1 and trail.count("post.scheduled") == 1
    assert ephemerals(run.slack, "UBOSS") == []  # one click counted; its twins were dropped quietly


def test_two_approvers_at_once_exactly_one_wins_and_the_other_is_told(plume_slack):
    run = plume_slack
    card = start(run)[0]
    post_id = int(value(card).split(":")[0])
    barrier = threading.Barrier(2)

    def click(user):
        barrier.wait()
        run.send.click(blocks.APPROVE, value(card), user=user)

    threads = [threading.Thread(target=click, args=(u,)) for u in ("UBOSS", "UMIA")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.idle()
    post = stored(run.plume, post_id)
    loser = "UMIA" if post.approved_by == "UBOSS" else "UBOSS"
    assert post.status == Status.SCHEDULED
    assert ephemerals(run.slack, loser) == [f"Already approved by <@{post.approved_by}>. Nothing was changed."]
    with run.plume.db.session() as session:
        actions = [e.action for e in audit.trail(session, post_id)]
    assert actions.count("post.approved") == 1 and actions.count("post.scheduled") == 1


@pytest.mark.parametrize("how", ["tampered", "altered", "old", "future", "unsigned"])
def test_bad_signature_or_stale_timestamp_is_401_with_no_side_effect(plume_slack, how):
    run = plume_slack
    now = int(time.time())
    kw = {"tampered": {"tamper": True}, "altered": {"tamper": (b"Guji", b"Guj1")}, "old": {"timestamp": now - 301}, "future": {"timestamp": now + 301},
          "unsigned": {}}[how]
    if how == "unsigned":
        run.send.secret = "not-the-secret"
    answer = run.send.mention(BRIEF, ts="1700000300.000300", **kw)
    assert answer.status == 401
    run.idle()
    assert [c.method for c in run.slack.calls if c.method not in ("auth.test", "usergroups.users.list")] == []
    with run.plume.db.session() as session:
        assert posts.open_threads(session) == []


def test_form_bodies_with_plus_and_percent_encodings_still_verify(plume_slack):
    run = plume_slack
    body = ("token=legacy&team_id=T0001&channel_id=CMKT&user_id=UANA&command=%2Fplume&text=guidelines+emoji%20policy"
            f"&response_url={run.slack.response_url('enc')}&trigger_id=t").encode()
    assert run.send.send(body, "application/x-www-form-urlencoded").status == 200
    run.idle()
    assert "emoji policy" in json.dumps(run.slack.responses[-1], ensure_ascii=False)


def test_edit_modal_rechecks_and_shows_the_new_version_before_approval(plume_slack):
    run = plume_slack
    card = start(run)[0]
    post_id, version = map(int, value(card).split(":"))
    run.send.click(blocks.EDIT, value(card), user="UANA", message_ts=card.get("ts", "1"))
    run.idle()
    view = run.slack.calls_to("views.open")[-1]["view"]
    assert view["callback_id"] == blocks.EDIT_VIEW
    assert view["blocks"][1]["element"]["initial_value"] == stored(run.plume, post_id).text
    # An empty text is refused inside the modal, in the ack.
    empty = run.send.submit(view, {"text": {"type": "plain_text_input", "value": "  "}}, user="UANA")
    assert empty.json() == {"response_action": "errors", "errors": {"text": "The text can't be empty."}}
    # The time is typed in words, read in the editor's zone; unreadable or past times are refused in the modal.
    assert view["blocks"][2]["element"]["type"] == "plain_text_input"
    text = {"type": "plain_text_input", "value": "Guji is here & it's <!here> good"}
    for typed, problem in (("whenever", "I couldn't read a date or time in “whenever”"),
                           ("2020-01-01 09:00", "is in the past")):
        refused = run.send.submit(view, {"text": text, "when": {"type": "plain_text_input", "value": typed}},
                                  user="UANA")
        assert problem in refused.json()["errors"]["when"]
    answer = run.send.submit(view, {"text": text, "when": {"type": "plain_text_input", "value": "tomorrow 9am"}},
                             user="UANA")
    assert answer.status == 200 and answer.body == ""
    run.idle()
    post = stored(run.plume, post_id)
    assert post.status == Status.AWAITING_APPROVAL and post.version == version + 1
    assert post.text == "Guji is here & it's <!here> good"
    tomorrow = (datetime.now(ZoneInfo("Europe/Paris")) + timedelta(days=1)).replace(hour=9, minute=0, second=0,
                                                                                   microsecond=0)
    assert datetime.fromisoformat(post.run_at) == tomorrow
    assert f"now proposed for *{When(at=tomorrow, zone='Europe/Paris').describe()}*" in ephemerals(run.slack, "UANA")[-1]
    fresh = [c for c in card_posts(run.slack) if value(c) == f"{post_id}:{version + 1}"]
    assert len(fresh) == 1 and "&lt;!here&gt;" in json.dumps(fresh[0]) and "<!here>" not in json.dumps(fresh[0])
    assert "Length *" in json.dumps(fresh[0])
    old = [u for u in run.slack.calls_to("chat.update") if "Edited by <@UANA>" in json.dumps(u)]
    assert old, "the old card says it was edited and by whom"
    # The old card's Approve is now stale; the new one works.
    run.send.click(blocks.APPROVE, value(card), user="UBOSS")
    run.idle()
    assert "changed since you saw it" in ephemerals(run.slack, "UBOSS")[-1]
    run.send.click(blocks.APPROVE, value(fresh[0]), user="UBOSS")
    run.idle()
    assert stored(run.plume, post_id).status == Status.SCHEDULED


def test_reject_with_an_optional_reason(plume_slack):
    run = plume_slack
    card = start(run)[0]
    post_id = int(value(card).split(":")[0])
    run.send.click(blocks.REJECT, value(card), user="UMIA")
    run.idle()
    view = run.slack.calls_to("views.open")[-1]["view"]
    assert view["callback_id"] == blocks.REJECT_VIEW
    run.send.submit(view, {"reason": {"type": "plain_text_input", "value": None}}, user="UMIA")
    run.idle()
    post = stored(run.plume, post_id)
    assert post.status == Status.REJECTED and post.last_actor == "UMIA"
    assert any("Rejected by <@UMIA>" in json.dumps(u) for u in run.slack.calls_to("chat.update"))


def test_restart_while_a_card_is_pending_then_approve(slack_settings, fake_slack):
    settings = slack_settings()
    with running(settings, fake_slack) as run:
        card = start(run)[0]
    post_id = int(value(card).split(":")[0])
    fake_slack.reset()
    with running(settings, fake_slack) as run:
        run.send.click(blocks.APPROVE, value(card), user="UBOSS")
        run.idle()
        assert stored(run.plume, post_id).status == Status.SCHEDULED
        assert any("Approved by <@UBOSS>" in json.dumps(u) for u in fake_slack.calls_to("chat.update"))
        # A redelivery of the first brief's event after the restart is still recognised.
        assert card_posts(fake_slack) == []


def test_rate_limited_post_waits_for_retry_after_and_posts_once(plume_slack):
    run = plume_slack
    run.slack.fail("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    start(run)
    attempts = [c for c in run.slack.calls if c.method == "chat.postMessage"]
    assert attempts[1].at - attempts[0].at >= 0.9
    progress = [c for c in run.slack.calls_to("chat.postMessage") if "Working on your brief" in c["text"]]
    assert len(progress) == 2  # the 429'd attempt and its single retry: one message stored
    assert len(card_posts(run.slack)) == 2 and time.monotonic() - started < 20


def test_slack_errors_are_reported_clearly_and_invalid_blocks_fall_back_to_text(plume_slack, caplog):
    run = plume_slack
    run.slack.fail("chat.postMessage", "not_in_channel")
    run.slack.fail("chat.update", "invalid_blocks", times=1)
    start(run)
    assert "invite @Plume to that channel" in caplog.text
    texts_only = [u for u in run.slack.calls_to("chat.update") if not u.get("blocks")]
    assert texts_only, "a refused block payload is sent again as text"
    assert len(card_posts(run.slack)) == 2  # the brief carried on


def test_later_thread_messages_and_empty_briefs(plume_slack):
    run = plume_slack
    answer = run.send.mention("", ts="1700000400.000400")
    assert answer.status == 200
    run.idle()
    assert "✗" in run.slack.calls_to("chat.update")[-1]["text"]
    start(run, ts="1700000500.000500")
    # A plain reply in a thread Plume does not own is ignored; in its own thread it is a change request.
    run.send.reply("nice", thread_ts="1699999999.000001")
    run.idle()
    run.slack.reset()
    run.send.reply("shorter please", thread_ts="1700000500.000500", user="UANA")
    run.idle()
    said = [c["text"] for c in run.slack.calls_to("chat.postMessage")]
    assert any("Asking for changes on 2 drafts" in s for s in said)
    with run.plume.db.session() as session:
        events = [e for p in posts.with_status(session, list(Status)) for e in audit.trail(session, p.id)]
    assert sum(e.action == "post.changes_requested" for e in events) >= 2


def test_ack_is_fast_while_the_model_is_slow(slack_settings, fake_slack):
    with FakeOpenAI(Copywriter().script, delay=3) as model:
        settings = slack_settings(plume_model="fake-model", openai_base_url=model.base_url, openai_api_key="k")
        with running(settings, fake_slack) as run:
            answers = [run.send.mention(BRIEF, ts=f"1700000600.00060{i}") for i in range(3)]
            assert all(a.status == 200 and a.seconds < 0.5 for a in answers)
            health = __import__("urllib.request").request.urlopen(run.server.url + "/healthz", timeout=5)
            assert health.status == 200 and json.loads(health.read())["ok"] is True


def test_request_changes_modal_revises_the_draft_with_the_model(slack_settings, fake_slack):
    with FakeOpenAI(Copywriter().script) as model:
        settings = slack_settings(plume_model="fake-model", openai_base_url=model.base_url, openai_api_key="k")
        with running(settings, fake_slack) as run:
            card = start(run)[0]
            post_id, version = map(int, value(card).split(":"))
            run.send.click(blocks.REQUEST_CHANGES, value(card), user="UANA")
            run.idle()
            view = fake_slack.calls_to("views.open")[-1]["view"]
            assert view["callback_id"] == blocks.CHANGES_VIEW
            nothing = run.send.submit(view, {"reasons": {"type": "checkboxes", "selected_options": []}}, user="UANA")
            assert nothing.json()["response_action"] == "errors"
            before = model.calls
            run.send.submit(view, {"reasons": {"type": "checkboxes", "selected_options": [{"value": "format"}]},
                                   "details": {"type": "plain_text_input", "value": "make it shorter please"}},
                            user="UANA")
            run.idle()
            assert model.calls == before + 1
            assert "Reviewer asked: Format/length: make it shorter please" in model.requests[-1]["messages"][-1]["content"]
            post = stored(run.plume, post_id)
            assert post.status == Status.AWAITING_APPROVAL and post.version == version + 1
            revised = [c for c in card_posts(fake_slack) if value(c) == f"{post_id}:{version + 1}"]
            assert len(revised) == 1 and revised[0]["thread_ts"] == card["thread_ts"]
            assert any("Changes requested by <@UANA>" in json.dumps(u, ensure_ascii=False)
                       and "make it shorter please" in json.dumps(u, ensure_ascii=False)
                       for u in fake_slack.calls_to("chat.update"))


def test_published_post_is_announced_in_its_thread(plume_slack):
    run = plume_slack
    card = start(run)[0]
    post_id = int(value(card).split(":")[0])
    view = None
    run.send.click(blocks.EDIT, value(card), user="UBOSS")
    run.idle()
    view = run.slack.calls_to("views.open")[-1]["view"]
    run.send.submit(view, {"text": {"type": "plain_text_input", "value": stored(run.plume, post_id).text},
                           "when": {"type": "plain_text_input", "value": "now"}}, user="UBOSS")
    run.idle()
    fresh = [c for c in card_posts(run.slack) if value(c).startswith(f"{post_id}:")][-1]
    run.send.click(blocks.APPROVE, value(fresh), user="UBOSS")
    run.idle()
    wait_for(lambda: stored(run.plume, post_id).status == Status.PUBLISHED, timeout=30)
    wait_for(lambda: any("📤 Published post" in c["text"] for c in run.slack.calls_to("chat.postMessage")), timeout=10)


def test_a_repeated_edit_is_proposed_in_the_thread_and_an_approver_accepts_it(plume_slack):
    run = plume_slack
    for n, topic in enumerate(("Guji roast", "Huila decaf")):
        card = start(run, f"Launch the {topic} on LinkedIn https://tidewren.coffee/new", ts=f"17000002{n}0.000100")[-1]
        post = stored(run.plume, int(value(card).split(":")[0]))
        assert "Find this week's roasts" in post.text
        run.send.click(blocks.EDIT, value(card), user="UANA", message_ts=card.get("ts", "1"),
                       thread_ts=card["thread_ts"])
        run.idle()
        view = run.slack.calls_to("views.open")[-1]["view"]
        run.send.submit(view, {"text": {"type": "plain_text_input",
                                        "value": post.text.replace("Find this week's", "Explore this week's")}},
                        user="UANA")
        run.idle()
    [proposal] = [m for m in run.slack.calls_to("chat.postMessage")
                  if any(b.get("block_id", "").startswith("rule:") for b in m.get("blocks") or [])]
    assert "avoid “find” — write “Explore” instead" in proposal["text"]
    assert proposal["thread_ts"] == "1700000210.000100"
    rule_id = proposal["blocks"][1]["block_id"].split(":")[1]

    run.send.click(blocks.RULE_ACCEPT, rule_id, user="UANA", message_ts="1700000299.000001")
    run.idle()
    assert "Only the team's approvers can change the brand rules" in ephemerals(run.slack, "UANA")[-1]
    run.send.click(blocks.RULE_ACCEPT, rule_id, user="UBOSS", message_ts="1700000299.000001")
    run.idle()
    assert "Accepted by <@UBOSS>" in json.dumps(updates_of(run.slack, "1700000299.000001")[-1])

    card = start(run, "Launch the Kenya AA roast on LinkedIn https://tidewren.coffee/new", ts="1700000300.000100")[-1]
    assert "Explore this week's roasts" in stored(run.plume, int(value(card).split(":")[0])).text


def test_a_question_is_answered_from_the_guidelines_not_taken_as_a_brief(plume_slack):
    run = plume_slack
    assert run.send.mention("What's our emoji policy for <!channel> posts?", ts="1700000700.000100").status == 200
    run.idle()
    [reply] = run.slack.calls_to("chat.postMessage")
    assert reply["thread_ts"] == "1700000700.000100"
    text = json.dumps(reply, ensure_ascii=False)
    assert "📚 Sources:" in text and "moji" in text and "<!channel>" not in text
    with run.plume.db.session() as session:
        assert posts.open_threads(session) == []  # no brief was started
