"""Durable execution: a crash inside a node, repeated resumes, and untrusted checkpoint blobs."""

import pytest

import app
from agents import nodes
from agents.checkpoint import strict_serde
from agents.runner import BriefInterrupted, thread_id_for
from core import audit, posts
from core.domain import Passage, Status
from tests.conftest import wait_for

BRIEF = "Launch the Guji roast on LinkedIn and X https://tidewren.coffee/guji"


def test_a_crash_inside_a_node_resumes_on_the_same_thread_without_repeating_work(make_settings, monkeypatch):
    real_draft, crashes = nodes.draft, []

    def flaky_draft(state, ctx):
        if not crashes:
            crashes.append(1)
            raise RuntimeError("worker died mid-draft")
        return real_draft(state, ctx)

    monkeypatch.setitem(nodes.ALL, "draft", flaky_draft)
    thread = thread_id_for("test", "crash")
    with app.assemble(make_settings(), quiet=True) as plume:
        with pytest.raises(BriefInterrupted, match="nothing is lost"):
            plume.runner.start(thread_id=thread, text=BRIEF, actor="mia")
        assert plume.runner.outcome(thread).posts == []
        # A restart recovers the thread: it carries on from the failed node, not from the top.
        assert plume.runner.recover() == [thread]
        outcome = plume.runner.outcome(thread)
    assert sorted(p.network for p in outcome.posts) == ["linkedin", "x"]
    assert all(p.status == Status.AWAITING_APPROVAL for p in outcome.posts)


def test_resuming_an_interrupt_twice_posts_nothing_twice(make_settings):
    thread = thread_id_for("test", "twice")
    with app.assemble(make_settings(), quiet=True) as plume:
        first = plume.runner.start(thread_id=thread, text=BRIEF, actor="mia")
        for _ in range(3):  # e.g. a redelivered event, or a recovery racing a click
            plume.runner.resume(thread)
        again = plume.runner.outcome(thread)
        with plume.db.session() as session:
            trail = [e.action for p in again.posts for e in audit.trail(session, p.id)]
    assert [p.id for p in again.posts] == [p.id for p in first.posts]
    assert trail.count("post.drafted") == 2 and "post.revised" not in trail


def test_a_decision_made_before_a_crash_is_applied_on_recovery(make_settings):
    """The decision is stored first; if the process dies before the graph hears of it, recovery tells it."""
    from core.domain import Action, Decision

    thread = thread_id_for("test", "unseen")
    with app.assemble(make_settings(), quiet=True) as plume:
        outcome = plume.runner.start(thread_id=thread, text="Launch the Guji roast on LinkedIn", actor="mia")
        post = outcome.posts[0]
        with plume.db.session() as session:  # what a front end records first, without the resume
            posts.decide(session, Decision(post_id=post.id, action=str(Action.APPROVE), actor="mia",
                                           version=post.version), approvers=[])
        assert plume.runner.recover() == [thread]
        scheduled = wait_for(lambda: plume.runner.outcome(thread).posts[0].status == Status.SCHEDULED, timeout=5)
    assert scheduled


def test_checkpoint_blobs_cannot_revive_arbitrary_classes():
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    crafted = JsonPlusSerializer().dumps_typed({"x": Passage(id="a", source="s", heading="h", text="t")})
    revived = strict_serde().loads_typed(crafted)
    assert revived == {"x": {"id": "a", "source": "s", "heading": "h", "text": "t", "locale": "", "score": 0.0}}
    assert not isinstance(revived["x"], Passage)


def test_a_brief_stored_just_before_a_crash_is_drafted_on_recovery(make_settings):
    thread = thread_id_for("test", "stored-only")
    with app.assemble(make_settings(), quiet=True) as plume:
        with plume.db.session() as session:  # what runner.start stores before the graph's first step
            posts.save_brief(session, thread_id=thread, text=BRIEF, actor="mia")
        assert plume.runner.recover() == [thread]
        drafted = plume.runner.outcome(thread).posts
        assert plume.runner.recover() == []  # once drafted, there is nothing left to recover
    assert sorted(p.network for p in drafted) == ["linkedin", "x"]


def test_two_cards_of_one_brief_approved_at_once_are_both_scheduled(make_settings, monkeypatch):
    """The second approval arrives while the first one's run is scheduling: it must wait, then resume."""
    import threading

    from core.domain import Action, Decision

    real_schedule, scheduling, release = nodes.schedule, threading.Event(), threading.Event()

    def slow_schedule(state, ctx):
        scheduling.set()
        release.wait(10)
        return real_schedule(state, ctx)

    monkeypatch.setitem(nodes.ALL, "schedule", slow_schedule)
    thread = thread_id_for("test", "both")
    with app.assemble(make_settings(), quiet=True) as plume:
        first, second = plume.runner.start(thread_id=thread, text=BRIEF, actor="mia").posts

        def approve(post):
            plume.service.decisions.decide(Decision(post_id=post.id, action=str(Action.APPROVE), actor="mia", version=post.version))

        one = threading.Thread(target=approve, args=(first,))
        one.start()
        assert scheduling.wait(30)
        two = threading.Thread(target=approve, args=(second,))
        two.start()
        two.join(1)  # the second decision is stored and its resume is under way while the first run schedules
        release.set()
        one.join(30)
        two.join(30)
        with plume.db.session() as session:
            statuses = {posts.get(session, p.id).status for p in (first, second)}
    assert statuses == {Status.SCHEDULED}
