"""/plume and the App Home over real HTTP, answered through response_url and views.publish."""

import json
import re
import time
from datetime import UTC, datetime, timedelta

from bot.slack import blocks
from core import audit, posts, rules
from core.domain import Status
from tests.bot.slack.conftest import running
from tests.bot.slack.test_slack_e2e import card_posts, start, stored, value
from tests.conftest import wait_for


def ask(run, text, user="UBOSS") -> str:
    url = run.slack.response_url(re.sub(r"\W", "_", text) or "empty")
    answer = run.send.command(text, user=user, response_url=url)
    assert answer.status == 200 and answer.seconds < 1
    run.idle()
    found = [r for r in run.slack.responses if r["name"] == url.rsplit("/", 1)[1]]
    assert found, f"no answer to /plume {text}"
    assert found[-1]["response_type"] == "ephemeral"
    return json.dumps(found[-1], ensure_ascii=False)


def approve_first(run) -> int:
    card = start(run)[0]
    run.send.click(blocks.APPROVE, value(card), user="UBOSS")
    run.idle()
    return int(value(card).split(":")[0])


def test_help_report_guidelines_and_unknown(plume_slack):
    run = plume_slack
    assert "/plume queue" in ask(run, "") and "/plume hold" in ask(run, "help")
    assert "Nothing yet" in ask(run, "report week")  # tests/bot/slack/test_reports.py has the rest
    found = ask(run, "guidelines emoji")
    assert "›" in found and ".md" in found
    assert "I don't know “dance”" in ask(run, "dance")


def test_queue_in_the_users_time_zone_and_pending(plume_slack):
    run = plume_slack
    post_id = approve_first(run)
    run.slack.user_zones["UBOSS"] = "America/New_York"
    shown = ask(run, "queue")
    assert f"#{post_id}" in shown and "America/New_York" in shown and "1 draft awaiting approval" in shown
    pending = ask(run, "pending")
    assert "Awaiting your decision" in pending and "Request changes" in pending
    assert "Drafts awaiting approval" in ask(run, "pending", user="UANA")


def test_hold_stops_publishing_at_once_and_resume_releases_posts_in_order(plume_slack):
    run = plume_slack
    post_id = approve_first(run)
    assert "Only the team's approvers can pause publishing" in ask(run, "hold", user="UANA")
    assert "on hold" in ask(run, "hold launch moved")
    said = [c["text"] for c in run.slack.calls_to("chat.postMessage")]
    assert any("Publishing is on hold" in s and "launch moved" in s for s in said)
    # An approval during the pause keeps its place in the schedule; nothing goes out, even when due.
    other = card_posts(run.slack)[1]
    other_id = int(value(other).split(":")[0])
    run.send.click(blocks.APPROVE, value(other), user="UMIA")
    run.idle()
    with run.plume.db.session() as session:
        posts.move(session, post_id=other_id, actor="UMIA", run_at=datetime.now(UTC) - timedelta(minutes=1),
                   approvers=[])
    run.plume.scheduler.wake()
    time.sleep(1.5)
    assert {stored(run.plume, i).status for i in (post_id, other_id)} == {Status.SCHEDULED}
    assert "Publishing is on hold" in ask(run, "queue")
    assert "Only the team's approvers can resume publishing" in ask(run, "resume", user="UANA")
    assert "2 posts scheduled again" in ask(run, "resume")
    wait_for(lambda: stored(run.plume, other_id).status == Status.PUBLISHED)  # overdue: out at once
    assert stored(run.plume, post_id).status == Status.SCHEDULED  # due later: waits for its time


def test_cancel_by_id(plume_slack):
    run = plume_slack
    post_id = approve_first(run)
    assert "Say which post" in ask(run, "cancel")
    assert "cancelled" in ask(run, f"cancel #{post_id}")
    assert stored(run.plume, post_id).status == Status.CANCELLED
    assert "cannot become cancelled" in ask(run, f"cancel {post_id}")


def test_approvals_require_two_approvers_and_forbid_approving_your_own_brief(slack_settings, fake_slack):
    fake_slack.groups["SAPPROVE"] = ["UANA", "UMIA"]
    with running(slack_settings(plume_approvers="UBOSS,SAPPROVE"), fake_slack) as run:
        assert "is now `/plume approvals`" in ask(run, "rules approvals 2")  # the old name points to the new
        assert "Approvals needed per draft: 1" in ask(run, "approvals")
        assert "between 1 and 5" in ask(run, "approvals 9")
        assert "Approvals needed per draft: 2" in ask(run, "approvals 2")
        assert "forbidden" in ask(run, "approvals own-brief forbid")
        card = start(run)[0]  # briefed by UANA, a member of the approvers' group
        post_id = int(value(card).split(":")[0])
        run.send.click(blocks.APPROVE, value(card), user="UANA")
        run.idle()
        assert "someone other than the brief's author" in fake_slack.calls_to("chat.postEphemeral")[-1]["text"]
        run.send.click(blocks.APPROVE, value(card), user="UMIA")  # via the user group
        run.idle()
        assert stored(run.plume, post_id).status == Status.AWAITING_APPROVAL
        assert "1 of 2" in fake_slack.calls_to("chat.postEphemeral")[-1]["text"]
        assert any("1 of 2 approvals: <@UMIA>" in json.dumps(u) for u in fake_slack.calls_to("chat.update"))
        run.send.click(blocks.APPROVE, value(card), user="UBOSS")
        run.idle()
        post = stored(run.plume, post_id)
        assert post.status == Status.SCHEDULED and post.approved_by == "UBOSS"
        with run.plume.db.session() as session:
            assert [e.actor for e in audit.trail(session, post_id) if e.action == "post.approval_vote"] == \
                ["UMIA", "UBOSS"]


def test_app_home_shows_pending_with_buttons_and_the_week(plume_slack):
    run = plume_slack
    post_id = approve_first(run)
    run.send.event({"type": "app_home_opened", "user": "UMIA", "channel": "DHOME", "tab": "home"})
    run.idle()
    view = run.slack.calls_to("views.publish")[-1]
    assert view["user_id"] == "UMIA"
    home = json.dumps(view["view"], ensure_ascii=False)
    assert "Awaiting your approval* (1)" in home and "Next 7 days" in home and f"#{post_id}" in home
    buttons = [b for b in view["view"]["blocks"] if b["type"] == "actions"]
    assert [e["text"]["text"] for e in buttons[0]["elements"]] == ["Approve", "Request changes", "Edit", "Reject"]
    # Approving from the App Home updates the thread's card and refreshes the home.
    other_id = int(buttons[0]["elements"][0]["value"].split(":")[0])
    run.send.click(blocks.APPROVE, buttons[0]["elements"][0]["value"], user="UMIA", in_home=True)
    run.idle()
    assert stored(run.plume, other_id).status == Status.SCHEDULED
    assert "Awaiting your approval* (0)" in json.dumps(run.slack.calls_to("views.publish")[-1], ensure_ascii=False)
    # A refused click from the home is explained in a DM.
    run.send.click(blocks.APPROVE, buttons[0]["elements"][0]["value"], user="UANA", in_home=True)
    run.idle()
    assert "Already approved by <@UMIA>" in run.slack.calls_to("chat.postMessage")[-1]["text"]


def test_rules_found_in_the_guidelines_wait_on_approvers_app_home_until_one_decides(plume_slack):
    run = plume_slack
    with run.plume.db.session() as session:  # what `plume ingest` stores when a guide says so
        [rule] = rules.record_guidelines(
            session, source="en/voice.md", digest="h1", locale="en",
            findings=[rules.Finding({"banned": {"synergy": "teamwork"}}, "Voice › Words",
                                    'Write "teamwork", not "synergy".')])
    run.send.event({"type": "app_home_opened", "user": "UANA", "channel": "DHOME", "tab": "home"})
    run.idle()
    assert "Proposed brand rule" not in json.dumps(run.slack.calls_to("views.publish")[-1])  # not an approver
    run.send.event({"type": "app_home_opened", "user": "UMIA", "channel": "DHOME", "tab": "home"})
    run.idle()
    view = run.slack.calls_to("views.publish")[-1]["view"]
    home = json.dumps(view, ensure_ascii=False)
    assert "Proposed brand rules* (1)" in home and "avoid “synergy” — write “teamwork” instead" in home
    assert "en/voice.md › Voice › Words" in home
    [accept] = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == blocks.RULE_ACCEPT]
    run.send.click(blocks.RULE_ACCEPT, accept["value"], user="UMIA", in_home=True)
    run.idle()
    assert "Proposed brand rules" not in json.dumps(run.slack.calls_to("views.publish")[-1])
    with run.plume.db.session() as session:
        assert [(r.id, r.status, r.decided_by) for r in rules.rules(session)] == [(rule.id, "accepted", "UMIA")]
    assert run.plume.runner.context.brand().banned["synergy"] == "teamwork"
