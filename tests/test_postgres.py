"""Plume on the machine's PostgreSQL: migrations, the write funnel, checkpoints, the leader lock, the app."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import TypedDict

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from core import audit, claims, pause, posts
from core.db import MIGRATIONS, Database
from core.domain import Action, Decision, Post, Status, Variant, digest
from core.errors import InvalidTransition
from core.settings import Settings
from publishing import scheduler as scheduler_module
from publishing.publishers import Published
from publishing.scheduler import LEADER_LOCK_KEY, Scheduler
from tests.conftest import postgres_url, wait_for

pytestmark = pytest.mark.postgres


def plain(url: str) -> str:
    """The SQLAlchemy URL as libpq understands it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def pg_url():
    """A freshly created database for one test (other runs may share the server), dropped afterwards."""
    base = make_url(postgres_url())
    name = f"plume_test_{uuid.uuid4().hex[:12]}"
    admin = plain(base.render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def db(pg_url):
    database = Database(pg_url).migrate()
    yield database
    database.dispose()


def query(url: str, statement: str, *params):
    with psycopg.connect(plain(url), autocommit=True) as connection:
        return connection.execute(statement, params).fetchall()


def draft(db, *, text="Fresh Guji roast, out now.", network="linkedin", thread_id="t1") -> Post:
    with db.session() as session:
        posts.save_brief(session, thread_id=thread_id, text="brief", actor="ana")
        at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        return posts.present(session, thread_id=thread_id, citations=[{"id": "a#0", "source": "a.md", "heading": "Voice"}],
                             variant=Variant(network=network, locale="en", text=text, proposed_at=at))


def approve(db, post: Post, actor="mia") -> Post:
    with db.session() as session:
        return posts.decide(session, Decision(post_id=post.id, action=str(Action.APPROVE), actor=actor,
                                              version=post.version), approvers=[])


def newest_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_migrations_and_the_write_funnel_run_on_postgresql(db, pg_url):
    assert query(pg_url, "SELECT version_num FROM alembic_version") == [(newest_revision(),)]
    assert {"briefs", "posts", "audit_events"} <= {name for (name,) in query(
        pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    Database(pg_url).migrate().dispose()  # a second start is a no-op

    post = draft(db)
    assert draft(db).id == post.id  # present is idempotent here too
    post = approve(db, post)
    assert post.approved_hash == digest(post.text)
    run_at = datetime.now(UTC) + timedelta(minutes=5)
    with db.session() as session:
        scheduled = posts.schedule(session, post_id=post.id, run_at=run_at)
    assert datetime.fromisoformat(scheduled.run_at) == run_at  # timestamptz keeps the instant exactly
    with db.session() as session:
        assert claims.take_for_publishing(session, post_id=post.id).status == Status.PUBLISHING
    with db.session() as session:
        assert claims.take_for_publishing(session, post_id=post.id) is None
        claims.mark_published(session, post_id=post.id, ref="outbox/post-1.json")
    with db.session() as session:
        trail = [(e.action, e.to_status) for e in audit.trail(session, post.id)]
    assert trail == [("post.drafted", "awaiting_approval"), ("post.approved", "approved"),
                     ("post.scheduled", "scheduled"), ("post.publishing", "publishing"),
                     ("post.published", "published")]


def test_four_approvers_at_once_exactly_one_wins_on_postgresql(db):
    post = draft(db)
    results, barrier = [], threading.Barrier(4)

    def click(actor):
        barrier.wait()
        try:
            approve(db, post, actor=actor)
            results.append("won")
        except InvalidTransition:
            results.append("lost")

    threads = [threading.Thread(target=click, args=(f"m{i}",)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) == ["lost", "lost", "lost", "won"]
    with db.session() as session:
        assert [e.action for e in audit.trail(session, post.id)].count("post.approved") == 1


class Ask(TypedDict):
    topic: str
    answer: str


def ask(state: Ask) -> dict:
    from langgraph.types import interrupt

    return {"answer": interrupt({"question": f"Publish the {state['topic']} post?"})}


def tiny_graph(saver):
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(Ask)
    graph.add_node("ask", ask)
    graph.add_edge(START, "ask")
    graph.add_edge("ask", END)
    return graph.compile(checkpointer=saver)


def test_an_interrupted_graph_resumes_through_a_new_postgresql_connection(pg_url, tmp_path):
    from langgraph.types import Command

    from agents.checkpoint import Checkpoints

    settings = Settings(_env_file=None, plume_home=tmp_path / "home", database_url=pg_url)
    config = {"configurable": {"thread_id": "brief-pg"}}
    with Checkpoints(settings) as saver:
        first = tiny_graph(saver).invoke({"topic": "Guji", "answer": ""}, config)
    assert first["__interrupt__"][0].value == {"question": "Publish the Guji post?"}
    assert query(pg_url, "SELECT count(*) FROM checkpoints WHERE thread_id = %s", "brief-pg")[0][0] > 0

    with Checkpoints(settings) as saver:  # as after a restart
        graph = tiny_graph(saver)
        assert [i.value for i in graph.get_state(config).interrupts] == [{"question": "Publish the Guji post?"}]
        assert graph.invoke(Command(resume="yes"), config) == {"topic": "Guji", "answer": "yes"}
        assert graph.get_state(config).next == ()


class Counting:
    """A test publisher (the Publisher protocol) counting sends."""

    name, kind, network = "counting", "test", "*"

    def __init__(self):
        self.calls: list[int] = []

    def publish(self, post: Post, *, key: str) -> Published:
        self.calls.append(post.id)
        return Published(id=f"fake://{post.id}")

    def lookup(self, post: Post, *, key: str) -> Published | None:
        return None

    def check(self) -> str:
        return "counting"


def advisory_holders(url: str) -> list[tuple[int, str]]:
    """(pid, state) of the sessions holding Plume's leader lock in this database."""
    return query(url, "SELECT l.pid, a.state FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                      "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = %s "
                      "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                 LEADER_LOCK_KEY)


def test_the_leader_lock_lives_in_postgresql_and_the_leader_publishes_what_another_instance_scheduled(
        db, pg_url, tmp_path):
    first, second = Counting(), Counting()
    leader = Scheduler(db=db, publisher=first, home=tmp_path / "a")
    standby = Scheduler(db=Database(pg_url), publisher=second, home=tmp_path / "b")
    for instance in (leader, standby):
        instance.every_week("digest", lambda: None, day="monday", at="09:00", timezone="UTC")
    try:
        leader.start()
        standby.start()
        assert leader.leading and not standby.leading  # separate homes: only the advisory lock decides
        [(_, state)] = advisory_holders(pg_url)
        assert state == "idle"  # holds the lock without an open transaction
        assert (list(leader.jobs()), standby.jobs()) == (["digest"], {})  # calendar jobs: on the leader only

        post = approve(db, draft(db))
        with standby.db.session() as session:  # the instance that took the click writes the database...
            posts.schedule(session, post_id=post.id, run_at=datetime.now(UTC) + timedelta(seconds=0.5))
        standby.wake()  # ...and wakes only itself: the leader finds the post by looking at the database
        wait_for(lambda: _status(db, post.id) == Status.PUBLISHED, timeout=60, every=0.05)
        assert (first.calls, second.calls) == ([post.id], [])
        assert query(pg_url, "SELECT to_regclass('apscheduler_jobs')") == [(None,)]  # nothing pickled

        leader.shutdown()
        wait_for(lambda: standby.leading, timeout=scheduler_module.POLL_SECONDS + 5, every=0.05)
        assert len(advisory_holders(pg_url)) == 1 and list(standby.jobs()) == ["digest"]
        later = approve(db, draft(db, network="x", thread_id="t2"))
        with db.session() as session:
            posts.schedule(session, post_id=later.id, run_at=datetime.now(UTC))
        wait_for(lambda: _status(db, later.id) == Status.PUBLISHED, timeout=scheduler_module.POLL_SECONDS + 5,
                 every=0.05)
        assert (first.calls, second.calls) == ([post.id], [later.id])
    finally:
        leader.shutdown()
        standby.shutdown()
        standby.db.dispose()
    assert advisory_holders(pg_url) == []


def due_posts(db, count: int) -> list[int]:
    ids = []
    for i in range(count):
        post = approve(db, draft(db, thread_id=f"due{i}", text=f"Post {i}"))
        with db.session() as session:
            posts.schedule(session, post_id=post.id, run_at=datetime.now(UTC) - timedelta(seconds=count - i))
        ids.append(post.id)
    return ids


def test_two_claims_at_once_take_disjoint_posts_oldest_first(db):
    ids = due_posts(db, 6)
    first, second = db._sessions(), db._sessions()
    try:
        taken_first = claims.claim_due(first, at=datetime.now(UTC), limit=4).taken  # locks 4 rows, uncommitted
        taken_second = claims.claim_due(second, at=datetime.now(UTC), limit=4).taken  # skips them, no wait
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
    assert [p.id for p in taken_first] == ids[:4] and [p.id for p in taken_second] == ids[4:]
    assert len({p.publish_key for p in taken_first + taken_second}) == 6


def test_hold_waits_for_a_claim_in_progress_and_then_nothing_more_is_taken(db):
    ids = due_posts(db, 2)
    claiming = db._sessions()
    taken = claims.claim_due(claiming, at=datetime.now(UTC), limit=1).taken
    held = threading.Event()

    def hold():
        with db.session() as session:
            pause.hold_all(session, actor="mia", approvers=[], reason="crisis")
        held.set()

    thread = threading.Thread(target=hold)
    thread.start()
    assert not held.wait(1.0)  # the hold queues behind the claim that started first...
    claiming.commit()
    claiming.close()
    assert held.wait(10)  # ...and once it is committed, the gate is shut
    thread.join()
    with db.session() as session:
        assert claims.claim_due(session, at=datetime.now(UTC), limit=5).taken == []
        assert [p.id for p in posts.with_status(session, [Status.SCHEDULED])] == ids[1:]
    assert [p.id for p in taken] == ids[:1]


def _status(db, post_id: int) -> str:
    with db.session() as session:
        return posts.get(session, post_id).status


def test_the_whole_app_runs_on_postgresql_across_a_restart(make_settings, pg_url):
    from agents.runner import thread_id_for
    from app import assemble

    settings = make_settings(database_url=pg_url)
    thread_id = thread_id_for("T1", "C1", "1700000000.000100")
    with assemble(settings, quiet=True) as plume:
        outcome = plume.runner.start(thread_id=thread_id, text="Launch the Guji roast on LinkedIn", actor="ana")
        assert outcome.waiting and {p.network for p in outcome.waiting} == {"linkedin"}
    stored = query(pg_url, "SELECT id, status FROM posts WHERE thread_id = %s ORDER BY id", thread_id)
    assert stored == [(p.id, "awaiting_approval") for p in outcome.waiting]
    assert not (settings.plume_home / "plume.db").exists()
    assert not (settings.plume_home / "checkpoints.sqlite").exists()

    with assemble(settings, quiet=True) as plume:  # a restart, as another instance would see it
        for waiting in outcome.waiting:
            decided = plume.service.decisions.decide(Decision(post_id=waiting.id, action=str(Action.APPROVE),
                                                                actor="mia", version=waiting.version))
            post, after = decided.post, decided.outcome
            assert post.status == Status.APPROVED
        assert {p.status for p in after.posts} == {Status.SCHEDULED}
        assert plume.scheduler.leading and plume.scheduler.jobs() == {}  # posts are in the posts table only
