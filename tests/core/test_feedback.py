"""Learning from feedback: repeated edits and requests become proposals; only accepted ones apply."""

import pytest

from core import feedback, posts, rules
from core.brand import BrandProfile
from core.domain import Action, Decision, Variant
from core.errors import InvalidTransition, NotAuthorized
from knowledge.profile import with_rules

PROFILE = BrandProfile(name="Tidewren", banned={"cheap": "affordable"}, do_not_translate=["Wren Espresso"])


def current(session):
    return with_rules(PROFILE, rules.accepted(session))


def post(db, text, n=[0]):  # noqa: B006 - a counter for unique threads
    n[0] += 1
    with db.session() as session:
        posts.save_brief(session, thread_id=f"t{n[0]}", text="brief", actor="ana")
        return posts.present(session, thread_id=f"t{n[0]}", citations=[],
                             variant=Variant(network="x", locale="en", text=text))


def edit(db, before, after, actor="mia"):
    with db.session() as session:
        decision = Decision(post_id=before.id, action=str(Action.EDIT), actor=actor, version=before.version,
                            text=after)
        posts.decide(session, decision, approvers=[])
        return feedback.record(session, before=before, decision=decision, profile=PROFILE)


def ask(db, before, reason):
    with db.session() as session:
        decision = Decision(post_id=before.id, action=str(Action.REQUEST_CHANGES), actor="leo",
                            version=before.version, reason=reason)
        posts.decide(session, decision, approvers=[])
        return feedback.record(session, before=before, decision=decision, profile=PROFILE)


@pytest.mark.parametrize("before,after,swaps", [
    ("Our revolutionary Guji roast.", "Our new Guji roast.", [("revolutionary", "new")]),
    ("Grab a groundbreaking cup today!", "Grab an exciting cup today!", [("groundbreaking", "exciting")]),
    ("A truly unique blend.", "A unique blend.", [("truly", "")]),
    ("See https://a.b/c now", "See https://a.b/d now", []),
    ("Same text.", "Same text.", []),
])
def test_replacements_are_short_vocabulary_swaps(before, after, swaps):
    assert feedback.replacements(before, after) == swaps


def test_the_same_swap_twice_becomes_one_proposal_that_changes_nothing_until_accepted(db):
    assert edit(db, post(db, "Our revolutionary Guji roast."), "Our new Guji roast.") == []
    [rule] = edit(db, post(db, "A revolutionary decaf."), "A new decaf.")
    assert rule.rule == {"banned": {"revolutionary": "new"}} and rule.source == "feedback"
    assert rule.summary == "avoid “revolutionary” — write “new” instead"
    assert "2 edits" in rule.evidence and rule.status == "proposed"
    assert edit(db, post(db, "So revolutionary."), "So new.") == []  # proposed once, ever
    with db.session() as session:
        assert "revolutionary" not in current(session).banned
        rules.settle(session, rule_id=rule.id, actor="mia", accept=True, approvers=["mia"])
    with db.session() as session:
        assert current(session).banned == {"cheap": "affordable", "revolutionary": "new"}


def test_known_banned_words_and_protected_names_are_not_proposed(db):
    for _ in range(2):
        edit(db, post(db, "Our cheap Wren Espresso."), "Our affordable Wren blend.")
    with db.session() as session:
        assert rules.rules(session) == []


def test_a_repeated_request_becomes_a_reviewer_note(db):
    assert ask(db, post(db, "Draft one."), "Too salesy!") == []
    [rule] = ask(db, post(db, "Draft two."), "too salesy")
    assert rule.rule == {"reviewer_notes": ["too salesy"]} and rule.summary == "reviewers ask: “too salesy”"
    with db.session() as session:
        rules.settle(session, rule_id=rule.id, actor="mia", accept=True, approvers=[])
        assert current(session).reviewer_notes == ["too salesy"]


def test_only_approvers_settle_rules_and_only_once(db):
    edit(db, post(db, "Revolutionary."), "New.")
    [rule] = edit(db, post(db, "Revolutionary!"), "New!")
    with db.session() as session, pytest.raises(NotAuthorized):
        rules.settle(session, rule_id=rule.id, actor="intern", accept=True, approvers=["mia"])
    with db.session() as session:
        rules.settle(session, rule_id=rule.id, actor="mia", accept=False, approvers=["mia"])
    with db.session() as session, pytest.raises(InvalidTransition, match="already dismissed by mia"):
        rules.settle(session, rule_id=rule.id, actor="mia", accept=True, approvers=["mia"])
