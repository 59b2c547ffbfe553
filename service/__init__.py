"""The application service: every action a front end (Slack, the shell, the CLI) can ask for, with its
authorization and audit, in one place. Front ends parse input, call one method here, and render.

Two failures are handled here once, for every front end:
- a decision that was recorded but whose follow-up (scheduling, a revision) failed raises
  `FollowUpFailed`: the person is told the decision stands and what failed, and may retry;
- a click or submission whose work failed for any reason but "already decided" gives its
  delivery claim back (`Deliveries.once`), so clicking again works.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.sources import Limits
from service.briefs import Briefs
from service.chat import Deliveries, Threads
from service.decisions import Decided, Decisions
from service.news import News
from service.people import People
from service.posts import Posts, Queue, Unreadable
from service.reports import Reports
from service.rules import Rules

__all__ = ["Briefs", "Decided", "Decisions", "Deliveries", "News", "People", "Posts", "Queue", "Reports", "Rules",
           "Service", "Threads", "Unreadable", "build"]


@dataclass
class Service:
    people: People
    briefs: Briefs | None
    decisions: Decisions | None
    posts: Posts
    rules: Rules
    reports: Reports
    deliveries: Deliveries
    threads: Threads
    news: News


def build(*, settings, db, runner, scheduler, profile, clock, directory=None) -> Service:
    """The service over the assembled parts. Without a runner (commands that only read or settle records),
    `briefs` and `decisions` are None. `directory(group_id)` lists a user group's members (Slack), or None."""
    people = People(db=db, approvers=settings.approvers, directory=directory)
    deliveries = Deliveries(db)
    posts = Posts(db=db, scheduler=scheduler, people=people, zone=settings.plume_timezone, clock=clock)
    return Service(
        people=people,
        briefs=Briefs(db=db, runner=runner) if runner else None,
        decisions=Decisions(db=db, runner=runner, people=people, deliveries=deliveries,
                            wake=posts.wake) if runner else None,
        posts=posts,
        rules=Rules(db=db, profile=profile, people=people),
        reports=Reports(db=db, zone=settings.plume_timezone),
        deliveries=deliveries,
        threads=Threads(db),
        news=News(feeds=settings.feeds, limits=Limits.from_settings(settings)),
    )
