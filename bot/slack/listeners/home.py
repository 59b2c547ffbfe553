"""The App Home tab: pending approvals for the viewer and the next 7 days."""

from __future__ import annotations

import contextlib

from bot.slack.work import Busy


def register(app, deps) -> None:
    @app.event("app_home_opened")
    def on_home_opened(body, event):
        if event.get("tab", "home") == "home":
            with contextlib.suppress(Busy):  # the next visit refreshes it
                deps.fast.submit(deps.flows.refresh_home, event["user"], body.get("event_id"))
