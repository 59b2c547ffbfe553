"""Publishing on time and exactly once: the posts table decides, APScheduler jobs only wake the leader."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor as Pool
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import delete, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from core import claims, pause, when
from core.db import Database, make_engine, safe_url
from core.domain import Post, Status
from core.errors import ConfigError, InvalidTransition
from publishing.publishers import NotSent, OutcomeUnknown, Published, Publisher

log = logging.getLogger(__name__)

JOB_PREFIX = "publish-"
LEADER_LOCK_KEY = 0x504C554D  # "PLUM": the PostgreSQL advisory lock every Plume scheduler competes for
POLL_SECONDS = 2.0  # the leader looks for due posts without a job; a standby tries to take over
MAX_ATTEMPTS = 3  # sends the network certainly refused before a post is `failed`
BACKOFF = (30.0, 120.0)  # seconds before the 2nd and the 3rd attempt, unless the network says when
RECORD_TRIES = 8  # rounds a stopping scheduler keeps trying to write what the network said

_leader: Scheduler | None = None


def publish_job(post_id: int) -> None:
    """A post's time has come: wake the leader's dispatcher, which asks the database what is due.

    Module level with a primitive argument: APScheduler pickles the call into its job store.
    """
    leader = _leader
    if leader is not None:
        leader.wake()


@dataclass(frozen=True)
class Outcome:
    """What the network said about one send, as the status change that records it (the dispatcher
    writes outcomes in batches; workers only talk to the network)."""

    post_id: int
    to: Status
    action: str
    changes: dict  # columns to set, and "reason"
    retry_at: datetime | None = None  # a retry later: its wake-up


def published(post: Post, sent: Published, reason: str = "") -> Outcome:
    return Outcome(post.id, Status.PUBLISHED, "post.published", {
        "reason": reason, "published_at": datetime.now(UTC), "external_ref": sent.id, "external_url": sent.url})


def write(session, outcomes: list[Outcome]) -> list[Post]:
    """Record outcomes, one batch per kind of status change."""
    groups: dict[tuple, dict[int, dict]] = {}
    for outcome in outcomes:
        groups.setdefault((outcome.to, outcome.action, tuple(sorted(outcome.changes))), {})[outcome.post_id] = \
            outcome.changes
    written = []
    for (to, action, _), moves in groups.items():
        moved = claims.transition_many(session, to=to, action=action, moves=moves)
        if len(moved) != len(moves):  # nobody else moves a `publishing` post: say so loudly if it happens
            log.error("could not record %s for posts %s", action, sorted(set(moves) - {p.id for p in moved}))
        written.extend(moved)
    return written


class WakeUps(SQLAlchemyJobStore):
    """APScheduler's job store, where a wake-up already gone is not an error: the leader takes the
    wake-ups of posts it is about to publish out in one statement, and another instance may remove
    a job APScheduler has just loaded (its thread would die on the JobLookupError)."""

    def remove_job(self, job_id):
        with contextlib.suppress(JobLookupError):
            super().remove_job(job_id)


class SchedulerBusy(ConfigError):
    """Another process already runs the scheduler on this SQLite database."""


class LeaderLock:
    """Only the holder publishes: an advisory lock on PostgreSQL, a file lock beside the SQLite file."""

    def __init__(self, db: Database, lock_file: Path):
        self.db = db
        self.lock_file = lock_file
        self._handle = None

    @property
    def postgres(self) -> bool:
        return self.db.url.startswith("postgresql")

    @property
    def held(self) -> bool:
        return self._handle is not None

    def try_acquire(self) -> bool:
        if self._handle is not None:
            return True
        if self.postgres:
            connection = self.db.engine.connect()
            try:
                won = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK_KEY}).scalar()
                connection.commit()  # the lock belongs to the session: don't hold a transaction open for hours
            except BaseException:
                connection.close()
                raise
            if won:
                self._handle = connection
                return True
            connection.close()
            return False
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        handle = self.lock_file.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.truncate(0)  # say who holds it, for the message the next process shows
        handle.write(f"{os.getpid()} {' '.join(sys.argv)[:200]}\n")
        handle.flush()
        self._handle = handle
        return True

    def holder(self) -> str:
        """Who holds the SQLite lock, as written by its holder ("pid 123: app.py serve")."""
        try:
            pid, _, command = self.lock_file.read_text().strip().partition(" ")
        except OSError:
            return "another process"
        return f"process {pid} ({command})" if command else f"process {pid}" if pid else "another process"

    def alive(self) -> bool:
        """Still ours? A PostgreSQL lock dies with its connection (server restart, network cut)."""
        if not self.postgres or self._handle is None:
            return self._handle is not None
        try:
            self._handle.execute(text("SELECT 1"))
            self._handle.commit()
        except SQLAlchemyError:
            return False
        return True

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        if self.postgres:
            # Returned to the pool, the session would keep its advisory lock: close the server connection.
            with contextlib.suppress(SQLAlchemyError):
                handle.invalidate()
        with contextlib.suppress(Exception):
            handle.close()  # closing the file releases the flock


def lock_file_for(db: Database, home: Path) -> Path:
    """Beside the SQLite file, so two homes sharing one database still exclude each other."""
    path = db.url.split("///", 1)[-1] if db.url.startswith("sqlite") else ""
    return Path(f"{path}.scheduler.lock") if path and path != ":memory:" else home / "scheduler.lock"


class Scheduler:
    """Runs publishing: one leader claims due posts from the database and sends each exactly once.

    `notify(post)` hears every outcome a human may care about: published (with its permalink),
    failed (retries exhausted, refused credentials, text changed after approval), unknown (ask a
    human), held (too late at start-up) and scheduled again after a refusal (a retry later).
    """

    def __init__(self, *, db: Database, publisher: Publisher, home: Path, grace: float = 3600,
                 notify: Callable[[Post], None] = lambda post: None,
                 workers: int = 16, hold: bool = False, route: Callable[[str], str] | None = None,
                 backoff: tuple[float, ...] = BACKOFF):
        self.db = db
        self.publisher = publisher
        self.notify_hook = notify
        self.grace = timedelta(seconds=grace)
        self.hold = hold
        self.route = route
        self.backoff = backoff
        self.workers = workers
        self.lock = LeaderLock(db, lock_file_for(db, home))
        self._store_engine = make_engine(db.url, serialize_writes=False)
        self._wake_ups = WakeUps(engine=self._store_engine)
        self._aps = BackgroundScheduler(
            jobstores={"default": self._wake_ups},
            executors={"default": ThreadPoolExecutor(2)},  # a wake-up only sets an event; weekly jobs get the other
            # A job is only a wake-up: late is fine (the database decides what is still due), so no misfire.
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self._pool: Pool | None = None
        self._outcomes: queue.Queue[Outcome] = queue.Queue()
        self._busy = 0  # posts taken and not yet settled by a worker
        self._busy_lock = threading.Lock()
        self._stop = threading.Event()
        self._woken = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = False

    # --- roles ------------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._started

    @property
    def leading(self) -> bool:
        return self.lock.held

    def start(self) -> None:
        """Run publishing here: lead now, or (PostgreSQL) stand by and take over when the leader dies.

        On SQLite only one process can publish: a second one is refused with SchedulerBusy.
        """
        if self._started:
            return
        if not self.lock.postgres and not self.lock.try_acquire():
            raise SchedulerBusy(
                f"Another Plume {self.lock.holder()} is already publishing from {safe_url(self.db.engine)}. "
                "Stop it first, or move to PostgreSQL (DATABASE_URL) to run several Plume instances.")
        if self.hold:  # before any post can be taken, here or by the leader elsewhere
            with self.db.session() as session:
                pause.hold(session, actor="PLUME_HOLD", reason="PLUME_HOLD was set when Plume started")
        self._start_store()
        self._started = True
        self._pool = Pool(self.workers, thread_name_prefix="plume-publish")
        try:
            self._take_lead_if_free()
        except BaseException:
            self.shutdown()
            raise
        for target, name in ((self._watch_loop, "plume-scheduler-watch"), (self._dispatch_loop, "plume-dispatch")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def attach(self) -> None:
        """Store wake-ups for posts scheduled here, but never publish (another process does)."""
        if not self._started and not self._aps.running:
            self._start_store()

    def _start_store(self) -> None:
        """Start APScheduler paused (jobs run only on the leader). Instances starting together on a fresh
        database race APScheduler's CREATE TABLE: the loser finds the winner's table and goes on."""
        try:
            self._wake_ups.jobs_t.create(self._store_engine, checkfirst=True)
        except SQLAlchemyError:
            if not inspect(self._store_engine).has_table(self._wake_ups.jobs_t.name):
                raise
        self._aps.start(paused=True)

    def _take_lead_if_free(self) -> None:
        global _leader
        if not self.lock.try_acquire():
            return
        try:
            self._recover()
            _leader = self
            self._aps.resume()
        except BaseException:
            self.lock.release()  # a leader that can't publish must not keep the others waiting
            raise
        self.wake()
        log.info("this Plume instance runs the publishing scheduler")

    def _step_down(self) -> None:
        global _leader
        log.warning("the publishing lock was lost (database connection gone); standing by")
        if _leader is self:
            _leader = None
        with contextlib.suppress(Exception):
            self._aps.pause()
        self.lock.release()

    def _watch_loop(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                if self.leading and not self.lock.alive():
                    self._step_down()
                if self.leading:
                    self._aps.wakeup()  # notice jobs that other instances added to the shared store
                    self.wake()  # the reconciler: due posts whose job is missing or was skipped
                else:
                    self._take_lead_if_free()
            except Exception:  # the database may be briefly unreachable: try again next round
                log.warning("scheduler housekeeping failed; retrying in %ss", POLL_SECONDS, exc_info=True)

    # --- start-up recovery ------------------------------------------------------------------------

    def _recover(self) -> None:
        """Before publishing anything: settle what a crash left in `publishing`, hold what is too late."""
        with self.db.session() as session:
            interrupted = claims.interrupted_publishing(session)
            held = pause.state(session).held
        for post in interrupted:
            outcome = self._ask_network(post, why="Plume stopped while publishing it")
            with self.db.session() as session:
                settled = write(session, [outcome])
            self._wake_retries([outcome])
            for done in settled:
                self._notify(done)
        if held:  # posts wait at the gate; whoever resumes decides, however late they are
            return
        late = datetime.now(UTC) - self.grace
        with self.db.session() as session:
            overdue = claims.overdue(session, before=late)
        for post in overdue:
            missed = datetime.now(UTC) - datetime.fromisoformat(post.run_at)
            reason = (f"its time passed {_humanize(missed)} ago while Plume was not running, more than the "
                      f"{_humanize(self.grace)} a post may go out late; retry it to publish now, or move it")
            try:
                with self.db.session() as session:
                    self._notify(claims.hold_overdue(session, post_id=post.id, reason=reason))
            except InvalidTransition:
                continue  # cancelled or moved meanwhile

    # --- dispatching ------------------------------------------------------------------------------

    def wake(self) -> None:
        self._woken.set()

    def _dispatch_loop(self) -> None:
        """The only writer of outcomes and claims: workers just talk to the network."""
        saturated, failures = False, 0
        while not (self._stop.is_set() and self._idle()):
            self._woken.wait(POLL_SECONDS if saturated or failures or self._stop.is_set() else self._until_next_due())
            self._woken.clear()
            try:
                saturated, failures = self._round(), 0
            except Exception:  # e.g. the database is briefly down: what was heard is written next round
                failures += 1
                log.warning("could not write outcomes or claim due posts; retrying in %ss", POLL_SECONDS,
                            exc_info=True)
                if self._stop.is_set() and failures >= RECORD_TRIES:
                    log.error("giving up on %s outcomes at shutdown; those posts stay `publishing` and the next "
                              "start-up asks the network about them", self._outcomes.qsize())
                    return

    def _idle(self) -> bool:
        with self._busy_lock:
            return self._busy == 0 and self._outcomes.empty()

    def _until_next_due(self) -> float:
        if not self.leading:
            return POLL_SECONDS
        try:
            with self.db.session() as session:
                due = claims.next_due(session)
        except SQLAlchemyError:
            return POLL_SECONDS
        if due is None:
            return POLL_SECONDS
        return min(max((due - datetime.now(UTC)).total_seconds(), 0.0), POLL_SECONDS)

    def _round(self) -> bool:
        """Write what the workers heard and claim as many due posts, oldest first, as there are idle
        workers, in one transaction. Claiming no more than can be sent at once means a crash leaves at
        most `workers` posts in `publishing`. True when every idle worker got a post (more may be due)."""
        outcomes = []
        with contextlib.suppress(queue.Empty):
            while True:
                outcomes.append(self._outcomes.get_nowait())
        with self._busy_lock:
            free = self.workers - self._busy if self.leading and not self._stop.is_set() else 0
        if not outcomes and not free:
            return True
        try:
            with self.db.session() as session:
                settled = write(session, outcomes)
                claim = claims.Claim([], [])
                if free:
                    claim = claims.claim_due(session, at=datetime.now(UTC), limit=free, route=self._route)
                    self._take_wake_ups(session)
        except BaseException:
            for outcome in outcomes:  # the network already acted: never drop what it said
                self._outcomes.put(outcome)
            raise
        with self._busy_lock:
            self._busy += len(claim.taken)
        for post in claim.taken:
            self._pool.submit(self._publish, post)
        self._wake_retries(outcomes)
        for post in [*settled, *claim.refused]:
            self._notify(post)
        return free > 0 and len(claim.taken) == free

    def _take_wake_ups(self, session) -> None:
        """The leader times the next few seconds itself (`_until_next_due`): their wake-ups leave the
        store in one statement, so APScheduler does not fire thousands of jobs that would only wake it."""
        jobs = self._wake_ups.jobs_t
        horizon = (datetime.now(UTC) + timedelta(seconds=POLL_SECONDS)).timestamp()
        session.execute(delete(jobs).where(jobs.c.id.like(JOB_PREFIX + "%"), jobs.c.next_run_time <= horizon))

    def _wake_retries(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.retry_at is not None:
                self.add(outcome.post_id, outcome.retry_at)

    def _route(self, network: str) -> str:
        return self.route(network) if self.route else self.publisher.name

    def _publish(self, post: Post) -> None:
        try:
            outcome = self.send(post)
        except BaseException as exc:  # a bug, not the network: still never resend blindly
            outcome = Outcome(post.id, Status.UNKNOWN, "post.unknown", {"reason": f"publishing failed ({_why(exc)})"})
            log.exception("publishing post %s crashed", post.id)
        self._outcomes.put(outcome)
        with self._busy_lock:
            self._busy -= 1
        self.wake()

    def send(self, post: Post) -> Outcome:
        """Send one taken post once and say what to record. Never resends blindly."""
        try:
            sent = self.publisher.publish(post, key=post.publish_key)
        except NotSent as refused:
            return self._refused(post, str(refused), retryable=refused.retryable, retry_after=refused.retry_after,
                                 waiting=refused.waiting)
        except Exception as exc:  # OutcomeUnknown, or a surprise: the request may have reached the network
            log.warning("publishing post %s ended without a clear outcome: %s", post.id, exc)
            return self._ask_network(post, why=_why(exc))
        return published(post, sent)

    def _ask_network(self, post: Post, *, why: str) -> Outcome:
        """The post may be online: ask the network (by its publish key) before anything else."""
        try:
            if not post.publish_key:  # sent before keys existed (an older Plume): nothing to look it up by
                raise OutcomeUnknown("it was sent without a publish key")
            found = self.publisher.lookup(post, key=post.publish_key)
        except Exception as exc:  # OutcomeUnknown: this network cannot tell; a human must look
            return Outcome(post.id, Status.UNKNOWN, "post.unknown", {
                "reason": f"{why}, and {_network(post)} cannot tell whether it has it ({_why(exc)}); "
                          "check the network, then say whether it was posted"})
        if found is not None:
            return published(post, found, reason=f"{why}; found on the network")
        return self._refused(post, f"{why}; the network does not have it", retryable=True, retry_after=0.0)

    def _refused(self, post: Post, reason: str, *, retryable: bool, retry_after: float | None,
                 waiting: bool = False) -> Outcome:
        """Certainly not sent: try again later (three attempts in all), or fail and tell a human.

        A network that asked us to wait (a rate limit, a daily cap) gets its wait, and the attempt
        is not counted: a post is never failed only because the network said "later"."""
        if waiting:
            delay = retry_after if retry_after is not None else self.backoff[0]
            at = datetime.now(UTC) + timedelta(seconds=delay)
            until = when.moment(at, "UTC")
            return Outcome(post.id, Status.SCHEDULED, "post.waiting", {
                "run_at": at, "attempts": post.attempts, "waiting": f"{reason}; waiting until {until}",
                "reason": f"{reason}; waiting until {until} ({_humanize(timedelta(seconds=delay))})"}, retry_at=at)
        attempt = post.attempts + 1
        if not retryable or attempt >= MAX_ATTEMPTS:
            why = reason if not retryable else f"{reason} (after {attempt} attempts)"
            return Outcome(post.id, Status.FAILED, "post.failed", {"reason": why, "attempts": attempt})
        delay = retry_after if retry_after is not None else self.backoff[min(attempt, len(self.backoff)) - 1]
        at = datetime.now(UTC) + timedelta(seconds=delay)
        return Outcome(post.id, Status.SCHEDULED, "post.retry_later", {
            "run_at": at, "attempts": attempt,
            "reason": f"{reason}; trying again in {_humanize(timedelta(seconds=delay))} "
                      f"(attempt {attempt + 1} of {MAX_ATTEMPTS})"}, retry_at=at)

    def _notify(self, post: Post) -> None:
        try:
            self.notify_hook(post)
        except Exception:
            log.exception("could not announce post %s (%s)", post.id, post.status)

    # --- jobs -------------------------------------------------------------------------------------

    def add(self, post_id: int, run_at: datetime) -> None:
        """Store a wake-up for a scheduled post (the post itself is already in the database)."""
        self._aps.add_job(publish_job, "date", run_date=run_at, args=[post_id], id=JOB_PREFIX + str(post_id),
                          name=f"publish post {post_id}", replace_existing=True)
        if self.leading and run_at <= datetime.now(UTC) + timedelta(seconds=POLL_SECONDS):
            self.wake()

    def remove(self, post_id: int) -> None:
        with contextlib.suppress(JobLookupError):
            self._aps.remove_job(JOB_PREFIX + str(post_id))

    def pending(self) -> dict[int, datetime]:
        """Stored wake-ups by post id (the leader takes those due within POLL_SECONDS out: it times them)."""
        return {int(job.id.removeprefix(JOB_PREFIX)): job.next_run_time for job in self._aps.get_jobs()
                if job.id.startswith(JOB_PREFIX)}

    def shutdown(self) -> None:
        """Stop claiming, let the sends in flight finish and record, then let the lock go."""
        global _leader
        self._stop.set()
        self._woken.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()  # a takeover in progress must finish before the lock is let go
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._aps.running:
            self._aps.shutdown(wait=True)
        if _leader is self:
            _leader = None
        self.lock.release()
        self._store_engine.dispose()

    def every_week(self, job_id: str, func: Callable, *, day: str, at: str, timezone: str, args: tuple = ()) -> None:
        """Run `func(*args)` weekly on `day` ("monday") at `at` ("09:00") in `timezone`, on the leader only.

        `func` is a module-level function and `args` primitives (both are stored in the job store). A run
        missed while no Plume was up still happens within 12 hours; later, it waits for the next week."""
        from apscheduler.triggers.cron import CronTrigger

        hour, minute = (int(part) for part in at.split(":"))
        trigger = CronTrigger(day_of_week=day[:3].lower(), hour=hour, minute=minute, timezone=timezone)
        self._aps.add_job(func, trigger, args=list(args), id=job_id, name=f"{job_id} every {day} at {at}",
                          replace_existing=True, misfire_grace_time=12 * 3600, coalesce=True)


def _network(post: Post) -> str:
    return post.channel or post.network


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _humanize(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h {minutes % 60} min" if hours < 48 else f"{hours // 24} days"
