"""LangGraph's server entry (langgraph.json): the brief graph, built with Plume's dependencies read from the environment.

`langgraph dev` (or any LangGraph server) loads the graph for every request through `make_graph`.
The dependencies are assembled once per server process, on first use, from the same settings
Plume reads (PLUME_HOME, DATABASE_URL, PLUME_MODEL…): runs store their briefs and posts in
Plume's database, where Plume's own front ends see them and its scheduler publishes what is
approved. The server keeps its own checkpoints.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from datetime import UTC, datetime

from langgraph.graph.state import CompiledStateGraph

from agents.graph import build
from agents.models import make_model
from agents.state import Context
from core.settings import Settings

_built: CompiledStateGraph | None = None  # one per server process: the server asks for the graph on every request
_lock = threading.Lock()


async def make_graph() -> CompiledStateGraph:
    """The graph factory langgraph.json names. Assembling opens files and may index the brand kit:
    it runs off the server's event loop."""
    return _built or await asyncio.to_thread(graph)


def graph() -> CompiledStateGraph:
    global _built
    with _lock:
        if _built is None:
            _built = build(assemble(Settings())).compile(name="brief")
        return _built


def assemble(settings: Settings) -> Context:
    """Plume's dependencies for this process, closed at exit; the brand kit is indexed on first use, as `plume` does."""
    # Imported here, off the event loop: the server imports this module while it starts.
    from core import logs
    from core.db import Database
    from knowledge.ingest import ingest
    from knowledge.profile import load_profile
    from knowledge.store import KnowledgeStore
    from publishing.channels import Channels

    channels = Channels.load(settings)  # for each network's audience (time zone, country), and its secrets
    logs.protect(channels.secrets())
    db = Database(settings.db_url).migrate()
    knowledge = KnowledgeStore(settings)
    atexit.register(db.dispose)
    atexit.register(knowledge.close)
    if knowledge.count() == 0 and settings.plume_kit.is_dir():
        ingest(knowledge, [settings.plume_kit], db=db)
    return Context(settings=settings, db=db, knowledge=knowledge, profile=load_profile(settings.plume_kit),
                   model=make_model(settings), clock=lambda: datetime.now(UTC), audience=channels.audience)
