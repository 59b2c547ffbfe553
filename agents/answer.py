"""The conversational route: questions about the guidelines and the queue, with read-only tools only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import openai
from langchain.agents import create_agent
from langchain_core.tools import tool
from langgraph.errors import GraphRecursionError

import prompts
from agents.state import Context
from core import platforms, posts
from core.domain import Passage, Status

RECURSION_LIMIT = 8  # a model that keeps calling tools is stopped, not paid for forever
QUESTION_WORDS = ("what", "what's", "whats", "how", "when", "which", "who", "where", "why", "is", "are", "do",
                  "does", "can", "should", "quel", "quelle", "quels", "quelles", "comment", "quand", "est-ce",
                  "pourquoi", "combien", "peut-on", "faut-il")


@dataclass
class Answer:
    text: str
    sources: list[Passage] = field(default_factory=list)
    offline: bool = False


def is_question(text: str) -> bool:
    words = text.strip().lower().split()
    return bool(words) and text.strip().endswith("?") and words[0] in QUESTION_WORDS


def upcoming(ctx: Context, days: int = 7) -> list[str]:
    horizon = ctx.clock() + timedelta(days=days)
    with ctx.db.session() as session:
        scheduled = posts.with_status(session, [Status.SCHEDULED, Status.HELD])
    return [f"#{p.id} {platforms.get(p.network).label} · {p.locale} at {p.run_at} ({p.status}): {p.text[:120]}"
            for p in scheduled if p.run_at and datetime.fromisoformat(p.run_at) <= horizon]


def answer(question: str, ctx: Context) -> Answer:
    """Answer with the model when there is one; otherwise, or if it fails, with the passages themselves."""
    found: list[Passage] = []

    @tool
    def search_guidelines(query: str) -> str:
        """Search the brand guidelines; returns passages with their source and heading."""
        hits = ctx.knowledge.search(query, k=4)
        found.extend(h for h in hits if h.id not in {f.id for f in found})
        return "\n\n".join(f"[{h.label}]\n{h.text}" for h in hits) or "No guideline matches."

    @tool
    def scheduled_posts(days: int = 7) -> str:
        """Posts scheduled (or held) for the next `days` days."""
        return "\n".join(upcoming(ctx, max(1, min(days, 31)))) or "Nothing is scheduled."

    if ctx.model is not None:
        system, user = prompts.load("answer").render(brand=ctx.profile.name, question=question)
        agent = create_agent(ctx.model.chat, [search_guidelines, scheduled_posts], system_prompt=system)
        try:
            result = agent.invoke({"messages": [("user", user)]}, {"recursion_limit": RECURSION_LIMIT})
            text = str(result["messages"][-1].content).strip()
            if text:
                return Answer(text, found)
        except (openai.APIError, GraphRecursionError):
            pass  # fall through to the passages: an answer from the guidelines beats an error
    return offline_answer(question, ctx)


def offline_answer(question: str, ctx: Context) -> Answer:
    lowered = question.lower()
    if any(word in lowered for word in ("scheduled", "queue", "next week", "planned", "programmé", "prévu")):
        lines = upcoming(ctx, 7)
        return Answer("Scheduled for the next 7 days:\n" + "\n".join(lines) if lines else
                      "Nothing is scheduled for the next 7 days.", [], offline=True)
    hits = ctx.knowledge.search(question, k=3)
    if not hits:
        return Answer("The guidelines don't cover that (no passage found).", [], offline=True)
    body = "\n\n".join(f"{h.label}:\n{h.text[:400]}" for h in hits)
    return Answer(f"From your guidelines (no model configured, so here are the passages):\n\n{body}", hits,
                  offline=True)

