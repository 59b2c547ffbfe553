"""A running Plume Slack app on loopback: real HTTP server, signed requests, fake Slack Web API."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from app import assemble
from bot.slack.app import SlackApp, build
from bot.slack.server import SlackHTTPServer, make_server
from tests.bot.slack.fake_slack import FakeSlack
from tests.bot.slack.signing import SlackSender

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token"


@dataclass
class Running:
    plume: object
    app: SlackApp
    server: SlackHTTPServer
    slack: FakeSlack
    send: SlackSender

    def idle(self, timeout: float = 30.0) -> None:
        assert self.app.wait_idle(timeout), "background work did not finish"


@pytest.fixture
def fake_slack():
    with FakeSlack(token=TOKEN) as slack:
        yield slack


@pytest.fixture
def slack_settings(make_settings, fake_slack):
    def make(**overrides):
        overrides.setdefault("plume_approvers", "UBOSS,UMIA")
        return make_settings(slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=fake_slack.api_url,
                             **overrides)
    return make


@contextmanager
def running(settings, slack: FakeSlack):
    with assemble(settings, quiet=True) as plume:
        app = build(plume)
        server = make_server(app, host="127.0.0.1", port=0)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield Running(plume, app, server, slack, SlackSender(server.url, SECRET))
        finally:
            server.shutdown()
            server.server_close()
            app.wait_idle(30)
            app.close()


@pytest.fixture
def plume_slack(slack_settings, fake_slack):
    with running(slack_settings(), fake_slack) as run:
        yield run
