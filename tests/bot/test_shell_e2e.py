"""End to end through the shell with the real ChatOpenAI talking to a loopback fake model."""

import hashlib
import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app import assemble
from bot.shell import Shell
from core import audit, claims, posts
from core.domain import OFFLINE_LABEL, Status
from core.when import When
from tests.conftest import wait_for
from tests.fakes.copywriter import Copywriter
from tests.fakes.openai_server import FakeOpenAI

BRIEF = "Announce our new Ethiopia Guji roast on LinkedIn and X in English and French https://tidewren.coffee/guji"
ZONE = "Europe/Paris"


def soon(seconds: float) -> str:
    return (datetime.now(ZoneInfo(ZONE)) + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def run_shell(plume, script: str) -> str:
    out = io.StringIO()
    Shell(plume, stdin=io.StringIO(script), stdout=out, user="mia").loop()
    return out.getvalue()


@pytest.fixture
def model_settings(make_settings, fake_model):
    return make_settings(plume_model="fake-model", openai_base_url=fake_model.base_url, openai_api_key="test-key")


def test_brief_to_published_post_through_the_shell(model_settings, fake_model):
    with assemble(model_settings, quiet=True) as plume:
        shown = run_shell(plume, BRIEF + "\n")
        # Drafts for 2 networks × 2 locales, each with citations, checks and a proposed time.
        assert shown.count("awaiting approval") == 4
        assert "Cites: en/" in shown and "as LinkedIn counts" in shown and "When: " in shown
        assert OFFLINE_LABEL not in shown
        assert "Image idea: A pour-over in morning light" in shown  # the writer's suggestion is kept with the post
        assert fake_model.calls >= 3 and all(r.get("tools") for r in fake_model.requests)

        # The manager keeps the LinkedIn text but moves it to two seconds from now, then approves it.
        number = number_of(run_shell(plume, "list\n"), "LinkedIn · English")
        shown = run_shell(plume, f"list\nedit {number}\n.\n{soon(2)}\nlist\napprove {number}\n")
        assert "changed since you saw it" not in shown
        with plume.db.session() as session:
            first = posts.with_status(session, [Status.SCHEDULED])
        assert len(first) == 1
        post = wait_for(lambda: _published(plume, first[0].id), timeout=30)

    record = json.loads((model_settings.outbox / f"post-{post.id}.json").read_text())
    assert record["text"] == post.text
    assert record["approved_by"] == "mia"
    assert record["approved_hash"] == hashlib.sha256(record["text"].encode()).hexdigest() == post.approved_hash
    assert record["network"] == post.network and record["locale"] == post.locale


def number_of(listing: str, what: str) -> int:
    return next(int(line[1:line.index("]")]) for line in listing.splitlines() if line.startswith("[") and what in line)


def _published(plume, post_id):
    with plume.db.session() as session:
        post = posts.get(session, post_id)
    return post if post.status == Status.PUBLISHED else None


def test_request_changes_revises_the_draft_with_the_model(model_settings, fake_model):
    with assemble(model_settings, quiet=True) as plume:
        run_shell(plume, BRIEF + "\n")
        before = fake_model.calls
        number = number_of(run_shell(plume, "list\n"), "X · English")
        shown = run_shell(plume, f"list\nchanges {number} make it shorter please\n")
        assert fake_model.calls == before + 1
        revised = fake_model.requests[-1]["messages"][-1]["content"]
        assert "Reviewer asked: make it shorter please" in revised
        with plume.db.session() as session:
            post = [p for p in posts.with_status(session, [Status.AWAITING_APPROVAL]) if p.version == 2]
        assert len(post) == 1 and "v2" in shown


def test_unauthorized_approval_is_refused_and_nothing_changes(make_settings):
    settings = make_settings(plume_approvers="U_BOSS")
    with assemble(settings, quiet=True) as plume:
        run_shell(plume, "Launch the Guji roast on LinkedIn\n")
        shown = run_shell(plume, "list\napprove 1\n")
        assert "Only the team's approvers can approve" in shown
        with plume.db.session() as session:
            assert posts.with_status(session, [Status.APPROVED, Status.SCHEDULED]) == []


def test_posts_needing_a_human_are_settled_retried_moved_and_held_from_the_shell(make_settings):
    with assemble(make_settings(), quiet=True) as plume:
        run_shell(plume, "Launch the Guji roast on LinkedIn and X https://tidewren.coffee/guji\napprove 1\napprove 2\n")
        run_shell(plume, "Launch the Huila decaf on LinkedIn https://tidewren.coffee/huila\napprove 1\n")
        with plume.db.session() as session:
            first, second, third = sorted(posts.with_status(session, [Status.SCHEDULED]), key=lambda p: p.id)
            for post in (first, second, third):  # as if Plume had died mid-publish
                claims.take_for_publishing(session, post_id=post.id)
            claims.mark_unknown(session, post_id=first.id, reason="stopped while publishing")
            claims.mark_failed(session, post_id=second.id, reason="the network said no")
            claims.mark_unknown(session, post_id=third.id, reason="the network timed out")
            key = posts.get(session, third.id).publish_key

        shown = run_shell(plume, f"list\nposted #{first.id}\nretry #{second.id} tomorrow 9am\n")
        assert "3 post(s) need a human" in shown and "stopped while publishing" in shown
        tomorrow = (datetime.now(ZoneInfo(ZONE)) + timedelta(days=1)).replace(hour=9, minute=0, second=0,
                                                                               microsecond=0)
        assert f"🔁 Post #{second.id} will be published {When(at=tomorrow, zone=ZONE).describe()}." in shown
        with plume.db.session() as session:
            assert posts.get(session, first.id).status == Status.PUBLISHED
            retried = posts.get(session, second.id)
        assert retried.status == Status.SCHEDULED and datetime.fromisoformat(retried.run_at) == tomorrow

        # “Post it again”: out at once, under the key chosen before the first attempt.
        shown = run_shell(plume, f"not-posted #{third.id}\n")
        assert f"Post #{third.id} goes out again" in shown
        again = wait_for(lambda: _published(plume, third.id), timeout=30)
        assert again.publish_key == key

        # Moved in words, listed by number, refused in the past and while on hold, then cancelled.
        past = (datetime.now(ZoneInfo(ZONE)) - timedelta(days=2)).date().isoformat()
        shown = run_shell(plume, f"queue\nreschedule 1 in 3 days at 10:30\nreschedule 1 {past} 09:00\n"
                                 "reschedule 1 whenever\nhold launch moved\nreschedule 1 tomorrow 9am\nqueue\n"
                                 "resume\ncancel 1\n")
        assert f"[1] 09:00 #{second.id} LinkedIn · English" in shown
        moved = (datetime.now(ZoneInfo(ZONE)) + timedelta(days=3)).replace(hour=10, minute=30, second=0, microsecond=0)
        assert f"🕘 Post #{second.id} moved to {When(at=moved, zone=ZONE).describe()}." in shown
        assert "is in the past" in shown and "I couldn't read a date or time in “whenever”" in shown
        assert "Publishing is on hold, so nothing would go out" in shown
        assert "⏸ Publishing is on hold (by mia: “launch moved”)" in shown and "Publishing resumed" in shown
        assert f"Post #{second.id} is cancelled" in shown
        with plume.db.session() as session:
            final = posts.get(session, second.id)
            trail = [e.action for e in audit.trail(session, second.id)]
        assert final.status == Status.CANCELLED and datetime.fromisoformat(final.run_at) == moved
        assert trail.count("post.moved") == 1 and "post.retried" in trail


def test_a_repeated_edit_is_proposed_as_a_rule_and_once_accepted_shapes_the_next_draft(make_settings):
    with assemble(make_settings(), quiet=True) as plume:
        shown = ""
        for topic in ("Guji roast", "Huila decaf"):
            run_shell(plume, f"Launch the {topic} on LinkedIn https://tidewren.coffee/new\n")
            with plume.db.session() as session:
                [draft] = posts.with_status(session, [Status.AWAITING_APPROVAL])
            assert "Find this week's roasts" in draft.text
            edited = draft.text.replace("Find this week's", "Explore this week's")
            shown += run_shell(plume, f"list\nedit 1\n{edited}\n.\n\nreject 1 done testing\n")
        assert "💡 Proposed rule #1: avoid “find” — write “Explore” instead (replaced “find” with “Explore” in 2 edits)" in shown
        shown = run_shell(plume, "proposals\naccept 1\nLaunch the Kenya AA roast on LinkedIn https://tidewren.coffee/new\n")
        assert "#1 avoid “find” — write “Explore” instead\n      learned from feedback: replaced" in shown, shown
        assert "Rule #1 accepted" in shown
        with plume.db.session() as session:
            [draft] = posts.with_status(session, [Status.AWAITING_APPROVAL])
        assert "Explore this week's roasts" in draft.text and "Find this" not in draft.text


def test_a_model_that_ignores_a_change_request_is_called_out_on_the_card(make_settings):
    import re

    from tests.fakes.openai_server import auto_tool, last_user_text

    writer = Copywriter()

    def echo(request):  # "revises" by returning every draft exactly as it was
        found = re.findall(r"^### (\S+) \(max \d+ characters\)\n(.*?)\nFix:", last_user_text(request), re.M | re.S)
        return {"posts": [{"key": key, "text": text} for key, text in found]}

    with FakeOpenAI(auto_tool({"BriefFields": writer.intake, "Drafts": writer.drafts, "Revisions": echo})) as fake:
        settings = make_settings(plume_model="fake-model", openai_base_url=fake.base_url, openai_api_key="k")
        with assemble(settings, quiet=True) as plume:
            run_shell(plume, "Announce our new Ethiopia Guji roast on LinkedIn https://tidewren.coffee/guji\n")
            shown = run_shell(plume, "list\nchanges 1 mention the Lyon shop\n")
    assert "The model left the text as it was after “mention the Lyon shop” — edit it yourself." in shown
    assert "awaiting approval" in shown


def test_a_decision_whose_follow_up_fails_is_recorded_and_continue_carries_on(make_settings, monkeypatch):
    from agents import nodes

    with assemble(make_settings(), quiet=True) as plume:
        out = io.StringIO()
        shell = Shell(plume, stdin=io.StringIO(""), stdout=out, user="mia")
        shell.handle("Announce our Guji roast on LinkedIn")
        [draft] = plume.service.posts.with_status([Status.AWAITING_APPROVAL])
        real_schedule = posts.schedule

        def broken(*args, **kwargs):
            raise RuntimeError("the job store is unreachable")

        monkeypatch.setattr(nodes.posts, "schedule", broken)
        shell.handle("approve 1")
        shown = out.getvalue()
        assert f"Your approval of post #{draft.id} is recorded, but scheduling it did not finish" in shown
        assert "“continue”" in shown and "Nothing was changed" not in shown
        assert plume.service.posts.get(draft.id).status == Status.APPROVED

        monkeypatch.setattr(nodes.posts, "schedule", real_schedule)
        shell.handle("approve 1")  # the approval was kept: a second one changes nothing
        assert "already decided (approved)" in out.getvalue()
        shell.handle("continue")
        assert plume.service.posts.get(draft.id).status == Status.SCHEDULED


def test_a_storage_error_during_a_decision_changes_nothing_and_the_same_command_works_again(make_settings,
                                                                                           monkeypatch):
    from sqlalchemy.exc import OperationalError

    with assemble(make_settings(), quiet=True) as plume:
        run_shell(plume, "Announce our Guji roast on LinkedIn\n")
        [draft] = plume.service.posts.with_status([Status.AWAITING_APPROVAL])
        real_decide, calls = posts.decide, []

        def locked_once(session, decision, **kwargs):
            calls.append(decision.post_id)
            if len(calls) == 1:
                raise OperationalError("UPDATE posts", {}, Exception("database is locked"))
            return real_decide(session, decision, **kwargs)

        monkeypatch.setattr(posts, "decide", locked_once)
        shown = run_shell(plume, "approve 1\napprove 1\n")
        assert "database is unavailable" in shown and "nothing was changed" in shown
        assert calls == [draft.id, draft.id]
        assert plume.service.posts.get(draft.id).status == Status.SCHEDULED
