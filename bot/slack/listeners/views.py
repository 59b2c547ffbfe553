"""Modal submissions: field errors are answered in the ack; the decision runs after it."""

from __future__ import annotations

from bot.slack import blocks, requests
from core.domain import Action

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
        deps.flows.accept_submission(submission, f"view:{view['id']}:{view.get('hash', '')}")

    on_submit.__name__ = f"on_{action}_submit"
    return on_submit
