"""Briefs: start one, carry one on after an error, and answer questions about the guidelines and the queue."""

from __future__ import annotations

from agents.answer import Answer
from agents.runner import Listener, Outcome, Runner
from core import posts
from core.db import Database
from core.domain import Passage
from core.errors import NotFound


class Briefs:
    def __init__(self, *, db: Database, runner: Runner):
        self.db = db
        self.runner = runner

    def start(self, *, thread_id: str, text: str, actor: str, channel: str | None = None,
              on_event: Listener | None = None) -> Outcome:
        """Run a new brief until it waits for a human; a bad brief is refused before any model call
        (ValidationFailed), and an interrupted run keeps everything done so far (BriefInterrupted)."""
        return self.runner.start(thread_id=thread_id, text=text, actor=actor, channel=channel, on_event=on_event)

    def started(self, thread_id: str) -> bool:
        with self.db.session() as session:
            return posts.brief_author(session, thread_id) is not None

    def retry(self, thread_id: str, on_event: Listener | None = None) -> Outcome:
        """Carry a brief on from its last checkpoint: after an error, or a decision whose follow-up failed."""
        if not self.started(thread_id):
            raise NotFound("There is nothing to retry here; start with a brief.")
        return self.runner.resume(thread_id, on_event)

    def guidelines(self, query: str, *, k: int = 4, locale: str | None = None) -> list[Passage]:
        """The guideline passages that best match `query` (meaning and keywords), with their sources."""
        return self.runner.context.knowledge.search(query, k=k, locale=locale)

    def ask(self, question: str) -> Answer:
        """Answer from the guidelines and the queue (read-only tools; never a brief or a change)."""
        return self.runner.ask(question)
