"""The Slack app factory: one Bolt app over Plume's runner, with its client, worker pools and listeners."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field

from slack_bolt import App
from slack_sdk.signature import SignatureVerifier

from bot.slack.api import SlackAPI, make_client
from bot.slack.flows import Flows
from bot.slack.listeners import actions, commands, home, messages, views
from bot.slack.work import WorkPool
from core.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass
class SlackApp:
    """What the servers need: the Bolt app, and the parts a test or a shutdown reaches for."""

    bolt: App
    flows: Flows
    api: SlackAPI
    slow: WorkPool
    fast: WorkPool
    socket_mode: bool
    verifier: SignatureVerifier | None = None
    ready: bool = field(default=False)

    def verifies(self, raw: bytes, headers: dict) -> bool:
        """The Slack signature check, for requests that fail before Bolt gets to check it."""
        if self.socket_mode or self.verifier is None:
            return False
        return self.verifier.is_valid_request(raw, {k: v[0] for k, v in headers.items()})

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once no background work is queued or running (tests and benchmarks use it)."""
        return self.fast.wait_idle(timeout) and self.slow.wait_idle(timeout) and self.fast.wait_idle(timeout)

    def close(self, plume=None, *, timeout: float = 30.0) -> None:
        """Stop taking work and let queued work finish (up to `timeout`)."""
        self.ready = False
        if plume is not None and self.flows.on_post_update in plume.listeners:
            plume.listeners.remove(self.flows.on_post_update)
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
    # Drafting work (embeddings, checks) is CPU-bound Python in worker threads; a shorter GIL
    # switch interval lets the request threads ack promptly while it runs.
    sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
    client = make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    bolt = App(client=client, signing_secret=secret or "unused-in-socket-mode",
               request_verification_enabled=not socket, token_verification_enabled=False,
               # Listeners only ack and hand work to our pools, so running them before the
               # response keeps Bolt's own small executor out of the ack path.
               process_before_response=True, logger=logging.getLogger("plume.slack.bolt"))
    api = SlackAPI(client)
    slow = WorkPool(workers=workers, size=queue_size, name="plume-slack-slow")
    fast = WorkPool(workers=4, size=queue_size, name="plume-slack-fast")
    flows = Flows(plume, api, slow=slow, fast=fast)
    app = SlackApp(bolt=bolt, flows=flows, api=api, slow=slow, fast=fast, socket_mode=socket,
                   verifier=SignatureVerifier(secret) if secret and not socket else None)

    @bolt.error
    def on_error(error, body):
        log.error("Slack request failed (%s): %s", body.get("type", "?"), error, exc_info=error)

    for listeners in (messages, actions, views, commands, home):
        listeners.register(bolt, app)
    plume.listeners.append(flows.on_post_update)
    fast.submit(flows.refresh_groups)
    fast.submit(flows.forget_old_deliveries)
    app.ready = True
    return app
