"""Human decisions on drafts (approve, request changes, edit, reject), recorded once, then followed up by the graph."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from agents.runner import BriefInterrupted, Listener, Outcome, Runner
from core import approvals, decisions, posts
from core.db import Database
from core.domain import Action, Decision, Post, Status
from core.errors import FollowUpFailed, InvalidTransition, PlumeError
from core.rules import Rule
from service.chat import Deliveries
from service.people import People

FOLLOW_UPS = {  # what the graph does after each decision, for the message when it does not finish
    Action.APPROVE: ("Your approval of post #{id} is recorded", "scheduling it"),
    Action.REQUEST_CHANGES: ("Your request for changes on post #{id} is recorded", "revising the draft"),
    Action.EDIT: ("Your edit of post #{id} is recorded", "checking the new text"),
    Action.REJECT: ("Your rejection of post #{id} is recorded", "closing the draft"),
}


@dataclass
class Decided:
    post: Post  # as the decision left it (an approval waiting for more votes stays awaiting)
    outcome: Outcome  # the thread after the graph reacted
    proposals: list[Rule] = field(default_factory=list)  # rules the decision made worth proposing
    votes: int = 0  # approvals of this version so far
    needed: int = 1  # approvals the workspace requires

    @property
    def waiting_for_votes(self) -> bool:
        return self.post.status == Status.AWAITING_APPROVAL and self.votes < self.needed


class Decisions:
    def __init__(self, *, db: Database, runner: Runner, people: People, deliveries: Deliveries,
                 wake: Callable[[], None] = lambda: None):
        self.db = db
        self.wake = wake  # tells this process's publisher that an approved post may now be due
        self.runner = runner
        self.people = people
        self.deliveries = deliveries

    def decide(self, decision: Decision, *, claim: str | None = None, on_event: Listener | None = None,
               on_recorded: Callable[[Post], None] | None = None) -> Decided | None:
        """Record one decision (validated, authorized, audited), then let the graph react.

        `claim` names the delivery (a click): a repeat returns None, and a failure gives it back.
        `on_recorded(post)` runs as soon as the decision is stored, before any slow follow-up.
        Refusals raise before anything changes (NotAuthorized, InvalidTransition, ValidationFailed);
        a follow-up that fails after the decision is stored raises FollowUpFailed.
        """
        self.people.refresh()
        with self.deliveries.once(claim) as first:
            if not first:
                return None
            recorded = decisions.record(self.db, decision, approvers=self.people.approvers,
                                        profile=self.runner.context.brand())
            post = recorded.post
            if on_recorded is not None:
                on_recorded(post)
            try:
                outcome = self.runner.resume(post.thread_id, on_event, responses=[self.runner.response_for(decision)],
                                             actor=decision.actor)
            except Exception as exc:
                done, follow_up = FOLLOW_UPS[Action(decision.action)]
                raise FollowUpFailed(f"{done.format(id=post.id)}, but {follow_up} did not finish ({_why(exc)}). "
                                     "Nothing is lost: retrying carries on from there.",
                                     post_id=post.id, thread_id=post.thread_id) from exc
        self.wake()
        with self.db.session() as session:
            votes = len(approvals.votes(session, post_id=post.id, version=post.version))
            needed = approvals.rules(session).required_approvals
        return Decided(post, outcome, recorded.proposals, votes, needed)

    def form(self, *, post_id: int, version: int, action: Action, actor: str) -> Post:
        """Before a form opens (Request changes, Edit, Reject): the draft, if this person may still decide it.

        Raises InvalidTransition (already decided, or changed since it was shown) or NotAuthorized."""
        self.people.refresh()
        with self.db.session() as session:
            post = posts.get(session, post_id)
            if post.status != Status.AWAITING_APPROVAL:
                raise InvalidTransition(f"Post #{post.id} was already decided ({post.status.replace('_', ' ')}).",
                                        current=post.status, decided_by=post.approved_by or post.last_actor)
            if post.version != version:
                raise InvalidTransition(f"Post #{post.id} changed since you saw it (now version {post.version}); "
                                        "look at the new card.", current=post.status)
            if action is Action.REJECT:
                approvals.authorize(session, post_id=post.id, actor=actor, action=action,
                                    approvers=self.people.approvers)
        return post


def _why(exc: Exception) -> str:
    """What failed, in a few words: the graph's own message is generic, so name the cause it wraps."""
    cause = exc.__cause__ if isinstance(exc, BriefInterrupted) and exc.__cause__ else exc
    return str(cause) if isinstance(cause, PlumeError) or not str(cause) else f"{type(cause).__name__}: {cause}"
