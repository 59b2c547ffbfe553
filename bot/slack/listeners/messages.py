"""Mentions, DMs and replies in a brief's thread."""

from __future__ import annotations

from bot.slack import requests


def register(app, deps) -> None:
    @app.event("app_mention")
    def on_mention(body, event):
        request = requests.message(event, requests.team_of(body))
        if request:
            deps.flows.accept_message(request, mentioned=True, event_id=body.get("event_id"))

    @app.event("message")
    def on_message(body, event):
        request = requests.message(event, requests.team_of(body))
        if request and (request.direct or request.thread_ts):
            deps.flows.accept_message(request, mentioned=False, event_id=body.get("event_id"))
