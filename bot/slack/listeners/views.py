"""Form submissions: field errors are answered in the ack; the decision runs after it."""

from __future__ import annotations

from bot.slack import blocks, requests
from bot.slack.decisions import decide
from bot.slack.requests import Submission
from core.domain import Action
from core.errors import PlumeError
from core.when import moment

VIEWS = {blocks.CHANGES_VIEW: Action.REQUEST_CHANGES, blocks.EDIT_VIEW: Action.EDIT, blocks.REJECT_VIEW: Action.REJECT}


def register(app, deps) -> None:
    for callback_id, action in VIEWS.items():
        app.view(callback_id)(_handler(deps, action))


def _handler(deps, action: Action):
    def on_submit(ack, body):
        submission = requests.submission(body, action)
        errors = requests.submission_errors(submission)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        view = body["view"]
        deps.submit(deps.slow, submission.user, submission.channel, submission.thread_ts, submit, deps, submission,
                    f"view:{view['id']}:{view.get('hash', '')}")
    on_submit.__name__ = f"on_{action}_submit"
    return on_submit


def submit(deps, sub: Submission, view_key: str) -> None:
    """One decision per submitted form (Slack may deliver a submission twice)."""
    zone = sub.zone or deps.zone
    run_at = None
    if sub.when:
        try:  # read in the ack too; time passes, and a hold may have started since
            run_at = deps.service.posts.when(sub.when, zone=zone, network=deps.service.posts.get(sub.post_id).network).at
        except PlumeError as exc:
            deps.threads.tell(sub.user, sub.channel, sub.thread_ts, f"✗ {exc} Nothing was changed.")
            return
    decided = decide(deps, action=sub.action, post_id=sub.post_id, version=sub.version, user=sub.user,
                     channel=sub.channel, thread_ts=sub.thread_ts, reason=sub.reason, text=sub.text,
                     run_at=run_at.isoformat() if run_at else None, claim=view_key)
    if decided and run_at:
        deps.threads.tell(sub.user, sub.channel, sub.thread_ts,
                          f"🕘 Post #{sub.post_id} is now proposed for *{moment(run_at, zone)}*.")
