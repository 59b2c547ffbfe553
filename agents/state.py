"""The graph's state (plain JSON-able values only: checkpoints are strict msgpack) and its nodes' dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# pydantic, which writes LangGraph's server schemas, needs typing_extensions' TypedDict before Python 3.12
from typing_extensions import TypedDict

from agents.models import Model
from core import rules
from core.brand import BrandProfile
from core.db import Database
from core.domain import Passage
from core.settings import Settings
from knowledge.profile import check_rule, with_rules


class Knowledge(Protocol):
    def search(self, query: str, k: int = 4, locale: str | None = None) -> list[Passage]: ...


class BriefInput(TypedDict):
    """A brief in words: what to announce, where, in which languages and when, e.g. “Announce our new
    Guji roast on LinkedIn and X in English and French, tomorrow morning”."""

    text: str  # all a run starts from (Studio's form): its sender and thread come from the run itself


class BriefState(TypedDict, total=False):
    thread_id: str  # the run's thread (config), set by intake
    text: str
    actor: str  # who sent the brief: the run's authenticated user (see nodes.actor_of)
    brief: dict  # core.domain.Brief
    passages: list[dict]  # core.domain.Passage
    sources: list[dict]  # pages and news items read for the brief, or why not (core.sources)
    # core.domain.Variant dicts plus bookkeeping: stage ("new" | "presented" | "rework"),
    # status (mirrors the post), rounds (model revisions used), feedback (a reviewer's request)
    variants: list[dict]
    phase: str  # "draft" | "localize" | "rework": where `check` goes next
    offline: bool
    notes: list[str]


@dataclass
class Context:
    """What nodes use besides the state: live objects bound to the nodes when the graph is built
    (agents.graph.build), never sent by a caller nor checkpointed. LangGraph's run context stays
    empty, so any caller (Plume's runner, LangGraph's server) can start a run."""

    settings: Settings
    db: Database
    knowledge: Knowledge
    profile: BrandProfile
    model: Model | None
    clock: Callable[[], datetime]
    # The time zone and country of the audience a network's channel reaches (channels file), if set.
    audience: Callable[[str], tuple[str | None, str | None]] = lambda network: (None, None)

    def brand(self) -> BrandProfile:
        """The kit's profile plus the rules humans accepted, read fresh so an accept applies to the next draft."""
        with self.db.session() as session:
            return with_rules(self.profile, rules.accepted(session))

    def check_rule(self, accepted: list[dict], rule: dict) -> None:
        """Raise ValidationFailed unless `rule` can join the kit's profile and the `accepted` rules
        (core.rules.settle's check)."""
        check_rule(self.profile, accepted, rule)
