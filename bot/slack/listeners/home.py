"""The App Home tab: drafts awaiting the viewer, proposed rules for approvers, the next and last 7 days."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

from bot.slack import blocks, reports
from bot.slack.work import Busy
from core.domain import Status


def register(app, deps) -> None:
    @app.event("app_home_opened")
    def on_home_opened(body, event):
        if event.get("tab", "home") == "home":
            with contextlib.suppress(Busy):  # the next visit refreshes it
                deps.fast.submit(opened, deps, event["user"], body.get("event_id"))


def opened(deps, user: str, event_id: str | None) -> None:
    if event_id and not deps.service.deliveries.claim(f"event:{event_id}"):
        return
    refresh_home(deps, user)


def refresh_home(deps, user: str) -> None:
    service = deps.service
    zone = deps.zone_of(user)
    waiting, approver = service.people.awaiting(user)
    horizon = datetime.now(UTC) + timedelta(days=7)
    upcoming = [p for p in service.posts.with_status([Status.SCHEDULED, Status.HELD])
                if p.run_at and datetime.fromisoformat(p.run_at) <= horizon]
    proposed = service.rules.proposals() if approver else []
    deps.api.publish_home(user, blocks.home_view(waiting=waiting, upcoming=upcoming, zone=zone, approver=approver,
                                                 held_note=blocks.held_note(service.posts.paused()),
                                                 proposed=proposed,
                                                 recent=reports.home_blocks(service.reports, zone)))
