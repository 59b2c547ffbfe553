"""Who may decide: the approvers named in the settings, user groups resolved through the front end's directory."""

from __future__ import annotations

import logging
from collections.abc import Callable

from core import approvals
from core.db import Database
from core.domain import Action, Post, Status
from core.errors import NotAuthorized

log = logging.getLogger(__name__)


class People:
    def __init__(self, *, db: Database, approvers: list[str], directory: Callable[[str], list[str] | None] | None):
        self.db = db
        self.approvers = approvers
        self.directory = directory

    def refresh(self) -> None:
        """Resolve approver user groups not looked up in the last 10 minutes (members cached in the database)."""
        if self.directory is None:
            return
        with self.db.session() as session:
            stale = approvals.stale_groups(session, self.approvers)
        for group_id in stale:
            members = self.directory(group_id)
            if members is not None:
                with self.db.session() as session:
                    approvals.store_group(session, group_id=group_id, members=members)

    def is_approver(self, actor: str) -> bool:
        self.refresh()
        with self.db.session() as session:
            return approvals.is_approver(session, actor=actor, approvers=self.approvers)

    def groups(self) -> list[str]:
        return [a for a in self.approvers if approvals.is_group(a)]

    def awaiting(self, actor: str) -> tuple[list[Post], bool]:
        """Drafts this person could decide now (an approver's), or every draft awaiting approval (others'),
        by id; and whether the person is an approver."""
        from core import posts

        self.refresh()
        with self.db.session() as session:
            waiting = sorted(posts.with_status(session, [Status.AWAITING_APPROVAL]), key=lambda p: p.id)
            if not approvals.is_approver(session, actor=actor, approvers=self.approvers):
                return waiting, False
            mine = []
            for post in waiting:
                try:
                    approvals.authorize(session, post_id=post.id, actor=actor, action=Action.APPROVE,
                                        approvers=self.approvers)
                except NotAuthorized:
                    continue
                if actor not in approvals.votes(session, post_id=post.id, version=post.version):
                    mine.append(post)
        return mine, True
