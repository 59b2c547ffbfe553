"""The only caller of the graph in Plume: starts briefs, resumes them after human decisions, and reports neutral events."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from langgraph.errors import GraphRecursionError
from langgraph.types import Command

from agents import answer, inbox, offline
from agents.graph import build
from agents.state import Context
from core import posts
from core.domain import Post, Status
from core.errors import PlumeError

log = logging.getLogger(__name__)

STEPS = {  # node → what the user sees once it has finished
    "intake": "Read the brief",
    "retrieve": "Retrieved brand guidelines",
    "draft": "Drafted the posts",
    "check": "Checked them against platform and brand rules",
    "revise": "Revised what failed the checks",
    "localize": "Localized",
    "propose_time": "Proposed publication times",
    "present": "Ready for review",
    "schedule": "Scheduled what was approved",
    "rework": "Working on the requested changes",
}
RECURSION_LIMIT = 60


class BriefInterrupted(PlumeError):
    """A graph run stopped on an unexpected error; the thread resumes from its last checkpoint."""


@dataclass
class Event:
    kind: str  # "progress" | "note" | "waiting" | "proposal" (front ends send it for the rules a decision proposes)
    message: str = ""
    posts: list[Post] = field(default_factory=list)


@dataclass
class Outcome:
    thread_id: str
    posts: list[Post]
    notes: list[str]
    brief: dict

    @property
    def waiting(self) -> list[Post]:
        return [p for p in self.posts if p.status == Status.AWAITING_APPROVAL]


Listener = Callable[[Event], None]


def thread_id_for(*parts: str) -> str:
    """A stable graph thread id for a conversation (e.g. Slack team, channel, thread ts)."""
    return "brief-" + hashlib.sha256("/".join(parts).encode()).hexdigest()[:24]


class Runner:
    response_for = staticmethod(inbox.response_for)  # the resume value for a decision a front end recorded

    def __init__(self, context: Context, checkpointer):
        self.context = context
        self.graph = build(context).compile(checkpointer=checkpointer)
        # Re-entrant: resume() holds it from reading the snapshot to running the graph, and _run() takes it too.
        self._locks: dict[str, threading.RLock] = defaultdict(threading.RLock)

    def _config(self, thread_id: str, actor: str | None = None) -> dict:
        configurable = {"thread_id": thread_id}
        if actor:  # the user the front end authenticated, where LangGraph's server puts the one it did
            configurable["langgraph_auth_user_id"] = actor
        return {"configurable": configurable, "recursion_limit": RECURSION_LIMIT}

    def start(self, *, thread_id: str, text: str, actor: str, channel: str | None = None,
              on_event: Listener | None = None) -> Outcome:
        """Run a new brief until it waits for a human. Refuses bad briefs before any model call."""
        settings = self.context.settings
        offline.parse_brief(text, now=self.context.clock(), timezone=settings.plume_timezone,
                            default_networks=settings.default_networks, default_locales=settings.default_locales)
        with self.context.db.session() as session:  # with its channel, before the graph: a crash loses nothing
            posts.save_brief(session, thread_id=thread_id, text=text, actor=actor, channel=channel)
        return self._run(thread_id, {"text": text}, on_event, actor=actor)

    def ask(self, question: str) -> answer.Answer:
        """Answer a question about the guidelines or the queue (read-only; no graph state)."""
        return answer.answer(question, self.context)

    def resume(self, thread_id: str, on_event: Listener | None = None, *, responses: list[dict] | None = None,
               actor: str | None = None) -> Outcome:
        """Continue a thread: after a decision, after a crash inside a node, or after a restart.

        An interrupted thread resumes with `responses` (Agent Inbox HumanResponses, which `actor`
        gave): a front end that recorded a decision itself (core.decisions.record) passes
        `[Runner.response_for(decision)]` and `actor=decision.actor`, and the approval node finds
        it already applied. Without responses the graph just mirrors what the database holds."""
        if responses and not actor:
            raise ValueError("resume(responses=…) needs the actor who gave them")
        with self._locks[thread_id]:  # a run in progress must not change the snapshot between reading and acting
            snapshot = self.graph.get_state(self._config(thread_id))
            if snapshot.interrupts:
                return self._run(thread_id, Command(resume=responses or []), on_event, actor=actor)
            if snapshot.next:
                return self._run(thread_id, None, on_event)
            if not snapshot.values:  # the brief was stored but a crash came before the graph's first step
                with self.context.db.session() as session:
                    stored = posts.brief_text(session, thread_id)
                if stored:
                    text, author = stored
                    return self._run(thread_id, {"text": text}, on_event, actor=author)
            return self.outcome(thread_id)

    def recover(self) -> list[str]:
        """At start-up: finish threads cut short by a crash, and apply decisions a crash left unseen."""
        resumed = []
        for thread_id in self.open_threads():
            try:
                snapshot = self.graph.get_state(self._config(thread_id))
                awaiting = {i for intr in snapshot.interrupts for i in inbox.post_ids(intr.value)}
                with self.context.db.session() as session:
                    undecided = {p.id for p in posts.for_thread(session, thread_id)
                                 if p.status == Status.AWAITING_APPROVAL}
                cut_short = not snapshot.values or (snapshot.next and not snapshot.interrupts)
                if cut_short or (snapshot.interrupts and awaiting != undecided):
                    self.resume(thread_id)
                    resumed.append(thread_id)
            except PlumeError:
                log.exception("could not recover thread %s", thread_id)
        return resumed

    def open_threads(self) -> list[str]:
        with self.context.db.session() as session:
            return posts.open_threads(session)

    def outcome(self, thread_id: str) -> Outcome:
        values = self.graph.get_state(self._config(thread_id)).values
        with self.context.db.session() as session:
            stored = posts.for_thread(session, thread_id)
        return Outcome(thread_id, stored, list(values.get("notes", [])), values.get("brief", {}))

    def _run(self, thread_id: str, payload, on_event: Listener | None, *, actor: str | None = None) -> Outcome:
        emit = on_event or (lambda event: None)
        with self._locks[thread_id]:  # one graph run per thread at a time
            seen = len(self.graph.get_state(self._config(thread_id)).values.get("notes", []))
            try:
                for update in self.graph.stream(payload, self._config(thread_id, actor), stream_mode="updates"):
                    for node in update:
                        if node in STEPS:
                            emit(Event("progress", STEPS[node]))
            except GraphRecursionError as exc:
                raise PlumeError("This brief kept looping without settling; it was stopped. "
                                 "Try a simpler brief or edit the drafts by hand.") from exc
            except PlumeError:
                raise
            except Exception as exc:  # the checkpoint keeps everything done so far: retrying resumes there
                log.exception("graph run for %s failed", thread_id)
                raise BriefInterrupted(f"Something went wrong while working on this brief ({type(exc).__name__}); "
                                       "nothing is lost and retrying continues where it stopped.") from exc
        outcome = self.outcome(thread_id)
        for note in outcome.notes[seen:]:  # earlier runs already told their notes
            emit(Event("note", note))
        if outcome.waiting:
            emit(Event("waiting", "Waiting for your decision", outcome.waiting))
        return outcome
