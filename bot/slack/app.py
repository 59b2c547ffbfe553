"""The Slack app factory: one Bolt app over Plume's service, with its client, worker pools and listeners."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_bolt import App
from slack_sdk.signature import SignatureVerifier

from bot.slack.api import SlackAPI
from bot.slack.listeners import actions, commands, home, messages, views
from bot.slack.threads import Threads
from bot.slack.work import Busy, WorkPool
from core.errors import ConfigError
from service import Service

log = logging.getLogger(__name__)


@dataclass
class SlackApp:
    """What listeners and servers need: the Bolt app, the service, Slack's Web API, the thread view and
    the bounded pools where work runs after the ack."""

    bolt: App
    service: Service
    api: SlackAPI
    threads: Threads
    slow: WorkPool  # model work and everything that may wait on it
    fast: WorkPool  # quick reads and writes: forms, commands, the App Home
    zone: str
    socket_mode: bool
    verifier: SignatureVerifier | None = None
    ready: bool = field(default=False)

    def submit(self, pool: WorkPool, user: str, channel: str | None, thread_ts: str | None,
               fn: Callable, *args) -> None:
        """Run `fn(*args)` on `pool`; when it is full, the person is told to try again."""
        try:
            pool.submit(fn, *args)
        except Busy as exc:
            log.warning("work queue %s is full", pool.name)
            with contextlib.suppress(Busy):
                self.fast.submit(self.threads.tell, user, channel, thread_ts, str(exc))

    def zone_of(self, user: str) -> str:
        """The person's time zone from their Slack profile, else the team's."""
        return self.api.user_zone(user) or self.zone

    def verifies(self, raw: bytes, headers: dict) -> bool:
        """The Slack signature check, for requests that fail before Bolt gets to check it."""
        if self.socket_mode or self.verifier is None:
            return False
        return self.verifier.is_valid_request(raw, {k: v[0] for k, v in headers.items()})

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once no background work is queued or running (tests and benchmarks use it)."""
        pools = [self.fast, self.slow, *([self.threads.pool] if self.threads.pool else []), self.fast]
        return all(pool.wait_idle(timeout) for pool in pools)

    def close(self, *, timeout: float = 30.0) -> None:
        """Stop taking work and let queued work finish (up to `timeout`)."""
        self.ready = False
        self.fast.shutdown(timeout)
        self.slow.shutdown(timeout)


def build(plume, *, socket_mode: bool | None = None, workers: int = 8, queue_size: int = 500) -> SlackApp:
    settings = plume.settings
    if not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set: create the app from slack/manifest.yml and install it.")
    socket = bool(settings.slack_app_token) if socket_mode is None else socket_mode
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    if not socket and not secret:
        raise ConfigError("HTTP mode needs SLACK_SIGNING_SECRET (Basic Information → App Credentials), "
                          "or set SLACK_APP_TOKEN for Socket Mode.")
    api = SlackAPI.from_settings(settings)
    bolt = App(client=api.client, signing_secret=secret or "unused-in-socket-mode",
               request_verification_enabled=not socket, token_verification_enabled=False,
               # Listeners only ack and hand work to our pools, so running them before the
               # response keeps Bolt's own small executor out of the ack path.
               process_before_response=True, logger=logging.getLogger("plume.slack.bolt"))
    slow = WorkPool(workers=workers, size=queue_size, name="plume-slack-slow")
    fast = WorkPool(workers=4, size=queue_size, name="plume-slack-fast")
    # The thread view that hears publishing news (built from the settings by the composition root) also
    # shows this app's cards: one card lock per post, one place that posts news.
    threads = plume.news or Threads(api=api, service=plume.service, zone=settings.plume_timezone)
    app = SlackApp(bolt=bolt, service=plume.service, api=api, threads=threads, slow=slow, fast=fast,
                   zone=settings.plume_timezone, socket_mode=socket,
                   verifier=SignatureVerifier(secret) if secret and not socket else None)

    @bolt.error
    def on_error(error, body):
        log.error("Slack request failed (%s): %s", body.get("type", "?"), error, exc_info=error)

    for listeners in (messages, actions, views, commands, home):
        listeners.register(bolt, app)
    fast.submit(plume.service.people.refresh)
    fast.submit(plume.service.deliveries.forget_old)
    app.ready = True
    return app
