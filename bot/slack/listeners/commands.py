"""/plume: acked at once, answered privately through the response_url."""

from __future__ import annotations

from bot.slack import requests
from bot.slack.work import Busy


def register(app, deps) -> None:
    @app.command("/plume")
    def on_plume(ack, body):
        try:
            deps.fast.submit(deps.flows.command, requests.command(body))
        except Busy as exc:
            ack(str(exc))
            return
        ack()
