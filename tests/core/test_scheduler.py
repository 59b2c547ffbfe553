"""The publishing scheduler against real SQLite files and a real APScheduler: once, on time, never blindly."""

from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError

from core import posts
from core import scheduler as scheduler_module
from core.db import Database
from core.domain import Action, Decision, Post, Status, Variant
from core.errors import PublishFailed
from core.publishers import OutboxPublisher
from core.scheduler import Scheduler
from tests.conftest import wait_for

THREADS = itertools.count(1)


class FakePublisher:
    """Counts every call; can be slow, can fail for sure (PublishFailed) or leave the outcome unknown."""

    name = "fake"

    def __init__(self, *, delay: float = 0.0, error: Exception | None = None,
                 inner: OutboxPublisher | None = None):
        self.delay, self.error, self.inner = delay, error, inner
        self.calls: list[int] = []
        self.started = threading.Event()
        self._lock = threading.Lock()

    def publish(self, post: Post) -> str:
        with self._lock:
            self.calls.append(post.id)
        self.started.set()
        time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        if self.inner is not None:
            return self.inner.publish(post)
        return f"fake://{post.network}/{post.id}"


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'plume.db'}").migrate()
    yield database
    database.dispose()


@pytest.fixture
def make_scheduler(db, tmp_path):
    """Schedulers sharing one home (so one lock file) and one database; all shut down afterwards."""
    made: list[Scheduler] = []

    def make(publisher, *, misfire_grace: int = 60, notified: list | None = None, workers: int = 4) -> Scheduler:
        notify = notified.append if notified is not None else (lambda post: None)
        made.append(Scheduler(db=db, publisher=publisher, home=tmp_path / "home", misfire_grace=misfire_grace,
                              notify=notify, workers=workers))
        return made[-1]

    yield make
    for scheduler in reversed(made):
        scheduler.shutdown()


def approved(db, *, text="Fresh Guji roast, out now.", network="linkedin") -> int:
    thread_id = f"t{next(THREADS)}"
    with db.session() as session:
        posts.save_brief(session, thread_id=thread_id, text="brief", actor="ana")
        post = posts.present(session, thread_id=thread_id, citations=[],
                             variant=Variant(network=network, locale="en", text=text))
        posts.decide(session, Decision(post_id=post.id, action=str(Action.APPROVE), actor="mia",
                                       version=post.version), approvers=[])
    return post.id


def scheduled(db, scheduler: Scheduler | None, *, in_seconds: float, **kw) -> tuple[int, datetime]:
    """What the graph's schedule node does: the database first, then the job (which carries only the id)."""
    post_id = approved(db, **kw)
    run_at = datetime.now(UTC) + timedelta(seconds=in_seconds)
    with db.session() as session:
        posts.schedule(session, post_id=post_id, run_at=run_at)
    if scheduler is not None:
        scheduler.add(post_id, run_at)
    return post_id, run_at


def get(db, post_id: int) -> Post:
    with db.session() as session:
        return posts.get(session, post_id)


def settled(db, post_id: int, status: Status) -> Post | None:
    post = get(db, post_id)
    return post if post.status == status else None


def trail(db, post_id: int) -> list[tuple[str, str | None, str | None]]:
    with db.session() as session:
        return [(e.action, e.from_status, e.to_status) for e in posts.audit_trail(session, post_id)]


def overdue_by(run_at: datetime, seconds: float) -> None:
    wait_for(lambda: datetime.now(UTC) > run_at + timedelta(seconds=seconds), timeout=seconds + 10, every=0.05)


def test_a_post_due_soon_is_published_once_through_the_outbox(db, make_scheduler, tmp_path):
    outbox = OutboxPublisher(tmp_path / "outbox")
    publisher, notified = FakePublisher(inner=outbox), []
    scheduler = make_scheduler(publisher, notified=notified)
    scheduler.start()
    assert scheduler.leading
    post_id, run_at = scheduled(db, scheduler, in_seconds=1)
    assert list(scheduler.pending()) == [post_id]
    assert abs(scheduler.pending()[post_id] - run_at) < timedelta(milliseconds=1)

    post = wait_for(lambda: settled(db, post_id, Status.PUBLISHED), timeout=10, every=0.05)
    assert datetime.fromisoformat(post.published_at) >= run_at  # not early
    assert post.external_ref == str(outbox.path_for(post_id))
    record = json.loads(outbox.path_for(post_id).read_text())
    assert record["text"] == post.text and record["approved_by"] == "mia"
    assert trail(db, post_id)[-3:] == [("post.scheduled", "approved", "scheduled"),
                                       ("post.publishing", "scheduled", "publishing"),
                                       ("post.published", "publishing", "published")]
    wait_for(lambda: notified, every=0.05)
    assert [(p.id, p.status) for p in notified] == [(post_id, Status.PUBLISHED)]
    assert scheduler.pending() == {}
    time.sleep(0.2)
    assert publisher.calls == [post_id]


def test_restart_within_the_grace_period_publishes_a_due_post_promptly(db, make_scheduler):
    first, second = FakePublisher(), FakePublisher()
    before = make_scheduler(first, misfire_grace=60)
    before.start()
    post_id, run_at = scheduled(db, before, in_seconds=0.5)
    before.shutdown()  # Plume stops before the post is due...
    overdue_by(run_at, 0.3)  # ...and is down when it falls due
    assert get(db, post_id).status == Status.SCHEDULED

    after = make_scheduler(second, misfire_grace=60)
    started = time.monotonic()
    after.start()
    wait_for(lambda: settled(db, post_id, Status.PUBLISHED), timeout=10, every=0.05)
    assert time.monotonic() - started < 3  # not after a poll round or a grace period: at start-up
    assert (first.calls, second.calls) == ([], [post_id])


def test_restart_after_the_grace_period_fails_the_post_loudly(db, make_scheduler):
    publisher, notified = FakePublisher(), []
    before = make_scheduler(publisher, misfire_grace=1)
    before.start()
    post_id, run_at = scheduled(db, before, in_seconds=0.5)
    # Also one the crash cut off mid-publish, its job still stored: it may be online, so it must not "fail".
    claimed, _ = scheduled(db, before, in_seconds=0.5, network="x")
    before.shutdown()
    with db.session() as session:
        posts.take_for_publishing(session, post_id=claimed)
    overdue_by(run_at, 2.2)

    after = make_scheduler(publisher, misfire_grace=1, notified=notified)
    after.start()
    post = wait_for(lambda: settled(db, post_id, Status.FAILED), timeout=10, every=0.05)
    assert "missed its time" in post.last_reason and "retry or reschedule" in post.last_reason
    wait_for(lambda: len(notified) == 2 and after.pending() == {}, every=0.05)
    assert sorted((p.id, p.status) for p in notified) == [(post_id, Status.FAILED), (claimed, Status.UNKNOWN)]
    assert publisher.calls == []
    assert trail(db, post_id)[-1] == ("post.failed", "scheduled", "failed")
    assert trail(db, claimed)[-1] == ("post.unknown", "publishing", "unknown")


def test_a_post_cut_off_mid_publish_becomes_unknown_and_is_never_published_again(db, make_scheduler):
    publisher, notified = FakePublisher(), []
    crashed = make_scheduler(publisher)
    crashed.start()
    post_id, run_at = scheduled(db, crashed, in_seconds=0.3)
    crashed.shutdown()
    with db.session() as session:  # the worst case: claimed, and its job still in the store
        assert posts.take_for_publishing(session, post_id=post_id).status == Status.PUBLISHING
    overdue_by(run_at, 0.1)

    restarted = make_scheduler(publisher, notified=notified)
    restarted.start()
    post = get(db, post_id)
    assert post.status == Status.UNKNOWN and "stopped while publishing" in post.last_reason
    wait_for(lambda: restarted.pending() == {}, timeout=10, every=0.05)  # the old job fired
    time.sleep(0.2)
    assert publisher.calls == []
    assert get(db, post_id).status == Status.UNKNOWN  # a human must say what happened
    assert trail(db, post_id)[-1] == ("post.unknown", "publishing", "unknown")
    assert [(p.id, p.status) for p in notified] == [(post_id, Status.UNKNOWN)]


@pytest.mark.parametrize(("error", "status", "reason"), [
    (PublishFailed("LinkedIn refused the post: duplicate content"), Status.FAILED, "duplicate content"),
    (RuntimeError("connection reset after the request was sent"), Status.UNKNOWN, "outcome is unknown"),
], ids=["known-failure", "unknown-outcome"])
def test_a_publisher_error_settles_the_post_without_a_retry(db, make_scheduler, error, status, reason):
    publisher, notified = FakePublisher(error=error), []
    scheduler = make_scheduler(publisher, notified=notified)
    scheduler.start()
    post_id, _ = scheduled(db, scheduler, in_seconds=0.2)
    post = wait_for(lambda: settled(db, post_id, status), timeout=10, every=0.05)
    assert reason in post.last_reason and post.external_ref is None
    wait_for(lambda: notified, every=0.05)
    assert [(p.id, p.status) for p in notified] == [(post_id, status)]
    time.sleep(0.2)
    assert publisher.calls == [post_id] and scheduler.pending() == {}


def test_held_and_cancelled_posts_are_not_published_when_their_job_fires(db, make_scheduler):
    publisher = FakePublisher()
    scheduler = make_scheduler(publisher)
    scheduler.start()
    held, _ = scheduled(db, scheduler, in_seconds=0.5)
    cancelled, _ = scheduled(db, scheduler, in_seconds=0.5, network="x")
    with db.session() as session:
        posts.transition(session, post_id=held, to=Status.HELD, actor="mia", action="post.held", reason="pause")
        posts.cancel(session, post_id=cancelled, actor="mia", reason="wrong day")
    wait_for(lambda: scheduler.pending() == {}, timeout=10, every=0.05)  # both jobs fired
    time.sleep(0.2)
    assert publisher.calls == []
    assert (get(db, held).status, get(db, cancelled).status) == (Status.HELD, Status.CANCELLED)


def test_a_saturated_pool_still_publishes_every_due_post(db, make_scheduler):
    publisher = FakePublisher(delay=0.2)
    scheduler = make_scheduler(publisher, workers=1)
    scheduler.start()
    due = [scheduled(db, scheduler, in_seconds=0.3, network=n)[0] for n in ("x", "linkedin", "bluesky", "mastodon")]
    for post_id in due:
        wait_for(lambda post_id=post_id: settled(db, post_id, Status.PUBLISHED), timeout=10, every=0.05)
    assert sorted(publisher.calls) == sorted(due)


def test_two_schedulers_on_one_store_publish_once_and_the_standby_takes_over(db, make_scheduler, monkeypatch):
    monkeypatch.setattr(scheduler_module, "POLL_SECONDS", 0.3)
    first, second = FakePublisher(), FakePublisher()
    leader, standby = make_scheduler(first), make_scheduler(second)
    leader.start()
    standby.start()
    assert leader.leading and not standby.leading

    # Jobs added through either instance land in the shared store; only the leader runs them.
    due = [scheduled(db, s, in_seconds=0.5, network=n)[0]
           for s, n in ((leader, "linkedin"), (standby, "x"), (standby, "bluesky"))]
    assert sorted(standby.pending()) == sorted(due)
    for post_id in due:
        wait_for(lambda post_id=post_id: settled(db, post_id, Status.PUBLISHED), timeout=10, every=0.05)
    time.sleep(0.5)
    assert sorted(first.calls) == sorted(due) and second.calls == []

    leader.shutdown()
    stopped = time.monotonic()
    wait_for(lambda: standby.leading, timeout=5, every=0.05)
    assert time.monotonic() - stopped < scheduler_module.POLL_SECONDS + 1.5
    later, _ = scheduled(db, standby, in_seconds=0.3)
    wait_for(lambda: settled(db, later, Status.PUBLISHED), timeout=10, every=0.05)
    assert second.calls == [later] and sorted(first.calls) == sorted(due)


def test_a_leader_stopping_mid_publish_finishes_it_and_the_standby_does_not_repeat_it(
        db, make_scheduler, monkeypatch):
    monkeypatch.setattr(scheduler_module, "POLL_SECONDS", 0.3)
    slow, other = FakePublisher(delay=0.5), FakePublisher()
    leader, standby = make_scheduler(slow), make_scheduler(other)
    leader.start()
    standby.start()
    post_id, _ = scheduled(db, leader, in_seconds=0.1)
    assert slow.started.wait(5)
    leader.shutdown()  # waits for the publish in flight
    assert get(db, post_id).status == Status.PUBLISHED
    wait_for(lambda: standby.leading, timeout=5, every=0.05)
    time.sleep(0.2)
    assert (slow.calls, other.calls) == ([post_id], [])


def test_a_takeover_that_fails_on_a_database_error_is_retried(db, make_scheduler, monkeypatch):
    monkeypatch.setattr(scheduler_module, "POLL_SECONDS", 0.3)
    leader, standby = make_scheduler(FakePublisher()), make_scheduler(publisher := FakePublisher())
    leader.start()
    standby.start()
    real, failures = posts.interrupted_publishing, []

    def flaky(session):
        if not failures:
            failures.append("database is locked")
            raise OperationalError("SELECT posts", {}, Exception("database is locked"))
        return real(session)

    monkeypatch.setattr(posts, "interrupted_publishing", flaky)
    leader.shutdown()
    wait_for(lambda: failures, timeout=5, every=0.05)
    post_id, _ = scheduled(db, standby, in_seconds=0.2)
    wait_for(lambda: settled(db, post_id, Status.PUBLISHED), timeout=10, every=0.05)
    assert standby.leading and publisher.calls == [post_id]


def test_a_scheduled_post_whose_job_was_lost_gets_it_back_and_is_published(db, make_scheduler, monkeypatch):
    monkeypatch.setattr(scheduler_module, "POLL_SECONDS", 0.3)
    publisher = FakePublisher()
    scheduler = make_scheduler(publisher)
    scheduler.start()
    post_id, _ = scheduled(db, None, in_seconds=1)  # in the database, but its job never made it to the store
    wait_for(lambda: settled(db, post_id, Status.PUBLISHED), timeout=10, every=0.05)
    assert publisher.calls == [post_id]
