"""A human decision, recorded: validated, authorized and audited by the write funnel, then learned from.

Every path that decides a draft comes here: the application service (Slack, the shell, the CLI) and
the graph's approval node when a decision arrives in a resume value (LangChain's Agent Inbox).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from core import feedback, posts
from core.brand import BrandProfile
from core.db import Database
from core.domain import Decision, Post
from core.rules import Rule

log = logging.getLogger(__name__)


@dataclass
class Recorded:
    post: Post  # as the decision left it
    proposals: list[Rule] = field(default_factory=list)  # rules the decision made worth proposing


def record(db: Database, decision: Decision, *, approvers: list[str], profile: BrandProfile) -> Recorded:
    """Store one decision in its own transaction (raising PlumeError before any change when it is
    refused), then learn from it in another: feedback never slows down or undoes a decision."""
    with db.session() as session:
        before = posts.get(session, decision.post_id)
        post = posts.decide(session, decision, approvers=approvers)
    try:
        with db.session() as session:
            proposals = feedback.record(session, before=before, decision=decision, profile=profile)
    except Exception:  # the decision stands; only the learning from it is lost
        log.exception("could not learn from the decision on post %s", decision.post_id)
        proposals = []
    return Recorded(post, proposals)
