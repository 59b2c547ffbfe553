"""The crisis brake: a team-wide spike of negative comments, or a word the team watches for, proposes a hold.

Team-wide spike: over the last 24 hours, at least 10 scored comments across all posts, at least 30 %
of them negative, and at least twice the negative share of the 30 days before (comments dated by
when they were written, else when imported). Per-post spikes are flagged in each post's thread
(insights.comments); this one is about the whole account.

Alert words (PLUME_ALERT_WORDS, e.g. "recall, food poisoning, boycott") are matched in the comments an
import adds or changes, as whole words or phrases, ignoring case and accents ("rappel" finds "Rappel").

Each alert is proposed once (a claim per kind, word and day), with its evidence: the posts, the counts
and up to three example comments. Nothing is held unless an approver presses *Hold all publishing* —
or the team opted in with PLUME_AUTO_HOLD, and then the hold says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import regex
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core import chat, pause
from core.grounding import fold
from core.models import CommentRow
from insights import reports

WINDOW = timedelta(hours=24)
BASELINE = timedelta(days=30)
MIN_SCORED = 10
SHARE = 0.3
EXAMPLES = 3
AUTO_ACTOR = "plume (PLUME_AUTO_HOLD)"


@dataclass
class Alert:
    kind: str  # "spike" | "words"
    reason: str  # one line, also the hold's reason
    posts: list[reports.Negative] = field(default_factory=list)  # the posts concerned, with their counts
    examples: list[str] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    proposal: int | None = None  # the recorded proposal (core.pause.propose): the button's value
    held: bool = False  # PLUME_AUTO_HOLD held publishing at once

    def evidence(self) -> dict:
        return {"kind": self.kind, "counts": self.counts, "examples": self.examples,
                "posts": [{"network": p.network, "post_id": p.post_id, "external_post_id": p.external_post_id,
                           "scored": p.scored, "negative": p.negative} for p in self.posts]}


def raise_alerts(session: Session, *, imported: list[dict], words: list[str], now: datetime,
                 auto_hold: bool = False) -> list[Alert]:
    """The alerts this import raises, each proposed once (and held at once with `auto_hold`)."""
    found = [a for a in [team_spike(session, now=now), *word_alerts(session, imported, words, now=now)] if a]
    raised = []
    for alert in found:
        key = f"crisis:{alert.kind}:{alert.counts.get('word', '')}:{now:%Y-%m-%d}"
        if not chat.claim(session, key=key):
            continue  # already proposed today
        alert.proposal = pause.propose(session, reason=alert.reason, evidence=alert.evidence())
        if auto_hold and not pause.state(session).held:
            pause.hold(session, actor=AUTO_ACTOR, reason=alert.reason)
            alert.held = True
        raised.append(alert)
    return raised


def team_spike(session: Session, *, now: datetime) -> Alert | None:
    written = func.coalesce(CommentRow.at, CommentRow.imported_at)
    _all, scored, negative = reports.comment_totals(session, written >= now - WINDOW, written <= now)
    if scored < MIN_SCORED:
        return None
    _all, before, before_negative = reports.comment_totals(session, written >= now - WINDOW - BASELINE,
                                                           written < now - WINDOW)
    usual = before_negative / before if before else 0.0
    share = negative / scored
    if share < max(SHARE, 2 * usual):
        return None
    recent = [written >= now - WINDOW, written <= now]
    reason = (f"Negative comments spiked across all posts: {negative} of {scored} in the last 24 h "
              f"({reports.percent(share)}, usually {reports.percent(usual)})")
    return Alert("spike", reason, posts=_posts(session, recent), examples=_examples(session, recent),
                 counts={"scored": scored, "negative": negative, "share": round(share, 3), "usual": round(usual, 3)})


def word_alerts(session: Session, imported: list[dict], words: list[str], *, now: datetime) -> list[Alert]:
    alerts = []
    for word in words:
        pattern = regex.compile(r"(?<![\p{L}\p{N}])" + r"\s+".join(map(regex.escape, fold(word).split()))
                                + r"(?![\p{L}\p{N}])")
        hits = [c for c in imported if pattern.search(fold(c["text"]))]
        if not hits:
            continue
        posts = sorted({(c["network"], c["external_post_id"]) for c in hits})
        where = [CommentRow.comment_id.in_([c["comment_id"] for c in hits])]
        reason = (f"Comments mention “{word}”: {len(hits)} comment{'s' * (len(hits) != 1)} on "
                  f"{len(posts)} post{'s' * (len(posts) != 1)}")
        alerts.append(Alert("words", reason, posts=_posts(session, where), examples=[c["text"] for c in hits][:EXAMPLES],
                            counts={"word": word, "comments": len(hits), "posts": len(posts)}))
    return alerts


def _posts(session: Session, where: list) -> list[reports.Negative]:
    negative = func.sum(case((CommentRow.sentiment <= reports.NEGATIVE, 1), else_=0))
    scored = func.sum(case((CommentRow.sentiment.is_not(None), 1), else_=0))
    rows = session.execute(select(CommentRow.network, CommentRow.external_post_id, scored, negative).where(*where)
                           .group_by(CommentRow.network, CommentRow.external_post_id)
                           .order_by(negative.desc(), CommentRow.network, CommentRow.external_post_id).limit(5))
    return reports.describe_posts(session, [(n, e, int(s or 0), int(b or 0)) for n, e, s, b in rows])


def _examples(session: Session, where: list) -> list[str]:
    rows = session.scalars(select(CommentRow.text).where(*where, CommentRow.sentiment <= reports.NEGATIVE)
                           .order_by(CommentRow.sentiment, CommentRow.id).limit(EXAMPLES))
    return [" ".join(text.split())[:280] for text in rows]
