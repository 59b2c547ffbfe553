"""Publishing faults end to end: the real scheduler and webhook publisher against a loopback network that
rate-limits, fails, refuses credentials and times out after storing the post."""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from core import posts
from core.domain import Action, Decision, Post, Status, Variant
from publishing.publishers import NotSent, OutcomeUnknown, Published, Timeouts
from publishing.publishers import http as network_http
from publishing.publishers.webhook import WebhookPublisher
from publishing.scheduler import Scheduler
from tests.conftest import wait_for

SECRET = "hook-secret"
THREADS = itertools.count(1)


class FakeNetwork:
    """A receiver that behaves like a real one: stores each post once per Idempotency-Key, answers with
    the scripted status codes and headers, can store a post and then not answer in time, and answers
    GET /hook/<key> (200 with the post, 404 when it has none)."""

    def __init__(self):
        self.script: list[tuple] = []  # per POST: ("ok",) | (status, headers, body) | ("slow", seconds)
        self.requests: list[str] = []  # keys, in arrival order
        self.stored: dict[str, dict] = {}
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                key = self.path.rsplit("/", 1)[-1]
                with fake.lock:
                    found = fake.stored.get(key)
                self._answer(200, {}, found) if found else self._answer(404, {}, {"error": "not found"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                with fake.lock:
                    fake.requests.append(key)
                    step = fake.script.pop(0) if fake.script else ("ok",)
                if step[0] in ("ok", "slow"):
                    with fake.lock:  # a repeated key is the same post: nothing new is published
                        created = fake.stored.setdefault(key, {"id": f"hook-{len(fake.stored) + 1}",
                                                               "url": f"https://hooks.example/p/{body['post_id']}"})
                    if step[0] == "slow":
                        time.sleep(step[1])  # stored, but the answer comes too late
                    self._answer(200, {}, created)
                    return
                status, headers, answer = step
                self._answer(status, headers, answer)

            def _answer(self, status, headers, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up waiting
                    self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class LookingUpWebhook(WebhookPublisher):
    """A webhook whose receiver can be asked about a key (as Mastodon and Bluesky can)."""

    def lookup(self, post: Post, *, key: str) -> Published | None:
        with network_http.client(self.timeouts) as client:
            try:
                response = client.get(f"{self.url}/{key}")
            except httpx.HTTPError as exc:
                raise OutcomeUnknown(f"the receiver did not answer ({type(exc).__name__})") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise OutcomeUnknown(f"the receiver answered {response.status_code}")
        found = response.json()
        return Published(id=found["id"], url=found["url"])


@pytest.fixture
def network():
    fake = FakeNetwork()
    yield fake
    fake.close()


@pytest.fixture
def run(db, tmp_path):
    """Start a scheduler publishing through `publisher`; returns what it announced."""
    made = []

    def start(publisher) -> list[Post]:
        notified: list[Post] = []
        scheduler = Scheduler(db=db, publisher=publisher, home=tmp_path, notify=notified.append, backoff=(0.2, 0.2))
        scheduler.start()
        made.append(scheduler)
        return notified

    yield start
    for scheduler in made:
        scheduler.shutdown()


def webhook(url: str, cls=WebhookPublisher) -> WebhookPublisher:
    return cls(name="hook", url=url, secret=SECRET, timeouts=Timeouts(connect=1.0, read=0.5),
               secret_env="HOOK_SECRET")


def due_post(db) -> int:
    thread_id = f"t{next(THREADS)}"
    with db.session() as session:
        posts.save_brief(session, thread_id=thread_id, text="brief", actor="ana")
        post = posts.present(session, thread_id=thread_id, citations=[],
                             variant=Variant(network="mastodon", locale="en", text="Fresh Guji roast, out now."))
        posts.decide(session, Decision(post_id=post.id, action=str(Action.APPROVE), actor="mia",
                                       version=post.version), approvers=[])
        posts.schedule(session, post_id=post.id, run_at=datetime.now(UTC))
    return post.id


def settled(db, post_id: int, status: Status) -> Post | None:
    with db.session() as session:
        post = posts.get(session, post_id)
    return post if post.status == status else None


def test_a_429_is_retried_after_the_time_the_network_asked_for_and_posted_once(db, run, network):
    network.script = [(429, {"Retry-After": "1"}, {"error": "rate limited"})]
    notified = run(webhook(network.url))
    started = time.monotonic()
    post_id = due_post(db)
    post = wait_for(lambda: settled(db, post_id, Status.PUBLISHED), timeout=15, every=0.05)
    assert time.monotonic() - started >= 1.0
    assert len(network.requests) == 2 and len(set(network.requests)) == 1  # the same key both times
    # The network asked to wait: that is no failed attempt, and the queue says why and until when.
    assert len(network.stored) == 1 and post.external_ref == "hook-1" and post.attempts == 0
    assert post.external_url == f"https://hooks.example/p/{post_id}"
    wait_for(lambda: [p.status for p in notified] == [Status.SCHEDULED, Status.PUBLISHED], timeout=5, every=0.05)
    assert "rate-limiting" in notified[0].last_reason and "waiting until" in notified[0].last_reason
    assert notified[0].waiting and "attempt" not in notified[0].last_reason and not post.waiting


def test_a_network_that_keeps_asking_to_wait_never_fails_the_post(db, tmp_path):
    from publishing.scheduler import MAX_ATTEMPTS

    class Waiting:
        name, kind, network = "w", "webhook", "*"

        def publish(self, post, *, key):
            raise NotSent("LinkedIn is rate-limiting channel w (daily limit)", retryable=True,
                          retry_after=3600, waiting=True)

    scheduler = Scheduler(db=db, publisher=Waiting(), home=tmp_path)
    post = Post(id=1, thread_id="t", network="linkedin", locale="en", text="x", status="publishing",
                      version=1, attempts=MAX_ATTEMPTS - 1)
    outcome = scheduler.send(post)
    assert outcome.to == Status.SCHEDULED and outcome.changes["attempts"] == MAX_ATTEMPTS - 1
    assert "waiting until" in outcome.changes["waiting"]


def test_5xx_three_times_fails_the_post_and_a_human_retry_publishes_it(db, run, network):
    network.script = [(503, {}, {"error": "upstream unavailable"})] * 3
    notified = run(webhook(network.url))
    post_id = due_post(db)
    post = wait_for(lambda: settled(db, post_id, Status.FAILED), timeout=15, every=0.05)
    assert len(network.requests) == 3 and network.stored == {}
    assert "503" in post.last_reason and "after 3 attempts" in post.last_reason and post.attempts == 3
    wait_for(lambda: notified and notified[-1].status == Status.FAILED, timeout=5, every=0.05)

    with db.session() as session:  # the Retry button
        posts.retry(session, post_id=post_id, actor="mia", run_at=datetime.now(UTC), approvers=[])
    post = wait_for(lambda: settled(db, post_id, Status.PUBLISHED), timeout=15, every=0.05)
    assert len(network.requests) == 4 and len(network.stored) == 1


def test_refused_credentials_fail_at_once_and_say_what_to_do(db, run, network):
    network.script = [(401, {}, {"error": "invalid token"})]
    notified = run(webhook(network.url))
    post_id = due_post(db)
    post = wait_for(lambda: settled(db, post_id, Status.FAILED), timeout=10, every=0.05)
    time.sleep(0.5)
    assert len(network.requests) == 1 and network.stored == {}
    assert "refused" in post.last_reason and "HOOK_SECRET" in post.last_reason
    assert "plume channels test hook" in post.last_reason
    wait_for(lambda: [p.status for p in notified] == [Status.FAILED], timeout=5, every=0.05)


def test_a_timeout_after_the_network_stored_the_post_asks_a_human_and_never_resends(db, run, network):
    network.script = [("slow", 1.5)]
    notified = run(webhook(network.url))
    post_id = due_post(db)
    post = wait_for(lambda: settled(db, post_id, Status.UNKNOWN), timeout=10, every=0.05)
    time.sleep(1.5)
    assert len(network.requests) == 1 and len(network.stored) == 1  # online, once
    assert "did not answer in time" in post.last_reason and "check the network" in post.last_reason
    wait_for(lambda: [p.status for p in notified] == [Status.UNKNOWN], timeout=5, every=0.05)
    with db.session() as session:  # "It was posted"
        assert posts.settle_unknown(session, post_id=post_id, actor="mia", posted=True,
                                    approvers=[]).status == Status.PUBLISHED


def test_a_timeout_on_a_network_that_can_be_asked_is_settled_by_looking_the_post_up(db, run, network):
    network.script = [("slow", 1.5)]
    notified = run(webhook(network.url, LookingUpWebhook))
    post_id = due_post(db)
    post = wait_for(lambda: settled(db, post_id, Status.PUBLISHED), timeout=10, every=0.05)
    assert len(network.requests) == 1 and len(network.stored) == 1
    assert post.external_ref == "hook-1" and "found on the network" in post.last_reason
    wait_for(lambda: [p.status for p in notified] == [Status.PUBLISHED], timeout=5, every=0.05)


def test_an_unreachable_network_is_retried_then_fails_and_nothing_is_sent(db, run):
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"
    run(webhook(closed))
    post_id = due_post(db)
    post = wait_for(lambda: settled(db, post_id, Status.FAILED), timeout=15, every=0.05)
    assert "could not reach" in post.last_reason and "after 3 attempts" in post.last_reason
