"""A human decision from Slack (a button, a form, a reply in the thread), applied once and shown."""

from __future__ import annotations

import logging

from bot.slack import blocks
from bot.slack.listeners.home import refresh_home
from core.domain import Action, Decision, Status
from core.errors import FollowUpFailed, InvalidTransition, NotAuthorized, PlumeError

log = logging.getLogger(__name__)


def decide(deps, *, action: Action, post_id: int, version: int, user: str, channel: str | None,
           thread_ts: str | None, reason: str = "", text: str | None = None, run_at: str | None = None,
           claim: str | None = None) -> bool:
    """Apply one decision and show it; False when nothing changed (the person was told why)."""
    threads = deps.threads
    decision = Decision(post_id=post_id, action=str(action), actor=user, version=version, reason=reason,
                        text=text, run_at=run_at)
    try:
        # The card shows the decision as soon as it is stored, before any slow model work.
        decided = deps.service.decisions.decide(decision, claim=claim,
                                                on_recorded=lambda post: threads.sync_post(post.id))
    except FollowUpFailed as exc:  # recorded: the brief's thread hears it, with Retry
        threads.sync_post(post_id)
        threads.say_in_thread(exc.thread_id, blocks.follow_up_failed(f"{exc} Press Retry.", thread_id=exc.thread_id),
                              user=user)
        return True
    except InvalidTransition as exc:
        awaiting = exc.current in (None, Status.AWAITING_APPROVAL)
        threads.tell(user, channel, thread_ts, str(exc) if awaiting else blocks.already(exc.current, exc.decided_by))
        threads.sync_post(post_id)
        return False
    except PlumeError as exc:  # NotAuthorized, ValidationFailed, NotFound, the database unavailable…
        prefix = "🙅 " if isinstance(exc, NotAuthorized) else "✗ "
        threads.tell(user, channel, thread_ts, f"{prefix}{blocks.escape(str(exc))} Nothing was changed.")
        threads.sync_post(post_id)
        return False
    except Exception as exc:  # a bug: still answer, and the click's claim was given back
        log.exception("decision on post %s failed", post_id)
        threads.tell(user, channel, thread_ts, f"✗ Something went wrong ({type(exc).__name__}); nothing was changed. "
                                               "Try again in a moment.")
        return False
    if decided is None:
        return False  # a double click, or Slack delivering the same click again
    threads.sync_thread(decided.post.thread_id)
    for rule in decided.proposals:  # a repeated edit or request: an approver may make it a rule
        threads.say(channel, thread_ts, blocks.rule_proposal(rule), user=user)
    if action is Action.APPROVE and decided.waiting_for_votes:
        threads.tell(user, channel, thread_ts, f"👍 Your approval is recorded ({decided.votes} of {decided.needed}).")
    if channel is None:
        refresh_home(deps, user)
    return True
