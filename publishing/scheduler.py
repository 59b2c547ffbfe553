"""Publishing on time and exactly once: the posts table decides; APScheduler only runs the leader's calendar jobs."""

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
from functools import partial
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core import claims, pause, when
from core.db import Database, safe_url
from core.domain import Post, Status
from core.errors import ConfigError, InvalidTransition
from publishing.publishers import NotSent, OutcomeUnknown, Published, Publisher

log = logging.getLogger(__name__)

LEADER_LOCK_KEY = 0x504C554D  # "PLUM": the PostgreSQL advisory lock every Plume scheduler competes for
POLL_SECONDS = 2.0  # the leader looks for posts other processes scheduled; a standby tries to take over
MAX_ATTEMPTS = 3  # sends the network certainly refused before a post is `failed`
BACKOFF = (30.0, 120.0)  # seconds before the 2nd and the 3rd attempt, unless the network says when
RECORD_TRIES = 8  # rounds a stopping scheduler keeps trying to write what the network said
MISSED_WITHIN = timedelta(hours=12)  # a calendar run missed while no Plume led still happens this late


@dataclass(frozen=True)
class Outcome:
    """What the network said about one send, as the status change that records it (the dispatcher
    writes outcomes in batches; workers only talk to the network)."""

    post_id: int
    to: Status
    action: str
    changes: dict  # columns to set, and "reason"


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


@dataclass(frozen=True)
class Cron:
    """A job the leader runs on a calendar (the weekly digest, retention), registered by the composition root."""

    job_id: str
    run: Callable[[], object]
    trigger: CronTrigger
    schedule: str  # "every monday at 09:00 (Europe/Paris)": a job on a new schedule owes no earlier run

    def last_fire(self, now: datetime) -> datetime | None:
        """The latest time it was due within MISSED_WITHIN before `now` (UTC), if any."""
        fire, last = self.trigger.get_next_fire_time(None, now - MISSED_WITHIN), None
        while fire is not None and fire <= now:
            last, fire = fire, self.trigger.get_next_fire_time(None, fire + timedelta(microseconds=1))
        return last.astimezone(UTC) if last else None


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

    Whoever schedules a post only writes the database, then calls `wake()` so that a leader in this
    process sees a post due sooner than it was waiting for; the leader also looks every POLL_SECONDS,
    which is how it finds posts other processes scheduled. Calendar jobs (`every_week`, `every_day`)
    run on the leader only, once per due time whichever instance leads.

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
        self.rounds = 0  # claim rounds run as leader: each one looked at the database for due posts
        self._cron: dict[str, Cron] = {}
        # Jobs live in memory, filled when this instance becomes leader: nothing is pickled, and a
        # standby holds none. A late run is still run (MISSED_WITHIN); the database says whether it is owed.
        self._aps = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={"misfire_grace_time": int(MISSED_WITHIN.total_seconds()), "coalesce": True,
                          "max_instances": 1},
            timezone=UTC,
        )
        self._pool: Pool | None = None
        self._outcomes: queue.Queue[Outcome] = queue.Queue()
        self._busy = 0  # posts handed to a worker and not yet settled by it
        self._in_flight: set[int] = set()  # posts `publishing` here whose outcome is not written yet
        self._busy_lock = threading.Lock()
        self._role_lock = threading.Lock()  # taking the lead, stepping down and adding calendar jobs
        self._leading = False
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
        """Holds the lock and has finished taking over (overdue posts held, calendar jobs set)."""
        return self._leading

    def start(self) -> None:
        """Run publishing here: lead now, or (PostgreSQL) stand by and take over when the leader dies.

        On SQLite only one process can publish: a second one is refused with SchedulerBusy. Start-up
        never waits on the network: posts a crash left `publishing` are settled by the workers.
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
        self._aps.start(paused=True)  # runs jobs only while this instance leads
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

    def _take_lead_if_free(self) -> None:
        """Become leader: hold what is too late and set the calendar jobs (database writes only), hand the
        posts a crash left `publishing` to the workers, then claim."""
        with self._role_lock:
            if self._leading or not self.lock.try_acquire():
                return
            try:
                with self.db.session() as session:
                    interrupted = claims.interrupted_publishing(session)
                self._hold_overdue()
                for cron in self._cron.values():
                    self._install(cron)
            except BaseException:
                with contextlib.suppress(Exception):
                    self._aps.remove_all_jobs()
                self.lock.release()  # a leader that can't publish must not keep the others waiting
                raise
            with self._busy_lock:  # ours still in flight (we led before) are not interrupted
                interrupted = [post for post in interrupted if post.id not in self._in_flight]
            for post in interrupted:  # `publishing`: no claim takes them meanwhile
                self._submit(post, partial(self._ask_network, why="Plume stopped while publishing it"))
            self._aps.resume()
            self._leading = True
        self.wake()
        log.info("this Plume instance runs the publishing scheduler")

    def _step_down(self) -> None:
        log.warning("the publishing lock was lost (database connection gone); standing by")
        with self._role_lock:
            self._leading = False
            with contextlib.suppress(Exception):
                self._aps.pause()
                self._aps.remove_all_jobs()
            self.lock.release()

    def _watch_loop(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                if self.leading and not self.lock.alive():
                    self._step_down()
                if self.leading:
                    self.wake()  # the reconciler: posts other processes scheduled, or moved sooner
                else:
                    self._take_lead_if_free()
            except Exception:  # the database may be briefly unreachable: try again next round
                log.warning("scheduler housekeeping failed; retrying in %ss", POLL_SECONDS, exc_info=True)

    def _hold_overdue(self) -> None:
        """Posts whose time passed longer than the grace ago, while no Plume ran: held for a human."""
        with self.db.session() as session:
            if pause.state(session).held:  # posts wait at the gate; whoever resumes decides, however late
                return
            overdue = claims.overdue(session, before=datetime.now(UTC) - self.grace)
        for post in overdue:
            missed = datetime.now(UTC) - datetime.fromisoformat(post.run_at)
            reason = (f"its time passed {when.duration(missed)} ago while Plume was not running, more than the "
                      f"{when.duration(self.grace)} a post may go out late; retry it to publish now, or move it")
            try:
                with self.db.session() as session:
                    self._notify(claims.hold_overdue(session, post_id=post.id, reason=reason))
            except InvalidTransition:
                continue  # cancelled or moved meanwhile

    # --- dispatching ------------------------------------------------------------------------------

    def wake(self) -> None:
        """A post was scheduled, moved or released: look again now (cheap; harmless when not leading)."""
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
        leading = self.leading and not self._stop.is_set()
        with self._busy_lock:
            free = max(self.workers - self._busy, 0) if leading else 0
        if not outcomes and not free:
            return True
        try:
            with self.db.session() as session:
                settled = write(session, outcomes)
                claim = claims.Claim([], [])
                if free:
                    claim = claims.claim_due(session, at=datetime.now(UTC), limit=free, route=self._route)
        except BaseException:
            for outcome in outcomes:  # the network already acted: never drop what it said
                self._outcomes.put(outcome)
            raise
        with self._busy_lock:
            self._in_flight.difference_update(outcome.post_id for outcome in outcomes)
        for post in claim.taken:
            self._submit(post, self.send)
        if free:
            self.rounds += 1
        for post in [*settled, *claim.refused]:
            self._notify(post)
        return free > 0 and len(claim.taken) == free

    def _submit(self, post: Post, settle: Callable[[Post], Outcome]) -> None:
        with self._busy_lock:
            self._busy += 1
            self._in_flight.add(post.id)
        self._pool.submit(self._work, post, settle)

    def _route(self, network: str) -> str:
        return self.route(network) if self.route else self.publisher.name

    def _work(self, post: Post, settle: Callable[[Post], Outcome]) -> None:
        """On a worker: talk to the network about one `publishing` post, hand the outcome to the dispatcher."""
        try:
            outcome = settle(post)
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
                "reason": f"{reason}; waiting until {until} ({when.duration(timedelta(seconds=delay))})"})
        attempt = post.attempts + 1
        if not retryable or attempt >= MAX_ATTEMPTS:
            why = reason if not retryable else f"{reason} (after {attempt} attempts)"
            return Outcome(post.id, Status.FAILED, "post.failed", {"reason": why, "attempts": attempt})
        delay = retry_after if retry_after is not None else self.backoff[min(attempt, len(self.backoff)) - 1]
        at = datetime.now(UTC) + timedelta(seconds=delay)
        return Outcome(post.id, Status.SCHEDULED, "post.retry_later", {
            "run_at": at, "attempts": attempt,
            "reason": f"{reason}; trying again in {when.duration(timedelta(seconds=delay))} "
                      f"(attempt {attempt + 1} of {MAX_ATTEMPTS})"})

    def _notify(self, post: Post) -> None:
        try:
            self.notify_hook(post)
        except Exception:
            log.exception("could not announce post %s (%s)", post.id, post.status)

    # --- calendar jobs ----------------------------------------------------------------------------

    def every_week(self, job_id: str, run: Callable[[], object], *, day: str, at: str, timezone: str) -> None:
        """Run `run()` weekly on `day` ("monday") at `at` ("09:00") in `timezone`, on the leader only."""
        hour, minute = (int(part) for part in at.split(":"))
        trigger = CronTrigger(day_of_week=day[:3].lower(), hour=hour, minute=minute, timezone=timezone)
        self._register(Cron(job_id, run, trigger, f"every {day.lower()} at {at} ({timezone})"))

    def every_day(self, job_id: str, run: Callable[[], object], *, at: str, timezone: str) -> None:
        """Run `run()` daily at `at` ("03:30") in `timezone`, on the leader only."""
        hour, minute = (int(part) for part in at.split(":"))
        trigger = CronTrigger(hour=hour, minute=minute, timezone=timezone)
        self._register(Cron(job_id, run, trigger, f"every day at {at} ({timezone})"))

    def jobs(self) -> dict[str, datetime | None]:
        """What APScheduler holds, by job id, with the next run: calendar jobs only, on the leader only."""
        return {job.id: getattr(job, "next_run_time", None) for job in self._aps.get_jobs()}

    def _register(self, cron: Cron) -> None:
        """Any instance registers its calendar jobs (before or after start); only the leader runs them.
        A run missed while no Plume led still happens within MISSED_WITHIN on the next leader."""
        with self._role_lock:
            self._cron[cron.job_id] = cron
            if self._leading:
                self._install(cron)

    def _install(self, cron: Cron) -> None:
        now = datetime.now(UTC)
        with self.db.session() as session:
            claims.register_cron(session, job_id=cron.job_id, schedule=cron.schedule, at=now)
        # Due within MISSED_WITHIN: look now whether that run happened (the database knows); else wait.
        missed = {"next_run_time": now} if cron.last_fire(now) else {}
        self._aps.add_job(self._run_cron, cron.trigger, args=[cron.job_id], id=cron.job_id,
                          name=f"{cron.job_id} {cron.schedule}", replace_existing=True, **missed)

    def _run_cron(self, job_id: str) -> None:
        """On APScheduler's thread (running only on the leader): run the job's latest due time, unless some
        leader already did. A leader that just lost its lock may still get here: the database decides."""
        cron = self._cron.get(job_id)
        fire = cron.last_fire(datetime.now(UTC)) if cron else None
        if fire is None:
            return
        with self.db.session() as session:
            owed = claims.claim_cron_run(session, job_id=job_id, fire=fire)
        if not owed:
            log.info("%s: the run due at %s already happened (or came before the job was set up); not again",
                     job_id, fire.isoformat())
            return
        log.info("%s: running the run due at %s", job_id, fire.isoformat())
        try:
            cron.run()
        except Exception:  # recorded as done: a job that fails is not repeated blindly (e.g. half-posted)
            log.exception("%s failed (the run due at %s)", job_id, fire.isoformat())

    def shutdown(self) -> None:
        """Stop claiming, let the sends and network lookups in flight finish and record, let the lock go."""
        self._stop.set()
        self._woken.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()  # a takeover in progress must finish before the lock is let go
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._aps.running:
            self._aps.shutdown(wait=True)  # a calendar job running now finishes
        self._leading = False
        self.lock.release()


def _network(post: Post) -> str:
    return post.channel or post.network


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__

