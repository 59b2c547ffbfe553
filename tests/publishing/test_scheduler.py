"""The publishing scheduler on real SQLite files: once, on time, never blindly; calendar jobs once per due time."""

from __future__ import annotations

import itertools
import json
import logging
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text, update

from core import audit, claims, pause, posts
from core.db import Database, as_utc
from core.domain import Action, Decision, Post, Status, Variant
from core.errors import ConfigError
from core.models import CronRunRow, PostRow
from publishing import scheduler as scheduler_module
from publishing.publishers import NotSent, OutboxPublisher, OutcomeUnknown, Published
from publishing.scheduler import Scheduler, SchedulerBusy
from tests.conftest import wait_for

THREADS = itertools.count(1)
TAKEN_THEN_TIMEOUT = "taken-then-timeout"  # the network stores the post, the answer never arrives


class Network:
    """A test publisher keeping the Publisher protocol: it holds what it was sent (by key), can be slow,
    refuse, time out after storing, and say (or not) whether it has a post."""

    kind, network = "test", "*"

    def __init__(self, name: str = "test", *, script=(), delay: float = 0.0, can_tell: bool = True,
                 lookups_wait_for: threading.Event | None = None):
        self.name, self.delay, self.can_tell = name, delay, can_tell
        self.lookups_wait_for = lookups_wait_for  # a network that hangs on lookups until the test releases it
        self.looking = threading.Event()
        self.script = list(script)  # one entry per call: None (accepted), an exception, TAKEN_THEN_TIMEOUT
        self.calls: list[int] = []
        self.call_times: list[float] = []  # time.monotonic() of each send, as the network saw it
        self.held: dict[str, int] = {}  # publish key → post id: what is online
        self.started = threading.Event()
        self._lock = threading.Lock()

    def publish(self, post: Post, *, key: str) -> Published:
        assert key and key == post.publish_key and post.channel == self.name  # stored before the send
        with self._lock:
            self.calls.append(post.id)
            self.call_times.append(time.monotonic())
            outcome = self.script.pop(0) if self.script else None
        self.started.set()
        time.sleep(self.delay)
        if outcome == TAKEN_THEN_TIMEOUT:
            self.held[key] = post.id
            raise OutcomeUnknown("the network did not answer in time after the request was sent")
        if outcome is not None:
            raise outcome
        self.held.setdefault(key, post.id)
        return self._published(post)

    def lookup(self, post: Post, *, key: str) -> Published | None:
        self.looking.set()
        if self.lookups_wait_for is not None:
            assert self.lookups_wait_for.wait(60)
        if not self.can_tell:
            raise OutcomeUnknown("this network cannot look a post up")
        return self._published(post) if key in self.held else None

    def check(self) -> str:
        return "@plume@social.example"

    @staticmethod
    def _published(post: Post) -> Published:
        return Published(id=f"status-{post.id}", url=f"https://social.example/@plume/{post.id}")


@pytest.fixture
def make_scheduler(db, tmp_path):
    """Schedulers on one database; all shut down afterwards."""
    made: list[Scheduler] = []

    def make(publisher, *, grace: float = 60, notified: list | None = None, **kw) -> Scheduler:
        notify = notified.append if notified is not None else (lambda post: None)
        kw.setdefault("backoff", (0.2, 0.2))
        made.append(Scheduler(db=db, publisher=publisher, home=tmp_path / "home", grace=grace, notify=notify, **kw))
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


def scheduled(db, scheduler: Scheduler | None, *, in_seconds: float = 0, at: datetime | None = None,
              **kw) -> tuple[int, datetime]:
    """What the graph's schedule node does: the database, then a wake-up for a leader in this process."""
    post_id = approved(db, **kw)
    run_at = at or datetime.now(UTC) + timedelta(seconds=in_seconds)
    with db.session() as session:
        posts.schedule(session, post_id=post_id, run_at=run_at)
    if scheduler is not None:
        scheduler.wake()
    return post_id, run_at


def get(db, post_id: int) -> Post:
    with db.session() as session:
        return posts.get(session, post_id)


def settled(db, post_id: int, status: Status) -> Post | None:
    post = get(db, post_id)
    return post if post.status == status else None


def trail(db, post_id: int) -> list[tuple[str, str | None, str | None]]:
    with db.session() as session:
        return [(e.action, e.from_status, e.to_status) for e in audit.trail(session, post_id)]


def overdue_by(run_at: datetime, seconds: float) -> None:
    wait_for(lambda: datetime.now(UTC) > run_at + timedelta(seconds=seconds), timeout=seconds + 10, every=0.05)


def looked_again(scheduler: Scheduler, times: int = 1) -> None:
    """Wait until the leader has looked at the database for due posts `times` more rounds from now."""
    before = scheduler.rounds
    wait_for(lambda: scheduler.rounds >= before + times, timeout=scheduler_module.POLL_SECONDS * (times + 1) + 10,
             every=0.02)


def crash_mid_publish(db, post_id: int, route: str = "test") -> Post:
    """What a SIGKILL between the claim and the record leaves behind: the post `publishing`, key stored."""
    with db.session() as session:
        return claims.take_for_publishing(session, post_id=post_id, route=lambda network: route)


def test_a_due_post_is_published_once_through_the_outbox_with_its_key_and_permalink(db, make_scheduler, tmp_path):
    outbox, notified = OutboxPublisher(tmp_path / "outbox"), []
    scheduler = make_scheduler(outbox, notified=notified)
    scheduler.start()
    assert scheduler.leading
    post_id, run_at = scheduled(db, scheduler, in_seconds=scheduler_module.POLL_SECONDS + 1.5)

    post = wait_for(lambda: settled(db, post_id, Status.PUBLISHED), timeout=10, every=0.05)
    assert datetime.fromisoformat(post.published_at) >= run_at  # not early
    assert post.external_ref == str(outbox.path_for(post_id))
    assert post.external_url == outbox.path_for(post_id).resolve().as_uri()
    assert post.channel == "outbox" and len(post.publish_key) == 32 and post.attempts == 0
    record = json.loads(outbox.path_for(post_id).read_text())
    assert record["text"] == post.text and record["publish_key"] == post.publish_key
    assert trail(db, post_id)[-3:] == [("post.scheduled", "approved", "scheduled"),
                                       ("post.publishing", "scheduled", "publishing"),
                                       ("post.published", "publishing", "published")]
    wait_for(lambda: notified, every=0.05)
    assert [(p.id, p.status, p.external_url) for p in notified] == [(post_id, Status.PUBLISHED, post.external_url)]


def test_no_per_post_job_is_stored_the_job_store_holds_only_calendar_jobs(db, make_scheduler):
    network, digests = Network(), []
    scheduler = make_scheduler(network)
    scheduler.every_week("weekly-digest", lambda: digests.append(1), day="monday", at="09:00", timezone="UTC")
    scheduler.start()
    due = [scheduled(db, scheduler, in_seconds=s, network=n)[0] for s, n in ((0, "x"), (0.3, "linkedin"))]
    later, _ = scheduled(db, scheduler, in_seconds=3600)  # still waiting: only the posts table knows it
    for post_id in due:
        wait_for(lambda post_id=post_id: settled(db, post_id, Status.PUBLISHED), timeout=10, every=0.05)
    jobs = scheduler.jobs()
    assert list(jobs) == ["weekly-digest"] and jobs["weekly-digest"].weekday() == 0  # next monday
    assert get(db, later).status == Status.SCHEDULED
    assert not inspect(db.engine).has_table("apscheduler_jobs")  # nothing pickled anywhere
    assert digests == []


def test_migrating_an_older_database_drops_apschedulers_table_of_pickled_jobs(tmp_path):
    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    with old.engine.begin() as connection:  # as an older Plume's APScheduler left it
        connection.execute(text("CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, "
                                "next_run_time FLOAT, job_state BLOB NOT NULL)"))
        connection.execute(text("INSERT INTO apscheduler_jobs VALUES ('publish-1', 0, x'00')"))
    old.migrate()
    try:
        assert not inspect(old.engine).has_table("apscheduler_jobs")
        assert inspect(old.engine).has_table("cron_runs")
    finally:
        old.dispose()


SCHEDULE_ELSEWHERE = """
import sys
from datetime import UTC, datetime, timedelta
from core import posts
from core.db import Database, as_utc
db = Database(sys.argv[1])
with db.session() as session:
    posts.schedule(session, post_id=int(sys.argv[2]), run_at=datetime.now(UTC) + timedelta(seconds=0.2))
db.dispose()
"""


def test_a_post_scheduled_by_another_process_is_published_by_the_leader_within_the_poll_interval(db, make_scheduler):
    network = Network()
    scheduler = make_scheduler(network)
    scheduler.start()
    post_id = approved(db)
    # The shell beside `plume serve`: its own process on the same SQLite file, no way to wake the leader.
    subprocess.run([sys.executable, "-c", SCHEDULE_ELSEWHERE, db.url, str(post_id)], check=True, timeout=60,
                   cwd=Path(__file__).resolve().parents[2])
    assert get(db, post_id).status == Status.SCHEDULED
    # Nobody woke this leader: its periodic look at the database finds the post (how soon is a benchmark's business).
    wait_for(lambda: settled(db, post_id, Status.PUBLISHED), timeout=60, every=0.05)
    assert network.calls == [post_id]


def test_restart_within_the_grace_publishes_an_overdue_post_at_start_up(db, make_scheduler):
    first, second = Network(), Network()
    before = make_scheduler(first)
    before.start()
    post_id, run_at = scheduled(db, before, in_seconds=0.5)
    before.shutdown()  # Plume stops before the post is due...
    overdue_by(run_at, 0.3)  # ...and is down when it falls due
    assert get(db, post_id).status == Status.SCHEDULED

    after = make_scheduler(second)
    after.start()
    wait_for(lambda: settled(db, post_id, Status.PUBLISHED), timeout=60, every=0.05)
    assert (first.calls, second.calls) == ([], [post_id])


def test_restart_after_the_grace_holds_the_post_and_says_so_instead_of_publishing_it_late(db, make_scheduler):
    network, notified = Network(), []
    before = make_scheduler(network, grace=1)
    before.start()
    late, run_at = scheduled(db, before, in_seconds=0.3)
    before.shutdown()
    overdue_by(run_at, 1.5)

    after = make_scheduler(network, grace=1, notified=notified)
    after.start()
    post = get(db, late)
    assert post.status == Status.HELD and "while Plume was not running" in post.last_reason
    assert "retry it to publish now" in post.last_reason
    assert [(p.id, p.status) for p in notified] == [(late, Status.HELD)]
    looked_again(after)  # the leader looked for due posts, and did not take the late one
    assert network.calls == [] and trail(db, late)[-1] == ("post.held", "scheduled", "held")

    with db.session() as session:  # an approver releases it: out it goes
        posts.retry(session, post_id=late, actor="mia", run_at=datetime.now(UTC), approvers=[])
    wait_for(lambda: settled(db, late, Status.PUBLISHED), timeout=10, every=0.05)
    assert network.calls == [late]


@pytest.mark.parametrize(("sent", "can_tell", "status"), [
    (False, True, Status.PUBLISHED),  # killed before the send: the network says it has nothing → sent now
    (True, True, Status.PUBLISHED),  # killed after the send, before the record: found by its key, not resent
    (True, False, Status.UNKNOWN),  # the network cannot tell: a human must say
    (False, False, Status.UNKNOWN),
], ids=["before-send", "after-send", "after-send-cannot-tell", "before-send-cannot-tell"])
def test_a_post_cut_off_mid_publish_is_settled_by_asking_the_network(db, make_scheduler, sent, can_tell, status):
    network, notified = Network(can_tell=can_tell), []
    post_id, _ = scheduled(db, None, in_seconds=-1)
    taken = crash_mid_publish(db, post_id)
    if sent:
        network.held[taken.publish_key] = post_id

    restarted = make_scheduler(network, notified=notified)
    restarted.start()
    post = wait_for(lambda: settled(db, post_id, status), timeout=10, every=0.05)
    restarted.shutdown()  # whatever it was still doing is done and recorded
    assert network.calls == ([post_id] if not sent and can_tell else [])
    assert list(network.held.values()) == ([post_id] if sent or can_tell else [])
    assert post.publish_key == taken.publish_key  # the same key across attempts
    if status == Status.UNKNOWN:
        assert "Plume stopped while publishing it" in post.last_reason and "cannot tell" in post.last_reason
        assert [(p.id, p.status) for p in notified] == [(post_id, Status.UNKNOWN)]
    elif sent:
        assert post.external_url == f"https://social.example/@plume/{post_id}"
        assert trail(db, post_id)[-1] == ("post.published", "publishing", "published")


def test_a_refusal_for_sure_is_retried_with_backoff_and_fails_after_three_attempts(db, make_scheduler):
    refusals = [NotSent("the network is down for maintenance", retryable=True) for _ in range(3)]
    network, notified = Network(script=refusals), []
    scheduler = make_scheduler(network, notified=notified, backoff=(0.3, 0.6))
    scheduler.start()
    post_id, _ = scheduled(db, scheduler, in_seconds=0)
    post = wait_for(lambda: settled(db, post_id, Status.FAILED), timeout=15, every=0.05)
    assert network.calls == [post_id] * 3 and post.attempts == 3
    assert "after 3 attempts" in post.last_reason and "maintenance" in post.last_reason
    actions = [a for a, _, _ in trail(db, post_id)]
    assert actions.count("post.retry_later") == 2 and actions[-1] == "post.failed"
    with db.session() as session:
        retries = [e for e in audit.trail(session, post_id) if e.action == "post.retry_later"]
    assert "attempt 2 of 3" in retries[0].detail["reason"] and "attempt 3 of 3" in retries[1].detail["reason"]
    wait_for(lambda: len(notified) == 3, every=0.05)
    assert [p.status for p in notified] == [Status.SCHEDULED, Status.SCHEDULED, Status.FAILED]


def test_retry_after_from_the_network_is_honoured(db, make_scheduler):
    network = Network(script=[NotSent("rate limited", retryable=True, retry_after=1.2)])
    scheduler = make_scheduler(network, backoff=(0.0, 0.0))
    scheduler.start()
    post_id, _ = scheduled(db, scheduler, in_seconds=0)
    wait_for(lambda: settled(db, post_id, Status.PUBLISHED), timeout=10, every=0.02)
    first, second = network.call_times  # measured where the sends happen: a busy test thread can't shorten it
    assert second - first >= 1.1
    assert network.calls == [post_id, post_id] and get(db, post_id).attempts == 1


@pytest.mark.parametrize(("outcome", "can_tell", "status", "calls", "reason"), [
    (NotSent("the token was refused (401)", retryable=False), True, Status.FAILED, 1, "token was refused"),
    (TAKEN_THEN_TIMEOUT, True, Status.PUBLISHED, 1, "found on the network"),
    (TAKEN_THEN_TIMEOUT, False, Status.UNKNOWN, 1, "cannot tell"),
    (RuntimeError("connection reset by peer"), False, Status.UNKNOWN, 1, "connection reset"),
    (OutcomeUnknown("502 after the request was sent"), True, Status.PUBLISHED, 2, ""),  # not there: sent again
], ids=["bad-credentials", "timeout-found", "timeout-cannot-tell", "surprise", "unknown-but-absent"])
def test_each_outcome_settles_the_post_and_never_resends_blindly(db, make_scheduler, outcome, can_tell, status,
                                                                 calls, reason):
    network, notified = Network(script=[outcome], can_tell=can_tell), []
    scheduler = make_scheduler(network, notified=notified, backoff=(0.1, 0.1))
    scheduler.start()
    post_id, _ = scheduled(db, scheduler, in_seconds=0.1)
    post = wait_for(lambda: settled(db, post_id, status), timeout=10, every=0.05)
    scheduler.shutdown()  # nothing more in flight: no send after the outcome
    assert reason in post.last_reason
    online = status == Status.PUBLISHED or outcome == TAKEN_THEN_TIMEOUT
    assert network.calls == [post_id] * calls and list(network.held.values()) == ([post_id] if online else [])
    assert notified and notified[-1].status == status


def test_a_post_edited_after_approval_is_not_published_and_a_human_is_told(db, make_scheduler):
    network, notified = Network(), []
    scheduler = make_scheduler(network, notified=notified)
    scheduler.start()
    post_id, _ = scheduled(db, None, in_seconds=0.3)
    with db.session() as session:  # e.g. edited straight in the database after the approval
        session.get(PostRow, post_id).text = "Fresh Guji roast, now 50% off!!!"
    scheduler.wake()
    post = wait_for(lambda: settled(db, post_id, Status.FAILED), timeout=10, every=0.05)
    assert "changed after it was approved" in post.last_reason
    wait_for(lambda: notified, every=0.05)
    assert [(p.id, p.status) for p in notified] == [(post_id, Status.FAILED)]
    assert network.calls == []


def test_hold_stops_everything_at_once_and_resume_publishes_in_order(db, make_scheduler):
    network = Network()
    scheduler = make_scheduler(network)
    scheduler.start()
    with db.session() as session:
        pause.hold_all(session, actor="mia", approvers=["mia"], reason="crisis: pause everything")
    soon = datetime.now(UTC) + timedelta(seconds=0.5)
    due = [scheduled(db, scheduler, at=soon - timedelta(seconds=0.1 * i), network=n)[0]
           for i, n in enumerate(("x", "linkedin", "bluesky"))]  # the last one is due first
    overdue_by(soon, 0.1)
    looked_again(scheduler, 2)  # due, and looked for twice: nothing taken
    assert network.calls == []
    assert {get(db, p).status for p in due} == {Status.SCHEDULED}  # still scheduled, still in order

    with db.session() as session:
        resumed = pause.resume_all(session, actor="mia", approvers=["mia"])
    assert [p.id for p in resumed] == list(reversed(due))
    for post_id in due:
        wait_for(lambda post_id=post_id: settled(db, post_id, Status.PUBLISHED), timeout=10, every=0.05)
    assert network.calls == list(reversed(due))  # oldest run_at first


def test_plume_hold_at_start_up_publishes_nothing_until_an_approver_resumes(db, make_scheduler):
    network = Network()
    post_id, _ = scheduled(db, None, in_seconds=-30)  # overdue, within the grace
    scheduler = make_scheduler(network, hold=True)
    scheduler.start()
    with db.session() as session:
        paused = pause.state(session)
    assert paused.held and paused.held_by == "PLUME_HOLD" and "PLUME_HOLD" in paused.held_reason
    looked_again(scheduler)
    assert network.calls == [] and get(db, post_id).status == Status.SCHEDULED
    with db.session() as session:
        pause.resume_all(session, actor="mia", approvers=[])
    wait_for(lambda: settled(db, post_id, Status.PUBLISHED), timeout=scheduler_module.POLL_SECONDS + 5, every=0.05)


def test_cancelled_posts_are_not_published_when_their_time_comes(db, make_scheduler):
    network = Network()
    scheduler = make_scheduler(network)
    scheduler.start()
    cancelled, run_at = scheduled(db, scheduler, in_seconds=0.3)
    with db.session() as session:
        posts.cancel(session, post_id=cancelled, actor="mia", reason="wrong day")
    overdue_by(run_at, 0.1)
    looked_again(scheduler)
    assert network.calls == [] and get(db, cancelled).status == Status.CANCELLED


def test_a_saturated_pool_still_publishes_every_due_post_in_order(db, make_scheduler):
    network = Network(delay=0.2)
    scheduler = make_scheduler(network, workers=1)
    scheduler.start()
    soon = datetime.now(UTC) + timedelta(seconds=0.5)
    due = [scheduled(db, scheduler, at=soon + timedelta(seconds=0.01 * i), network=n)[0]
           for i, n in enumerate(("x", "linkedin", "bluesky", "mastodon"))]
    for post_id in due:
        wait_for(lambda post_id=post_id: settled(db, post_id, Status.PUBLISHED), timeout=10, every=0.05)
    assert network.calls == due


def test_a_second_scheduler_on_the_same_sqlite_database_is_refused_with_a_clear_message(db, make_scheduler, tmp_path):
    first = make_scheduler(Network())
    first.start()
    other_home = Scheduler(db=db, publisher=Network(), home=tmp_path / "elsewhere")  # another PLUME_HOME, same file
    with pytest.raises(SchedulerBusy) as refused:
        other_home.start()
    assert isinstance(refused.value, ConfigError)
    message = str(refused.value)
    assert "already publishing" in message and str(tmp_path / "plume.db") in message
    assert f"process {__import__('os').getpid()}" in message and "PostgreSQL" in message
    assert not other_home.started and not other_home.leading

    first.shutdown()  # once it is gone, the next one may start
    third = make_scheduler(Network())
    third.start()
    assert third.leading


def test_the_leader_starts_and_answers_while_a_lookup_for_an_interrupted_post_hangs(db, make_scheduler):
    release = threading.Event()
    network, notified = Network(lookups_wait_for=release), []
    stuck, _ = scheduled(db, None, in_seconds=-1)
    taken = crash_mid_publish(db, stuck)
    network.held[taken.publish_key] = stuck  # it reached the network before the crash
    scheduler = make_scheduler(network, notified=notified)
    started = threading.Event()
    threading.Thread(target=lambda: (scheduler.start(), started.set()), daemon=True).start()
    try:
        assert started.wait(15), "start() waited for the network"
        assert network.looking.wait(15) and scheduler.leading
        fresh, _ = scheduled(db, scheduler, in_seconds=0)  # the leader publishes meanwhile
        wait_for(lambda: settled(db, fresh, Status.PUBLISHED), timeout=10, every=0.05)
        looked_again(scheduler)
        assert get(db, stuck).status == Status.PUBLISHING  # being settled: no claim takes it again
        assert network.calls == [fresh]
        stopping = threading.Thread(target=scheduler.shutdown)
        stopping.start()  # shutdown waits for the lookup...
    finally:
        release.set()
    stopping.join(60)
    assert not stopping.is_alive()
    post = get(db, stuck)  # ...and records what it found
    assert post.status == Status.PUBLISHED and "found on the network" in post.last_reason
    assert post.external_url == f"https://social.example/@plume/{stuck}"
    assert (stuck, Status.PUBLISHED) in [(p.id, p.status) for p in notified]
    assert network.calls == [fresh]  # found, so never sent again


# --- calendar jobs ---------------------------------------------------------------------------------

def ran_last(db, job_id: str, at: datetime) -> None:
    """As if the job's previous run had been the one due at `at`."""
    with db.session() as session:
        session.execute(update(CronRunRow).where(CronRunRow.job_id == job_id).values(last_fire=at))


def last_fire(db, job_id: str) -> datetime:
    with db.session() as session:
        return as_utc(session.get(CronRunRow, job_id).last_fire)


def skipped(caplog) -> int:
    return caplog.text.count("not again")


@pytest.mark.parametrize("hours_ago", [11, 13])
def test_a_calendar_run_missed_while_no_plume_led_runs_once_within_12_hours_on_the_next_leader(
        db, make_scheduler, caplog, hours_ago):
    caplog.set_level(logging.INFO, logger="publishing.scheduler")
    due = (datetime.now(UTC) - timedelta(hours=hours_ago)).replace(second=0, microsecond=0)
    runs: list[Scheduler] = []

    def leader() -> Scheduler:
        scheduler = make_scheduler(Network())
        scheduler.every_day("retention", lambda: runs.append(scheduler), at=due.strftime("%H:%M"), timezone="UTC")
        scheduler.start()
        return scheduler

    first = leader()  # a job new to this database owes nothing from before it was set up
    if hours_ago < 12:
        wait_for(lambda: skipped(caplog) == 1, timeout=10, every=0.02)
    first.shutdown()
    assert runs == []
    ran_last(db, "retention", due - timedelta(days=1))  # it last ran yesterday; then no Plume ran at `due`

    second = leader()
    if hours_ago < 12:
        wait_for(lambda: runs == [second], timeout=10, every=0.02)
        assert last_fire(db, "retention") == due
    second.shutdown()  # a job still running would be waited for
    assert runs == ([second] if hours_ago < 12 else [])  # later than 12 h: it waits for its next time

    third = leader()  # the next leader in turn: already done
    if hours_ago < 12:
        wait_for(lambda: skipped(caplog) == 2, timeout=10, every=0.02)
    wait_for(lambda: third.jobs()["retention"] == due + timedelta(days=1), timeout=10, every=0.02)  # then tomorrow
    third.shutdown()
    assert runs == ([second] if hours_ago < 12 else [])


def test_a_calendar_job_set_on_the_leader_runs_there_and_a_changed_schedule_owes_no_earlier_run(
        db, make_scheduler, caplog):
    caplog.set_level(logging.INFO, logger="publishing.scheduler")
    due = (datetime.now(UTC) - timedelta(hours=1)).replace(second=0, microsecond=0)
    earlier = due - timedelta(minutes=30)
    runs = []
    scheduler = make_scheduler(Network())
    scheduler.start()
    scheduler.every_day("digest", lambda: runs.append("due"), at=due.strftime("%H:%M"), timezone="UTC")
    wait_for(lambda: skipped(caplog) == 1, timeout=10, every=0.02)  # new: owes nothing from before
    ran_last(db, "digest", due - timedelta(days=1))
    # The team moves it: what the old time missed is not owed by the new one.
    scheduler.every_day("digest", lambda: runs.append("earlier"), at=earlier.strftime("%H:%M"), timezone="UTC")
    wait_for(lambda: skipped(caplog) == 2, timeout=10, every=0.02)
    assert runs == [] and list(scheduler.jobs()) == ["digest"]
    ran_last(db, "digest", due - timedelta(days=1))  # same schedule, set again: its record holds
    scheduler.every_day("digest", lambda: runs.append("earlier"), at=earlier.strftime("%H:%M"), timezone="UTC")
    wait_for(lambda: runs == ["earlier"], timeout=10, every=0.02)
    assert last_fire(db, "digest") == earlier
