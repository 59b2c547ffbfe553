"""Brand rules Plume proposes (from the guidelines and from reviewers' feedback), and the approval rules."""

from __future__ import annotations

from core import approvals, rules
from core.brand import BrandProfile
from core.db import Database
from core.rules import Rule
from knowledge.profile import check_rule, with_rules
from service.people import People


class Rules:
    def __init__(self, *, db: Database, profile: BrandProfile, people: People):
        self.db = db
        self.profile = profile  # the kit's brand.yaml; accepted rules are merged over it, read fresh
        self.people = people

    def brand(self) -> BrandProfile:
        with self.db.session() as session:
            return with_rules(self.profile, rules.accepted(session))

    def proposals(self) -> list[Rule]:
        """Proposed rules awaiting a decision that the brand does not already enforce."""
        with self.db.session() as session:
            return rules.pending(session, with_rules(self.profile, rules.accepted(session)))

    def settle(self, *, rule_id: int, actor: str, accept: bool) -> Rule:
        """An approver accepts a rule (it applies to the next drafts) or dismisses it (never proposed again);
        a rule the brand profile cannot take is refused with the reason (ValidationFailed)."""
        self.people.refresh()
        with self.db.session() as session:
            return rules.settle(session, rule_id=rule_id, actor=actor, accept=accept,
                                approvers=self.people.approvers,
                                check=lambda accepted, rule: check_rule(self.profile, accepted, rule))

    def approvals(self) -> approvals.Rules:
        with self.db.session() as session:
            return approvals.rules(session)

    def set_approvals(self, *, actor: str, required: int | None = None,
                      forbid_self: bool | None = None) -> approvals.Rules:
        """How many approvers a draft needs, and whether a brief's author may approve its drafts (approvers only)."""
        self.people.refresh()
        with self.db.session() as session:
            return approvals.set_rules(session, actor=actor, approvers=self.people.approvers,
                                       required_approvals=required, forbid_self_approval=forbid_self)
