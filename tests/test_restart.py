"""Restarts for real: separate `plume shell` processes on one data folder, killed with SIGKILL."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core import posts
from core.db import Database
from core.domain import Status
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parent.parent
ZONE = "Europe/Paris"
BRIEF = "Launch the Guji roast on LinkedIn https://tidewren.coffee/guji"


class ShellProcess:
    """`python app.py shell` with a pipe for input and a thread collecting its output."""

    def __init__(self, home: Path):
        env = {**os.environ, "PLUME_HOME": str(home), "PLUME_TIMEZONE": ZONE, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "shell"], cwd=home.parent, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def send(self, text: str) -> None:
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def expect(self, fragment: str, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if fragment in line:
                return line
        raise AssertionError(f"never saw {fragment!r}; output was:\n{''.join(self.seen)}")

    def quit(self) -> int:
        self.send("quit")
        return self.proc.wait(timeout=60)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


@pytest.fixture
def home(make_settings, tmp_path):
    settings = make_settings()  # copies the pre-indexed guidelines into the home
    return settings.plume_home


def stored(home: Path) -> list:
    db = Database(f"sqlite:///{(home / 'plume.db').resolve()}")
    try:
        with db.session() as session:
            return posts.with_status(session, list(Status))
    finally:
        db.dispose()


def soon(seconds: float) -> str:
    return (datetime.now(ZoneInfo(ZONE)) + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def test_brief_awaiting_approval_survives_sigkill_and_is_approved_by_a_new_process(home):
    first = ShellProcess(home)
    first.send(BRIEF)
    first.expect("Decide with")
    first.kill()
    assert first.proc.returncode == -signal.SIGKILL
    [waiting] = stored(home)
    assert waiting.status == Status.AWAITING_APPROVAL

    second = ShellProcess(home)
    second.expect("1 draft(s) await a decision")
    second.send("approve 1")
    second.expect("Scheduled what was approved")
    assert second.quit() == 0
    [post] = stored(home)
    assert post.status == Status.SCHEDULED and post.id == waiting.id and post.approved_hash


def schedule_soon(home: Path, seconds: float, *, crash: bool = False) -> None:
    shell = ShellProcess(home)
    shell.send(BRIEF)
    shell.expect("Decide with")
    shell.send("edit 1")
    shell.send(".")
    shell.send(soon(seconds))
    shell.expect("Decide with")
    shell.send("approve 1")
    shell.expect("Scheduled what was approved")
    if crash:  # Plume goes down at once, before the post is due
        shell.kill()
    else:
        assert shell.quit() == 0


def test_post_scheduled_before_a_restart_is_published_after_it(home):
    schedule_soon(home, 15)  # ample time to quit cleanly before it is due, even on a busy machine
    [post] = stored(home)
    assert post.status == Status.SCHEDULED  # the first process quit before it was due

    second = ShellProcess(home)
    second.expect("Published post")
    second.quit()
    record = json.loads((home / "outbox" / f"post-{post.id}.json").read_text())
    assert record["text"] == post.text and record["approved_hash"] == post.approved_hash


def test_post_due_while_plume_was_down_is_published_on_start_up(home):
    schedule_soon(home, 5, crash=True)
    [post] = stored(home)
    assert post.status == Status.SCHEDULED, "the first process must be gone before the post is due"
    wait_for(lambda: datetime.fromisoformat(post.run_at) < datetime.now(ZoneInfo(ZONE)) - timedelta(seconds=2))

    second = ShellProcess(home)
    second.expect("Published post")
    second.quit()
    [published] = stored(home)
    assert published.status == Status.PUBLISHED
    assert (home / "outbox" / f"post-{post.id}.json").exists()
