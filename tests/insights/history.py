"""A known week of Plume history (briefs, decisions, publications, metrics, comments) for report tests.

Times are set with a controllable clock on the write funnel's modules, so every transition still goes through the
write funnel and writes its audit event, at the moment the story says it happened."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core import approvals, audit, claims, pause, posts
from core.domain import Action, Decision, Variant
from core.models import CommentRow, MetricRow

ZONE = "Europe/Paris"
TODAY = date(2026, 12, 3)  # a Thursday; "week" is Fri 27 Nov – Thu 3 Dec in Paris


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.value = at(1, 0)

    def __call__(self) -> datetime:
        return self.value


def build(db, monkeypatch) -> dict[str, int]:
    """Three briefs, six posts; returns post ids by name."""
    clock = Clock()
    for module in (posts, audit, claims, approvals, pause):
        monkeypatch.setattr(module, "now", clock)
    ids: dict[str, int] = {}

    def step(when: datetime, fn, *args, **kwargs):
        clock.value = when
        with db.session() as session:
            return fn(session, *args, **kwargs)

    def brief(when, thread):
        step(when, posts.save_brief, thread_id=thread, text=f"brief {thread}", actor="UANA")

    def present(when, thread, network, name=None, post_id=None, text=None):
        variant = Variant(network=network, locale="en", text=text or f"{network} post for {thread}",
                          proposed_at=None, post_id=post_id)
        post = step(when, posts.present, thread_id=thread, variant=variant, citations=[])
        if name:
            ids[name] = post.id
        return post

    def decide(when, name, action, reason=""):
        with db.session() as session:
            version = posts.get(session, ids[name]).version
        return step(when, posts.decide, Decision(post_id=ids[name], action=str(action), actor="UMIA",
                                                 version=version, reason=reason), approvers=[])

    def publish(when, name, run_at, outcome, ref=None):
        step(when, posts.schedule, post_id=ids[name], run_at=run_at)
        if outcome == "held":
            return
        clock.value = run_at
        with db.session() as session:
            assert claims.take_for_publishing(session, post_id=ids[name]) is not None
            if outcome == "published":
                clock.value = run_at + timedelta(minutes=1)
                claims.mark_published(session, post_id=ids[name], ref=ref)
            elif outcome == "failed":
                claims.mark_failed(session, post_id=ids[name], reason="network said no")
            else:
                claims.mark_unknown(session, post_id=ids[name], reason="timed out")

    # Brief C, long before the period
    brief(at(20, 9, month=11), "tC")
    present(at(20, 9, 5, month=11), "tC", "linkedin", "old")
    decide(at(20, 10, month=11), "old", Action.APPROVE)
    publish(at(20, 10, 5, month=11), "old", at(21, 9, month=11), "published", ref="li-old")

    # Brief A, Monday 30 Nov 09:00 UTC
    brief(at(30, 9, month=11), "tA")
    present(at(30, 9, 5, month=11), "tA", "linkedin", "li")
    present(at(30, 9, 5, month=11), "tA", "x", "x")
    decide(at(30, 11, month=11), "li", Action.APPROVE)  # 2 h after the brief, as drafted
    decide(at(30, 10, month=11), "x", Action.REQUEST_CHANGES, "Off-brand tone: too formal")
    present(at(30, 10, 30, month=11), "tA", "x", post_id=ids["x"], text="x post, warmer")
    decide(at(30, 13, month=11), "x", Action.APPROVE)  # 4 h, after changes
    publish(at(30, 13, 5, month=11), "li", at(1, 10, 59), "published", ref="li-1")  # approval → published: 24 h
    publish(at(30, 13, 5, month=11), "x", at(2, 9), "failed")

    # Brief B, Tuesday 1 Dec 08:00 UTC
    brief(at(1, 8), "tB")
    present(at(1, 8, 10), "tB", "linkedin", "rejected")
    present(at(1, 8, 10), "tB", "x", "unknown")
    present(at(1, 8, 10), "tB", "mastodon", "held")
    decide(at(1, 9), "rejected", Action.REQUEST_CHANGES, "Off-brand tone, Timing: move it to Friday")
    present(at(1, 9, 30), "tB", "linkedin", post_id=ids["rejected"], text="linkedin, Friday")
    decide(at(1, 12), "rejected", Action.REJECT, "Wrong facts")
    decide(at(1, 14), "unknown", Action.APPROVE)  # 6 h
    decide(at(1, 9), "held", Action.APPROVE)  # 1 h
    publish(at(1, 14, 5), "unknown", at(3, 10), "unknown")
    publish(at(1, 15, 5), "held", at(3, 18), "held")
    step(at(3, 19), claims.hold_overdue, post_id=ids["held"], reason="found overdue at start-up")

    return ids


def add_metrics(db, ids: dict[str, int]) -> None:
    rows = [
        # Tue 1 Dec 09:00 Paris: 50 of 1000, and 60 (from the parts) of 2000
        MetricRow(network="linkedin", external_id="li-1", post_id=ids["li"], posted_at=at(1, 8), text="li post",
                  url="https://linkedin.example/li-1", impressions=1000, engagements=50, source="test"),
        MetricRow(network="x", external_id="x-2", posted_at=at(1, 8, 10), text="x two", impressions=2000,
                  likes=30, comments=10, shares=0, clicks=20, source="test"),
        # Wed 2 Dec 18:00 Paris: 40 of 500, and 10 of 50 (too few impressions to rank)
        MetricRow(network="x", external_id="x-3", posted_at=at(2, 17), text="x three", url="https://x.example/3",
                  impressions=500, engagements=40, source="test"),
        MetricRow(network="x", external_id="x-4", posted_at=at(2, 17, 30), text="x four", impressions=50,
                  engagements=10, source="test"),
        MetricRow(network="linkedin", external_id="li-old", posted_at=at(10, 8, month=11), text="old",
                  impressions=100, engagements=99, source="test"),
    ]
    with db.session() as session:
        session.add_all(rows)


NEGATIVE = ["This is terrible, I hate it", "Awful service, very disappointed", "Worst coffee ever, so bad",
            "Horrible. Never again."]
POSITIVE = ["Love this!", "Great news, thanks", "Amazing roast, love it"]


def comments_csv() -> str:
    """li-1: 4 negative of 6; x-3: 10 positive and 2 French comments nobody scores offline."""
    lines = ["network,post_id,comment_id,author,text,created_at,language"]
    for i, text in enumerate(NEGATIVE + POSITIVE[:2]):
        lines.append(f'linkedin,li-1,c-li-{i},user{i},"{text}",2026-12-01T12:0{i}:00Z,en')
    for i in range(10):
        lines.append(f'x,x-3,c-x-{i},fan{i},"{POSITIVE[i % 3]}",2026-12-02T18:{i:02d}:00Z,en')
    lines.append('x,x-3,c-x-fr1,fr1,"Super bon café, merci",2026-12-02T19:00:00Z,fr')
    lines.append('x,x-3,c-x-fr2,fr2,"Pas terrible",2026-12-02T19:01:00Z,fr')
    return "\n".join(lines) + "\n"


def add_comment_rows(db) -> None:
    """The same comments, stored as an import would store them (scores as VADER gives them)."""
    from insights.sentiment import Scorer

    scorer = Scorer()
    with db.session() as session:
        for line in comments_csv().splitlines()[1:]:
            network, ext, cid, author, rest = line.split(",", 4)
            text, _, tail = rest[1:].partition('",')
            created, language = tail.split(",")
            [score] = scorer.score([(text, language)])
            session.add(CommentRow(network=network, external_post_id=ext, comment_id=cid, author=author, text=text,
                                   at=datetime.fromisoformat(created.replace("Z", "+00:00")), language=language,
                                   sentiment=score))
