"""Several Plume schedulers as real processes on the machine's PostgreSQL: every post published exactly once,
also when the active one is killed with SIGKILL mid-run or at each step of publishing one post; a calendar
job missed while none ran runs once, on whichever leads."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from core import audit, posts
from core.db import Database
from core.domain import Post, Status, digest
from core.models import BriefRow, CronRunRow, PostRow
from publishing.publishers import OutboxPublisher, Published
from tests.conftest import wait_for
from tests.test_postgres import pg_url  # noqa: F401  (a throwaway database per test)

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


# --- the child process: a scheduler publishing to a shared outbox ------------------------------------

class Recorded(OutboxPublisher):
    """The outbox, logging every send that reaches it (the outbox alone would absorb a second one), and
    able to stop dead before or after the send of its first post, for the test to SIGKILL it there."""

    def __init__(self, folder: Path, log: Path, pause: str, marker: Path):
        super().__init__(folder)
        self.log, self.pause, self.marker = log, pause, marker

    def publish(self, post: Post, *, key: str) -> Published:
        if self.pause == "before-send":
            self._stop_here(post)
        with self.log.open("a") as sends:  # O_APPEND: lines from both processes never interleave
            sends.write(f"{post.id} {os.getpid()} {key}\n")
        sent = super().publish(post, key=key)
        if self.pause == "after-send":
            self._stop_here(post)
        return sent

    def _stop_here(self, post: Post) -> None:
        self.marker.write_text(str(post.id))
        while True:  # until SIGKILL
            time.sleep(1)


def record_cron_run(log: Path) -> None:
    with log.open("a") as runs:
        runs.write(f"{os.getpid()}\n")


def serve() -> None:
    """Run one scheduler until SIGTERM; its role is written to PLUME_TEST_ROLE for the test to read.
    With PLUME_TEST_CRON_AT (HH:MM, UTC), a daily job appends this process's id to cron.log."""
    from publishing.scheduler import Scheduler

    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("publishing.scheduler").setLevel(logging.INFO)
    home, role = Path(os.environ["PLUME_TEST_HOME"]), Path(os.environ["PLUME_TEST_ROLE"])
    publisher = Recorded(home.parent / "outbox", home.parent / "sends.log", os.environ.get("PLUME_TEST_PAUSE", ""),
                         home / "paused")
    db = Database(os.environ["PLUME_TEST_DB"])
    scheduler = Scheduler(db=db, publisher=publisher, home=home, workers=4)
    if os.environ.get("PLUME_TEST_CRON_AT"):
        scheduler.every_day("test-cron", partial(record_cron_run, home.parent / "cron.log"),
                            at=os.environ["PLUME_TEST_CRON_AT"], timezone="UTC")
    signal.signal(signal.SIGTERM, lambda *_: (scheduler.shutdown(), sys.exit(0)))
    scheduler.start()
    while True:
        role.write_text("leading" if scheduler.leading else "standby")
        time.sleep(0.05)


# --- the test side ---------------------------------------------------------------------------------

class Instance:
    def __init__(self, root: Path, name: str, url: str, pause: str = "", cron_at: str = ""):
        self.home = root / name
        self.home.mkdir(parents=True)
        self.role = self.home / "role"
        env = {**os.environ, "PLUME_TEST_HOME": str(self.home), "PLUME_TEST_ROLE": str(self.role),
               "PLUME_TEST_DB": url, "PLUME_TEST_PAUSE": pause, "PLUME_TEST_CRON_AT": cron_at,
               "PYTHONUNBUFFERED": "1"}
        self.output = (self.home / "output.txt").open("w")
        self.proc = subprocess.Popen([sys.executable, "-c", "from tests.publishing.test_scheduler_processes import serve; "
                                      "serve()"], cwd=ROOT, env=env, stdout=self.output, stderr=subprocess.STDOUT)

    def state(self) -> str:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.home.name} exited: {(self.home / 'output.txt').read_text()}")
        return self.role.read_text() if self.role.exists() else ""

    def said(self) -> str:
        return (self.home / "output.txt").read_text()

    def paused_on(self) -> int | None:
        marker = self.home / "paused"
        return int(marker.read_text()) if marker.exists() and marker.read_text() else None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.output.close()


@pytest.fixture
def instances(tmp_path):
    started: list[Instance] = []

    def start(name: str, url: str, pause: str = "", cron_at: str = "") -> Instance:
        started.append(Instance(tmp_path, name, url, pause, cron_at))
        return started[-1]

    yield start
    for instance in started:
        instance.stop()


def seed(db: Database, count: int, first_due: datetime, spread: float) -> list[int]:
    """`count` approved posts scheduled from `first_due` over `spread` seconds (rows written at once)."""
    now = datetime.now(UTC)
    with db.session() as session:
        session.execute(insert(BriefRow), [{"thread_id": "t", "text": "brief", "parsed": {}, "created_by": "ana",
                                             "created_at": now}])
        rows = [{"thread_id": "t", "network": "mastodon", "locale": "en", "text": f"Post {i}: Guji is back.",
                 "status": str(Status.SCHEDULED), "version": 1, "offline": False, "checks": [], "citations": [],
                 "warnings": [], "rationale": "", "time_reason": "", "last_reason": "", "attempts": 0,
                 "run_at": first_due + timedelta(seconds=spread * i / max(count - 1, 1)),
                 "approved_by": "mia", "approved_at": now, "approved_hash": digest(f"Post {i}: Guji is back."),
                 "created_at": now, "updated_at": now} for i in range(count)]
        session.execute(insert(PostRow), rows)
    with db.session() as session:
        return [p.id for p in posts.with_status(session, [Status.SCHEDULED])]


def sends(root: Path) -> Counter[int]:
    log = root / "sends.log"
    return Counter(int(line.split()[0]) for line in log.read_text().splitlines()) if log.exists() else Counter()


def statuses(db: Database, ids: list[int]) -> Counter[str]:
    with db.session() as session:
        return Counter(posts.get(session, post_id).status for post_id in ids)


def leader_of(*candidates: Instance) -> Instance:
    return wait_for(lambda: next((i for i in candidates if i.state() == "leading"), None), timeout=30, every=0.05)


def test_two_processes_publish_every_post_exactly_once_even_when_the_leader_is_killed_mid_run(
        pg_url, instances, tmp_path):  # noqa: F811
    db = Database(pg_url).migrate()
    try:
        ids = seed(db, 120, datetime.now(UTC) + timedelta(seconds=4), spread=8)
        first, second = instances("a", pg_url), instances("b", pg_url)
        leader = leader_of(first, second)
        standby = second if leader is first else first
        wait_for(lambda: standby.state() == "standby", timeout=30, every=0.05)

        wait_for(lambda: len(sends(tmp_path)) >= 30, timeout=60, every=0.02)  # mid-run...
        leader.kill()  # ...SIGKILL: no shutdown, sends may be in flight
        killed_at, sent_before = time.monotonic(), len(sends(tmp_path))
        wait_for(lambda: standby.state() == "leading", timeout=30, every=0.05)
        took_over = time.monotonic() - killed_at

        wait_for(lambda: statuses(db, ids)[Status.PUBLISHED] == len(ids), timeout=90, every=0.2)
        counted = sends(tmp_path)
        assert sorted(counted) == sorted(ids)
        assert [post_id for post_id, n in counted.items() if n > 1] == []  # no post sent twice
        assert len(list((tmp_path / "outbox").glob("post-*.json"))) == len(ids)
        assert sent_before < len(ids)  # the kill really was mid-run
        assert took_over < 10  # within seconds
    finally:
        db.dispose()


@pytest.mark.parametrize("step", ["before-send", "after-send"])
def test_a_leader_killed_at_each_step_of_publishing_a_post_leaves_it_published_once(
        pg_url, instances, tmp_path, step):  # noqa: F811
    db = Database(pg_url).migrate()
    try:
        [post_id] = seed(db, 1, datetime.now(UTC) + timedelta(seconds=2), spread=0)
        stopping = instances("a", pg_url, pause=step)
        leader_of(stopping)
        standby = instances("b", pg_url)
        wait_for(lambda: standby.state() == "standby", timeout=30, every=0.05)
        assert wait_for(stopping.paused_on, timeout=30, every=0.05) == post_id
        assert statuses(db, [post_id]) == {Status.PUBLISHING: 1}  # claimed, key stored, outcome not recorded
        stopping.kill()

        wait_for(lambda: standby.state() == "leading", timeout=30, every=0.05)
        wait_for(lambda: statuses(db, [post_id]) == {Status.PUBLISHED: 1}, timeout=30, every=0.1)
        assert sends(tmp_path) == {post_id: 1}
        with db.session() as session:
            post = posts.get(session, post_id)
            actions = [e.action for e in audit.trail(session, post_id)]
        assert "Plume stopped while publishing it" in post.last_reason or "post.retry_later" in actions
        if step == "after-send":  # the network had it: found by its key, not sent again
            assert "found on the network" in post.last_reason and "post.retry_later" not in actions
        else:  # the network had nothing: sent now, by the new leader
            assert actions[-3:] == ["post.retry_later", "post.publishing", "post.published"]
    finally:
        db.dispose()


def test_a_calendar_job_missed_while_no_plume_ran_runs_once_whichever_process_leads(pg_url, instances, tmp_path):  # noqa: F811
    db = Database(pg_url).migrate()
    due = (datetime.now(UTC) - timedelta(hours=3)).replace(second=0, microsecond=0)
    at = due.strftime("%H:%M")
    try:
        set_up = instances("set-up", pg_url, cron_at=at)  # an earlier Plume: the job is new, nothing owed
        leader_of(set_up)
        wait_for(lambda: "not again" in set_up.said(), timeout=30, every=0.05)
        set_up.stop()
        with db.session() as session:  # its last run was yesterday's; then no Plume ran at `due`
            session.execute(update(CronRunRow).where(CronRunRow.job_id == "test-cron")
                            .values(last_fire=due - timedelta(days=1)))

        first, second = instances("a", pg_url, cron_at=at), instances("b", pg_url, cron_at=at)
        leader = leader_of(first, second)
        standby = second if leader is first else first
        runs = tmp_path / "cron.log"
        wait_for(lambda: runs.exists() and runs.read_text(), timeout=30, every=0.05)
        assert runs.read_text().split() == [str(leader.proc.pid)]
        wait_for(lambda: standby.state() == "standby", timeout=30, every=0.05)
        leader.kill()
        wait_for(lambda: standby.state() == "leading", timeout=30, every=0.05)
        wait_for(lambda: "not again" in standby.said(), timeout=30, every=0.05)  # it looked: done already
        standby.stop()  # waits for a job in progress
        assert runs.read_text().split() == [str(leader.proc.pid)]
        assert "not again" not in leader.said()
    finally:
        db.dispose()
