"""Proposed brand rules, wherever Plume found them, in one store: a human accepts or dismisses each.

A rule is a small brand.yaml fragment ({"banned": {"cheap": "affordable"}},
{"hashtags": {"max": 3}}, {"reviewer_notes": ["Lead with the coffee"]}…). Two sources propose
them: `plume ingest`, from sentences in the guidelines ("never say “cheap”"), and the feedback
loop (core.feedback), from edits and requests reviewers repeat. Nothing proposed changes a draft
until an approver accepts it — in the shell, with a Slack button or `plume rules accept N`;
accepted rules are merged over the kit's profile for every following draft
(knowledge.profile.with_rules). The kit's own files are never rewritten.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import audit
from core.approvals import require_approver
from core.brand import BrandProfile
from core.db import now
from core.errors import InvalidTransition, NotFound
from core.models import RuleRow, RuleSourceRow

PROPOSED, ACCEPTED, DISMISSED = "proposed", "accepted", "dismissed"
FEEDBACK, GUIDELINES = "feedback", "guidelines"


@dataclass
class Rule:
    id: int
    rule: dict[str, Any]
    evidence: str  # why Plume proposes it, in a sentence
    source: str  # FEEDBACK | GUIDELINES
    status: str = PROPOSED
    locale: str = ""  # the guideline's language, for rules found in one
    found_in: list[dict[str, str]] = field(default_factory=list)  # source, heading, quote
    decided_by: str | None = None

    @property
    def summary(self) -> str:
        return describe(self.rule)

    @property
    def origin(self) -> str:
        """Where the proposal comes from, in a line."""
        if self.found_in:
            where = self.found_in[0]
            return f"{where['source']} › {where['heading']}: “{where['quote']}”"
        return f"learned from feedback: {self.evidence}"


def _rule(row: RuleRow) -> Rule:
    return Rule(row.id, dict(row.rule), row.evidence, row.source, row.status, row.locale,
                list(row.found_in or []), row.decided_by)


# --- what a rule says --------------------------------------------------------------------------


def rule_key(rule: dict[str, Any]) -> str:
    """Identity of a rule: the same banned word with another replacement is the same rule."""
    if "banned" in rule:
        return "banned:" + next(iter(rule["banned"])).lower()
    return json.dumps(rule, sort_keys=True, ensure_ascii=False).lower()[:300]


def describe(rule: dict[str, Any]) -> str:
    if "banned" in rule:
        word, replacement = next(iter(rule["banned"].items()))
        return f"avoid “{word}”" + (f" — write “{replacement}” instead" if replacement else "")
    if "reviewer_notes" in rule:
        return f"reviewers ask: “{rule['reviewer_notes'][0]}”"
    if "disclosures" in rule:
        entry = rule["disclosures"][0]
        return f"require {entry['tag']} when a post mentions “{entry['when'][0]}”"
    if "hashtags" in rule:
        ((what, value),) = rule["hashtags"].items()
        if what == "max":
            return f"at most {value} hashtags per post"
        return f"{'always include' if what == 'required' else 'never use'} {value[0]}"
    if "emoji" in rule:
        ((what, value),) = rule["emoji"].items()
        return "no emoji" if what == "allowed" else f"at most {value} emoji per post"
    return json.dumps(rule, ensure_ascii=False)


def covered(rule: dict[str, Any], profile: BrandProfile, locale: str = "") -> bool:
    """Whether the profile already enforces the rule (so proposing it would be noise)."""
    if "banned" in rule:
        word = next(iter(rule["banned"])).lower()
        if word in {w.lower() for w in profile.banned}:
            return True
        # A French "write X rather than cold brew" is what the fr glossary already enforces.
        glossaries = [profile.glossary.get(locale, {})] if locale else profile.glossary.values()
        return any(word in {t.lower() for t in terms} for terms in glossaries)
    if "reviewer_notes" in rule:
        return rule["reviewer_notes"][0].lower() in {n.lower() for n in profile.reviewer_notes}
    if "hashtags" in rule:
        ((what, value),) = rule["hashtags"].items()
        if what == "max":
            return profile.hashtags.max == value
        present = {t.lower() for t in getattr(profile.hashtags, what)}
        return value[0].lower() in present
    if "emoji" in rule:
        ((what, value),) = rule["emoji"].items()
        return profile.emoji.allowed == value if what == "allowed" else profile.emoji.max == value
    if "disclosures" in rule:
        entry = rule["disclosures"][0]
        trigger = entry["when"][0].lower()
        return any(
            d.tag.lower() == entry["tag"].lower()
            and any(trigger in w.lower() or w.lower() in trigger for w in d.when)
            for d in profile.disclosures
        )
    return False


# --- the store ---------------------------------------------------------------------------------


def propose(session: Session, *, rule: dict[str, Any], evidence: str, source: str, locale: str = "",
            found_in: Iterable[dict[str, str]] = ()) -> Rule | None:
    """Store a proposal; None when the same rule was proposed before (each rule is proposed once, ever)."""
    key = rule_key(rule)
    if session.scalar(select(RuleRow.id).where(RuleRow.key == key)) is not None:
        return None
    row = RuleRow(key=key, kind=next(iter(rule)), rule=rule, evidence=evidence, source=source,
                  locale=locale, found_in=list(found_in), status=PROPOSED, created_at=now())
    session.add(row)
    session.flush()
    return _rule(row)


@dataclass(frozen=True)
class Finding:
    """A rule read in one guideline: the fragment and where it was read."""

    rule: dict[str, Any]
    heading: str
    quote: str


def scanned(session: Session) -> dict[str, str]:
    """Each guideline file read for rules, with the content hash that was read."""
    return {row.source: row.content_hash for row in session.scalars(select(RuleSourceRow))}


def record_guidelines(session: Session, *, source: str, digest: str, locale: str,
                      findings: Iterable[Finding]) -> list[Rule]:
    """Replace what guideline `source` proposes with `findings`; returns the proposals new to the store.

    A rule found again keeps its number and decision; an open proposal that no file states any
    more is withdrawn, while decided ones stay (so a dismissed rule is never proposed again).
    """
    _forget(session, source)
    row = session.get(RuleSourceRow, source)
    if row is None:
        session.add(RuleSourceRow(source=source, content_hash=digest))
    else:
        row.content_hash = digest
    new = []
    for finding in findings:
        where = {"source": source, "heading": finding.heading, "quote": finding.quote}
        existing = session.scalar(select(RuleRow).where(RuleRow.key == rule_key(finding.rule)))
        if existing is None:
            proposed = propose(session, rule=finding.rule, evidence=f"the guidelines say so ({source})",
                               source=GUIDELINES, locale=locale, found_in=[where])
            new.append(proposed)
        elif existing.source == GUIDELINES and where not in (existing.found_in or []):
            existing.found_in = [*(existing.found_in or []), where]
    _withdraw_orphans(session)
    session.flush()
    return [rule for rule in new if rule is not None]


def forget_source(session: Session, *, source: str) -> None:
    """A guideline file was removed from the kit: what only it proposed is withdrawn."""
    _forget(session, source)
    session.execute(delete(RuleSourceRow).where(RuleSourceRow.source == source))
    _withdraw_orphans(session)
    session.flush()


def _forget(session: Session, source: str) -> None:
    for row in session.scalars(select(RuleRow).where(RuleRow.source == GUIDELINES)):
        kept = [w for w in row.found_in or [] if w.get("source") != source]
        if kept != (row.found_in or []):
            row.found_in = kept


def _withdraw_orphans(session: Session) -> None:
    session.flush()
    for row in session.scalars(select(RuleRow).where(RuleRow.source == GUIDELINES, RuleRow.status == PROPOSED)):
        if not row.found_in:
            session.delete(row)


def rules(session: Session, *, status: str | None = None) -> list[Rule]:
    """Every rule Plume proposed, oldest first (or those with one status)."""
    query = select(RuleRow).order_by(RuleRow.id)
    if status:
        query = query.where(RuleRow.status == status)
    return [_rule(r) for r in session.scalars(query)]


def pending(session: Session, profile: BrandProfile) -> list[Rule]:
    """Proposals awaiting a decision that the profile (with the accepted rules) does not already enforce."""
    return [r for r in rules(session, status=PROPOSED) if not covered(r.rule, profile, r.locale)]


def accepted(session: Session) -> list[dict[str, Any]]:
    """The accepted rules as brand.yaml fragments, in the order they were accepted."""
    query = select(RuleRow).where(RuleRow.status == ACCEPTED).order_by(RuleRow.decided_at, RuleRow.id)
    return [dict(row.rule) for row in session.scalars(query)]


def settle(session: Session, *, rule_id: int, actor: str, accept: bool, approvers: list[str],
           check: Callable[[list[dict[str, Any]], dict[str, Any]], object] | None = None) -> Rule:
    """An approver accepts (it applies to the next drafts) or dismisses (never proposed again) a rule.

    `check(accepted, rule)` sees the rules accepted so far and the one about to be, and raises
    (ValidationFailed) to refuse it — agents.state.Context.check_rule refuses a rule the brand
    profile cannot take.
    """
    require_approver(session, actor=actor, approvers=approvers, doing="change the brand rules")
    row = session.get(RuleRow, rule_id, with_for_update=True)
    if row is None:
        raise NotFound(f"There is no proposed rule #{rule_id}.")
    if row.status != PROPOSED:
        raise InvalidTransition(f"Rule #{rule_id} was already {row.status} by {row.decided_by}.",
                                current=row.status, decided_by=row.decided_by)
    if accept and check is not None:
        check(accepted(session), dict(row.rule))
    row.status, row.decided_by, row.decided_at = (ACCEPTED if accept else DISMISSED), actor, now()
    audit.record(session, f"rule.{row.status}", actor=actor, rule_id=row.id, rule=dict(row.rule),
                 source=row.source)
    session.flush()
    return _rule(row)
