"""The crisis brake's rules: a team-wide spike and alert words propose a hold once, with evidence; opt-in auto-hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import pause
from insights import alerts, comments
from insights.sentiment import Scorer

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
ANGRY = ["This is awful, I hate it", "Terrible roast, really disappointed", "Worst coffee ever, awful",
         "Horrible service, angry and upset", "Bad, bad, bad. Disgusting."]
HAPPY = ["Love this!", "Great coffee, thank you", "Wonderful and delicious"]


def csv(rows: list[tuple[str, str, str, datetime]]) -> bytes:
    lines = ["network,post_id,comment_id,text,created_at,language"]
    lines += [f'{net},{post},{cid},"{text}",{at.isoformat()},en' for net, post, cid, text, at in
              [(r[0], r[1], f"c{i}-{r[1]}", r[2], r[3]) for i, r in enumerate(rows)]]
    return ("\n".join(lines) + "\n").encode()


def run(db, rows, **kwargs):
    with db.session() as session:
        return comments.import_csv(session, csv(rows), scorer=Scorer(), zone="UTC", now=NOW, **kwargs)


def spike_rows(hours_ago: float = 2) -> list:
    at = NOW - timedelta(hours=hours_ago)
    return ([("linkedin", f"li-{i % 3}", ANGRY[i % 5], at) for i in range(8)]
            + [("x", "x-1", HAPPY[i % 3], at) for i in range(4)])


def test_a_team_wide_spike_proposes_a_hold_once_with_its_evidence(db):
    calm = [("x", "x-0", HAPPY[i % 3], NOW - timedelta(days=5)) for i in range(20)]
    run(db, calm)
    result = run(db, spike_rows())
    [alert] = result.alerts
    assert alert.kind == "spike" and alert.reason.startswith("Negative comments spiked across all posts: 8 of 12")
    assert len(alert.examples) == 3 and all(e in ANGRY for e in alert.examples)
    assert {p.external_post_id for p in alert.posts} >= {"li-0", "li-1", "li-2"} and alert.proposal
    assert "Proposed: hold all publishing" in result.summary() and not alert.held
    with db.session() as session:
        assert not pause.state(session).held  # proposed, never held without a click
        assert pause.proposal(session, alert.proposal) == alert.reason
    again = run(db, [("linkedin", "li-9", ANGRY[0], NOW - timedelta(hours=1))])
    assert again.alerts == []  # one proposal per spike (per day)


def test_no_spike_below_the_minimum_or_near_the_usual_share(db):
    few = [("linkedin", "li-1", ANGRY[i % 5], NOW - timedelta(hours=1)) for i in range(6)]
    assert run(db, few).alerts == []  # 6 scored: too few to judge
    usual = [("x", "x-0", ANGRY[i % 5], NOW - timedelta(days=3)) for i in range(30)] + \
            [("x", "x-0", HAPPY[i % 3], NOW - timedelta(days=3)) for i in range(10)]
    run(db, usual)
    assert run(db, spike_rows()).alerts == []  # 67 % negative now, 75 % before: not a spike for this account


def test_alert_words_match_whatever_the_case_and_accents(db):
    rows = [("linkedin", "li-1", "Y a-t-il un RAPPEL sur le Guji ?", NOW), ("x", "x-2", "food  poisoning after the latte", NOW),
            ("x", "x-3", "Rappelez-moi le prix", NOW)]
    result = run(db, rows, alert_words=["rappel", "Food poisoning", "boycott"])
    assert [a.counts["word"] for a in result.alerts] == ["rappel", "Food poisoning"]
    assert result.alerts[0].examples == ["Y a-t-il un RAPPEL sur le Guji ?"]
    assert result.alerts[0].reason == "Comments mention “rappel”: 1 comment on 1 post"


def test_auto_hold_holds_at_once_with_the_reason(db):
    result = run(db, spike_rows(), auto_hold=True)
    [alert] = result.alerts
    with db.session() as session:
        state = pause.state(session)
    assert alert.held and state.held and state.held_by == alerts.AUTO_ACTOR and state.held_reason == alert.reason
    assert "Publishing is now on hold (PLUME_AUTO_HOLD)" in result.summary()
