"""Publishing on time: APScheduler 3 with its job store in Plume's database, one active scheduler."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text

from core import posts
from core.db import Database, make_engine
from core.domain import Post, Status
from core.errors import InvalidTransition, PublishFailed
from core.publishers import Publisher

log = logging.getLogger(__name__)

JOB_PREFIX = "publish-"
LEADER_LOCK_KEY = 0x504C554D  # "PLUM": the PostgreSQL advisory lock every Plume scheduler competes for
POLL_SECONDS = 10.0


@dataclass
class Runtime:
    """What the module-level job needs; set once by Scheduler.start (jobs carry only a post id)."""

    db: Database
    publisher: Publisher
    notify: Callable[[Post], None]


_runtime: Runtime | None = None


def publish_job(post_id: int) -> None:
    """Publish one due post exactly once; the database decides whether it is still ours to publish."""
    runtime = _runtime
    if runtime is None:
        raise RuntimeError("the scheduler runtime is not set")
    with runtime.db.session() as session:
        post = posts.take_for_publishing(session, post_id=post_id)
    if post is None:
        return
    try:
        ref = runtime.publisher.publish(post)
    except PublishFailed as exc:
        outcome = _settle(runtime, posts.mark_failed, post_id=post_id, reason=str(exc))
    except Exception as exc:  # the request may have reached the network: never retry blindly
        log.exception("publishing post %s ended without a clear outcome", post_id)
        outcome = _settle(runtime, posts.mark_unknown, post_id=post_id,
                          reason=f"the outcome is unknown ({type(exc).__name__}); check the network before retrying")
    else:
        outcome = _settle(runtime, posts.mark_published, post_id=post_id, ref=ref)
    runtime.notify(outcome)


def _settle(runtime: Runtime, mark, **kwargs) -> Post:
    with runtime.db.session() as session:
        return mark(session, **kwargs)


class LeaderLock:
    """Only the holder runs jobs: an advisory lock on PostgreSQL, a file lock beside SQLite."""

    def __init__(self, db: Database, lock_file: Path):
        self.db = db
        self.lock_file = lock_file
        self._handle = None

    def try_acquire(self) -> bool:
        if self._handle is not None:
            return True
        if self.db.url.startswith("postgresql"):
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
        self._handle = handle
        return True

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        if self.db.url.startswith("postgresql"):
            # Returned to the pool, the session would keep its advisory lock: close the server connection.
            handle.invalidate()
        handle.close()  # closing the file releases the flock


class Scheduler:
    """Adds, removes and runs publish jobs. A standby instance stores jobs and takes over when free."""

    def __init__(self, *, db: Database, publisher: Publisher, home: Path, misfire_grace: int,
                 notify: Callable[[Post], None] = lambda post: None, workers: int = 4):
        self.db = db
        self.publisher = publisher
        self.notify = notify
        self.lock = LeaderLock(db, home / "scheduler.lock")
        self._store_engine = make_engine(db.url, serialize_writes=False)
        self._aps = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self._store_engine)},
            executors={"default": ThreadPoolExecutor(workers)},
            # A generous grace: a post due while Plume was down is still published on start-up.
            job_defaults={"misfire_grace_time": misfire_grace, "coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self._aps.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self._stop = threading.Event()
        self._watch: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._watch is not None

    @property
    def leading(self) -> bool:
        return self.lock._handle is not None

    def start(self) -> None:
        self._aps.start(paused=True)
        self._watch = threading.Thread(target=self._watch_loop, name="plume-scheduler-leader", daemon=True)
        self._take_lead_if_free()
        self._watch.start()

    def _take_lead_if_free(self) -> None:
        global _runtime
        if self.leading or not self.lock.try_acquire():
            return
        try:
            self._recover()
            _runtime = Runtime(self.db, self.publisher, self.notify)  # the leader's publisher runs the jobs
            self._aps.resume()
        except BaseException:
            self.lock.release()  # a leader that can't run jobs must not keep the others waiting
            raise
        log.info("this Plume instance runs the publishing scheduler")

    def _watch_loop(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                if self.leading:
                    self._ensure_jobs()  # a job lost to a database error mid-claim comes back
                    self._aps.wakeup()  # notice jobs that other instances added to the shared store
                else:
                    self._take_lead_if_free()
            except Exception:  # the job store may be briefly unreachable: try again next round
                log.warning("scheduler housekeeping failed; retrying in %ss", POLL_SECONDS, exc_info=True)

    def _recover(self) -> None:
        """After a crash: `publishing` becomes `unknown`, and every scheduled post has its job."""
        with self.db.session() as session:
            interrupted = [posts.mark_unknown(session, post_id=post_id,
                                              reason="Plume stopped while publishing; check the network before retrying")
                           for post_id in posts.interrupted_publishing(session)]
            scheduled = posts.with_status(session, [Status.SCHEDULED])
        for post in interrupted:  # a human must say whether the network has it
            try:
                self.notify(post)
            except Exception:
                log.exception("could not announce that post %s needs a check", post.id)
        self._ensure_jobs(scheduled)

    def _ensure_jobs(self, scheduled: list[Post] | None = None) -> None:
        """Every scheduled post has its job (the status compare-and-set makes a spare job harmless)."""
        if scheduled is None:
            with self.db.session() as session:
                scheduled = posts.with_status(session, [Status.SCHEDULED])
        for post in scheduled:
            if self._aps.get_job(JOB_PREFIX + str(post.id)) is None:
                self.add(post.id, datetime.fromisoformat(post.run_at) if post.run_at else datetime.now(UTC))

    def add(self, post_id: int, run_at: datetime) -> None:
        self._aps.add_job(publish_job, "date", run_date=run_at, args=[post_id], id=JOB_PREFIX + str(post_id),
                          name=f"publish post {post_id}", replace_existing=True)

    def remove(self, post_id: int) -> None:
        with contextlib.suppress(JobLookupError):
            self._aps.remove_job(JOB_PREFIX + str(post_id))

    def pending(self) -> dict[int, datetime]:
        return {int(job.id.removeprefix(JOB_PREFIX)): job.next_run_time for job in self._aps.get_jobs()
                if job.id.startswith(JOB_PREFIX)}

    def _on_missed(self, event: JobExecutionEvent) -> None:
        post_id = int(event.job_id.removeprefix(JOB_PREFIX))
        late = datetime.now(UTC) - event.scheduled_run_time
        reason = (f"missed its time by {_humanize(late)} while Plume was not running; "
                  "retry or reschedule it")
        try:
            with self.db.session() as session:
                if posts.get(session, post_id).status != Status.SCHEDULED:
                    return  # held, cancelled, or claimed before a crash (now unknown): not a miss to report
                post = posts.mark_failed(session, post_id=post_id, reason=reason)
        except InvalidTransition:
            return
        self.notify(post)

    def shutdown(self) -> None:
        self._stop.set()
        if self._watch is not None and self._watch is not threading.current_thread():
            self._watch.join()  # a takeover in progress must finish before the lock is let go
        if self._aps.running:
            self._aps.shutdown(wait=True)
        self.lock.release()
        self._store_engine.dispose()


def _humanize(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
