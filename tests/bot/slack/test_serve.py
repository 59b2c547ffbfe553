"""`plume serve` as users run it: a real process, over HTTP or Socket Mode, against fake Slack servers."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.server import serve as ws_serve

from tests.bot.slack.conftest import SECRET, TOKEN
from tests.bot.slack.fake_slack import TEAM
from tests.bot.slack.signing import SlackSender
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def cards(slack) -> list[dict]:
    return [c for c in slack.calls_to("chat.postMessage")
            if any(b.get("block_id", "").startswith("card:") for b in c.get("blocks") or [])]


@pytest.fixture
def serve(make_settings, fake_slack):
    """Start `python app.py serve` with the given extra environment; always stopped afterwards."""
    processes = []

    def start(**env) -> tuple[subprocess.Popen, int]:
        home = make_settings().plume_home
        port = free_port()
        full = {**os.environ, "PLUME_HOME": str(home), "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": fake_slack.api_url,
                "PORT": str(port), "PLUME_TIMEZONE": "Europe/Paris", "PLUME_APPROVERS": "UBOSS", **env}
        process = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "serve"], cwd=home.parent, env=full,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        processes.append(process)
        wait_for(lambda: healthy(port) or process.poll() is not None, timeout=90)
        assert process.poll() is None, process.stdout.read()
        return process, port

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_http_mode_serves_signed_events_and_refuses_forgeries(serve, fake_slack):
    _, port = serve(SLACK_SIGNING_SECRET=SECRET)
    sender = SlackSender(f"http://127.0.0.1:{port}", SECRET)
    assert SlackSender(f"http://127.0.0.1:{port}", "not-the-secret").mention("Launch the Guji roast").status == 401
    answer = sender.mention("Launch the Guji roast on LinkedIn https://tidewren.coffee/guji", ts="1700000500.000100")
    assert answer.status == 200 and answer.seconds < 3
    wait_for(lambda: cards(fake_slack), timeout=60)
    assert cards(fake_slack)[0]["thread_ts"] == "1700000500.000100"


class FakeSocketMode:
    """Slack's Socket Mode end: says hello, sends envelopes, collects the acks."""

    def __init__(self):
        self.outbox: queue.Queue[dict] = queue.Queue()
        self.acks: list[str] = []
        self.connected = threading.Event()
        self.server = ws_serve(self._handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handle(self, connection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0001"}}))
        self.connected.set()
        while True:
            try:
                envelope = self.outbox.get(timeout=0.1)
                connection.send(json.dumps(envelope))
            except queue.Empty:
                pass
            try:
                reply = connection.recv(timeout=0.05)
            except TimeoutError:
                continue
            except Exception:
                return
            if isinstance(reply, str) and (ack := json.loads(reply)).get("envelope_id"):
                self.acks.append(ack["envelope_id"])

    def event(self, event: dict, *, envelope_id: str, event_id: str, retry_attempt: int = 0) -> None:
        self.outbox.put({"envelope_id": envelope_id, "type": "events_api", "accepts_response_payload": False,
                         "retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else "",
                         "payload": {"token": "legacy", "team_id": TEAM, "api_app_id": "A0001",
                                     "type": "event_callback", "event_id": event_id,
                                     "event_time": int(time.time()), "event": event}})

    def close(self) -> None:
        self.server.shutdown()


def test_socket_mode_handles_an_event_once_even_when_slack_retries_it(serve, fake_slack):
    socket_mode = FakeSocketMode()
    fake_slack.socket_url = socket_mode.url
    try:
        _, port = serve(SLACK_APP_TOKEN=fake_slack.app_token)
        assert socket_mode.connected.wait(30)
        mention = {"type": "app_mention", "user": "UANA", "channel": "CMKT", "ts": "1700000600.000100",
                   "text": "<@UPLUME> Launch the Guji roast on LinkedIn https://tidewren.coffee/guji", "team": TEAM}
        socket_mode.event(mention, envelope_id="env-1", event_id="Ev0600")
        socket_mode.event(mention, envelope_id="env-2", event_id="Ev0600", retry_attempt=2)
        wait_for(lambda: {"env-1", "env-2"} <= set(socket_mode.acks), timeout=30)
        wait_for(lambda: cards(fake_slack), timeout=60)
        time.sleep(2)  # give a duplicate every chance to show up
        progress = [m for m in fake_slack.calls_to("chat.postMessage") if "Working on your brief" in m.get("text", "")]
        assert len(progress) == 1 and len(cards(fake_slack)) == 1
        # Unsigned HTTP posts never reach the app in Socket Mode; health is still served.
        request = urllib.request.Request(f"http://127.0.0.1:{port}/slack/events", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 404 and healthy(port)
    finally:
        socket_mode.close()
