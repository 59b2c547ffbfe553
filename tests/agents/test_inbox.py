"""Approval through resume values: Agent Inbox HumanInterrupts out, HumanResponses in, each applied once."""

import pytest
from langgraph.checkpoint.memory import InMemorySaver

import app
from agents import inbox, nodes
from agents.graph import build
from agents.runner import BriefInterrupted, Runner, thread_id_for
from core import approvals, audit, decisions, posts
from core.domain import Action, Decision, Status

BRIEF = "Launch the Guji roast on LinkedIn and X https://tidewren.coffee/guji"


@pytest.fixture
def plume(make_settings):
    with app.assemble(make_settings(), run_scheduler=False, quiet=True) as assembled:
        yield assembled


def interrupt_items(plume, thread: str) -> list:
    snapshot = plume.runner.graph.get_state({"configurable": {"thread_id": thread}})
    return [item for intr in snapshot.interrupts for item in intr.value]


def trail(plume, post_id: int) -> list[tuple[str, str]]:
    with plume.db.session() as session:
        return [(e.action, e.actor) for e in audit.trail(session, post_id)]


def test_the_approval_interrupt_holds_one_agent_inbox_item_per_post_as_plain_dicts(plume):
    thread = thread_id_for("test", "items")
    waiting = plume.runner.start(thread_id=thread, text=BRIEF, actor="mia").waiting
    items = interrupt_items(plume, thread)  # read back through Plume's strict checkpointer
    assert [type(i) for i in items] == [dict, dict]
    for item, post in zip(items, waiting, strict=True):
        assert item["config"] == {"allow_accept": True, "allow_edit": True, "allow_respond": True, "allow_ignore": True}
        assert item["action_request"] == {"action": "publish_post", "args": {
            "post_id": post.id, "version": post.version, "network": post.network, "locale": post.locale,
            "text": post.text, "proposed_at": item["action_request"]["args"]["proposed_at"]}}
        card = item["description"]
        assert f"post #{post.id}, version 1" in card and "checks passed" in card and "Cites: " in card
        assert all(f"> {line}" in card for line in post.text.splitlines() if line)
        assert "When: " in card and "Europe/Paris" in card


def test_the_graph_alone_stores_its_brief_and_reaches_the_interrupt(plume):
    """What LangGraph's server does: no runner, only the graph, its input and a thread."""
    graph = build(plume.runner.context).compile(checkpointer=InMemorySaver())
    values = graph.invoke({"text": BRIEF}, {"configurable": {"thread_id": "server-thread"}})
    assert [i["action_request"]["args"]["network"] for i in values["__interrupt__"][0].value] == ["x", "linkedin"]
    with plume.db.session() as session:
        assert posts.brief_text(session, "server-thread") == (BRIEF, nodes.SERVER_ACTOR)
        stored = posts.for_thread(session, "server-thread")
    assert {p.status for p in stored} == {Status.AWAITING_APPROVAL}
    assert values["actor"] == "agent-inbox" and values["thread_id"] == "server-thread"


def test_responses_in_the_resume_value_are_applied_by_the_runs_user(plume):
    thread = thread_id_for("test", "responses")
    first, second = plume.runner.start(thread_id=thread, text=BRIEF, actor="mia").waiting
    outcome = plume.runner.resume(thread, responses=[{"type": "ignore", "args": None},
                                                     {"type": "response", "args": "mention the Lyon shop"}],
                                  actor="leo")
    after = {p.id: p for p in outcome.posts}
    assert after[first.id].status == Status.REJECTED
    assert ("post.rejected", "leo") in trail(plume, first.id)
    # Offline, a change request comes back for an edit by hand, with the reason kept in the audit log.
    assert after[second.id].status == Status.AWAITING_APPROVAL
    assert ("post.changes_requested", "leo") in trail(plume, second.id)
    assert [i["action_request"]["args"]["post_id"] for i in interrupt_items(plume, thread)] == [second.id]


def test_a_decision_a_front_end_recorded_first_is_not_applied_again(plume):
    with plume.db.session() as session:
        approvals.set_rules(session, actor="boss", approvers=[], required_approvals=2)
    thread = thread_id_for("test", "recorded-first")
    post = plume.runner.start(thread_id=thread, text="Launch the Guji roast on LinkedIn", actor="ana").waiting[0]
    vote = Decision(post_id=post.id, action=str(Action.APPROVE), actor="mia", version=post.version)
    decisions.record(plume.db, vote, approvers=[], profile=plume.profile)
    outcome = plume.runner.resume(thread, responses=[Runner.response_for(vote)], actor="mia")
    with plume.db.session() as session:
        assert approvals.votes(session, post_id=post.id, version=post.version) == ["mia"]  # one vote, not two
    assert outcome.posts[0].status == Status.AWAITING_APPROVAL and not outcome.notes
    plume.service.decisions.decide(Decision(post_id=post.id, action=str(Action.APPROVE), actor="leo", version=post.version))
    assert plume.runner.outcome(thread).posts[0].status == Status.SCHEDULED


def test_every_decision_a_front_end_sends_reads_back_as_itself():
    items = [inbox.request({"post_id": 7, "version": 2, "network": "x", "locale": "en", "text": "Hello",
                            "proposed_at": "2026-12-03T09:00:00+01:00"}, [], "UTC")]
    sent = [Decision(post_id=7, action=str(Action.APPROVE), actor="mia", version=2),
            Decision(post_id=7, action=str(Action.REJECT), actor="mia", version=2, reason="off-brand"),
            Decision(post_id=7, action=str(Action.REQUEST_CHANGES), actor="mia", version=2, reason="shorter"),
            Decision(post_id=7, action=str(Action.EDIT), actor="mia", version=2, text="Hi",
                     run_at="2026-12-04T09:00:00+01:00")]
    for decision in sent:
        read = inbox.decisions(items, [inbox.response_for(decision)], actor="mia")
        assert read.decisions == [decision] and not read.problems


def test_agent_inbox_responses_answer_the_items_in_order_or_the_post_they_name():
    shown = {"post_id": 7, "version": 1, "network": "x", "locale": "en", "text": "Hello", "proposed_at": "2026-12-03T09:00:00+00:00"}
    items = [inbox.request(shown, [], "UTC"), inbox.request({**shown, "post_id": 8, "network": "linkedin"}, [], "UTC")]
    edited = {"action": "publish_post", "args": {**items[1]["action_request"]["args"], "post_id": "8",
                                                 "text": "Hello, Lyon"}}
    read = inbox.decisions(items, [{"type": "response", "args": "shorter"}, {"type": "edit", "args": edited}],
                           actor="agent-inbox")
    assert [(d.post_id, d.action, d.text or d.reason) for d in read.decisions] == [
        (7, Action.REQUEST_CHANGES, "shorter"), (8, Action.EDIT, "Hello, Lyon")]
    assert read.decisions[1].run_at is None  # the time was left as it was
    # An edit that changes nothing is an accept, as Agent Inbox itself sends it; a new time alone is an edit.
    same = {"type": "edit", "args": items[0]["action_request"]}
    moved = {"type": "edit", "args": {"action": "publish_post", "args": {**shown, "proposed_at": "2026-12-05T10:00:00+00:00"}}}
    assert [(d.action, d.run_at) for d in inbox.decisions(items, [same, moved], actor="a").decisions] == [
        (Action.APPROVE, None), (Action.EDIT, "2026-12-05T10:00:00+00:00")]
    # What can't be read is said, and answers nothing: a post of another brief, a stray shape, too many answers.
    stray = {"type": "accept", "args": {"action": "publish_post", "args": {"post_id": 99}}}
    read = inbox.decisions(items, [{"type": "accept", "args": None}, stray, {"type": "approve"},
                                   {"type": "accept", "args": None}], actor="a")
    assert [d.post_id for d in read.decisions] == [7]  # the fourth response would answer a third item: none
    assert len(read.problems) == 3 and "post #99 is not waiting" in read.problems[0]
    assert "list of Agent Inbox responses" in inbox.decisions(items, "decided", actor="a").problems[0]


def test_a_refused_or_stale_response_is_noted_and_the_post_waits_again(make_settings):
    with app.assemble(make_settings(plume_approvers="UBOSS"), run_scheduler=False, quiet=True) as plume:
        thread = thread_id_for("test", "refused")
        first, second = plume.runner.start(thread_id=thread, text=BRIEF, actor="UANA").waiting
        decisions.record(plume.db, Decision(post_id=second.id, action=str(Action.REJECT), actor="UBOSS",
                                            version=second.version), approvers=["UBOSS"], profile=plume.profile)
        accept = {"type": "accept", "args": None}
        named = Runner.response_for(Decision(post_id=second.id, action=str(Action.APPROVE), actor="UANA",
                                             version=second.version))
        outcome = plume.runner.resume(thread, responses=[accept, named], actor="UANA")
        assert [n for n in outcome.notes if "not applied" in n] == [
            f"The approval of post #{first.id} by UANA was not applied: Only the team's approvers can approve or "
            "reject drafts.",
            f"The approval of post #{second.id} by UANA was not applied: Post #{second.id} was already decided "
            "(rejected)."]
        statuses = {p.id: p.status for p in outcome.posts}
        assert statuses == {first.id: Status.AWAITING_APPROVAL, second.id: Status.REJECTED}
        assert [i["action_request"]["args"]["post_id"] for i in interrupt_items(plume, thread)] == [first.id]
        assert "post.approved" not in [action for action, _ in trail(plume, first.id)]


def test_resuming_with_responses_needs_the_actor_who_gave_them(plume):
    with pytest.raises(ValueError, match="actor"):
        plume.runner.resume("any", responses=[{"type": "accept", "args": None}])


def test_a_crash_after_applying_a_response_applies_nothing_twice(plume, monkeypatch):
    real_apply, crashes = nodes.apply, []

    def apply_then_crash(ctx, decision):
        notes = real_apply(ctx, decision)
        if not crashes:
            crashes.append(1)
            raise RuntimeError("worker died after recording")
        return notes

    monkeypatch.setattr(nodes, "apply", apply_then_crash)
    thread = thread_id_for("test", "crash-after-apply")
    post = plume.runner.start(thread_id=thread, text="Launch the Guji roast on LinkedIn", actor="ana").waiting[0]
    with pytest.raises(BriefInterrupted):
        plume.runner.resume(thread, responses=[{"type": "accept", "args": None}], actor="mia")
    assert plume.runner.recover() == [thread]
    assert plume.runner.outcome(thread).posts[0].status == Status.SCHEDULED
    assert [a for a, _ in trail(plume, post.id)].count("post.approved") == 1
