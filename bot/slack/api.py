"""The Slack Web API as Plume uses it: one client (base URL from SLACK_API_URL), safe retries, clear errors."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

log = logging.getLogger(__name__)

# Posting is not idempotent: a connection reset after Slack stored the message must not post it twice.
NOT_SAFE_TO_RESEND = ("chat.postMessage", "chat.postEphemeral", "views.open")
READS = ("users.info", "usergroups.users.list", "auth.test")
HINTS = {
    "not_in_channel": "invite @Plume to that channel (/invite @Plume)",
    "channel_not_found": "the channel is gone or Plume cannot see it",
    "is_archived": "the channel is archived",
    "invalid_auth": "the bot token is wrong: check SLACK_BOT_TOKEN",
    "token_revoked": "the bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN",
    "account_inactive": "the bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN",
    "missing_scope": "the app lacks a scope: reinstall it from slack/manifest.yml",
    "invalid_blocks": "Slack refused the blocks; sent as plain text instead",
    "expired_trigger_id": "the modal was opened too late (over 3 s after the click)",
}


class SafeConnectionRetry(ConnectionErrorRetryHandler):
    """Retry reads and updates after a dropped connection, never a post that may already exist."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if any(request.url.endswith(method) for method in NOT_SAFE_TO_RESEND):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


def make_client(token: str, base_url: str) -> WebClient:
    base = base_url if base_url.endswith("/") else base_url + "/"
    return WebClient(token=token, base_url=base, timeout=15,
                     retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2),
                                     SafeConnectionRetry(max_retry_count=2)])


def api_from_settings(settings) -> SlackAPI:
    """A Web API client from SLACK_BOT_TOKEN and SLACK_API_URL alone: any Plume process can post (the
    scheduler leader's digest) whether or not it runs the Slack app."""
    return SlackAPI(make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url))


class SlackAPI:
    """Every call Plume makes; failures are logged with what to do and reported as None/False."""

    def __init__(self, client: WebClient):
        self.client = client
        self._zones: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def _call(self, method: str, **kwargs) -> dict | None:
        try:
            if method in READS:  # read methods take form or query parameters, not JSON
                return self.client.api_call(method, http_verb="GET", params=kwargs).data  # type: ignore[return-value]
            return self.client.api_call(method, json=kwargs).data  # type: ignore[return-value]
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error")
            if error != "invalid_blocks":
                log.warning("Slack %s failed: %s — %s", method, error, HINTS.get(error, "see Slack's API docs"))
            raise
        except SlackClientError as exc:
            log.warning("Slack %s could not be reached: %s", method, exc)
            raise

    def _safely(self, method: str, **kwargs) -> dict | None:
        try:
            return self._call(method, **kwargs)
        except (SlackApiError, SlackClientError, OSError):
            return None

    def _with_blocks(self, method: str, payload: dict, **kwargs) -> dict | None:
        try:
            return self._call(method, **payload, **kwargs)
        except SlackApiError as exc:
            if exc.response.get("error") != "invalid_blocks":
                return None
            log.warning("Slack %s: %s; %s", method, exc.response.get("errors") or "", HINTS["invalid_blocks"])
            return self._safely(method, text=payload["text"], **kwargs)
        except (SlackClientError, OSError):
            return None

    def post(self, channel: str, payload: dict, *, thread_ts: str | None = None) -> str | None:
        """Post a message; its ts, or None when Slack refused (the reason is logged)."""
        extra = {"thread_ts": thread_ts} if thread_ts else {}
        data = self._with_blocks("chat.postMessage", payload, channel=channel, unfurl_links=False,
                                 unfurl_media=False, **extra)
        return data.get("ts") if data else None

    def update(self, channel: str, ts: str, payload: dict) -> bool:
        return self._with_blocks("chat.update", payload, channel=channel, ts=ts) is not None

    def ephemeral(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> bool:
        extra = {"thread_ts": thread_ts} if thread_ts else {}
        if self._safely("chat.postEphemeral", channel=channel, user=user, text=text, **extra) is not None:
            return True
        return self.post(user, {"text": text}) is not None  # e.g. not_in_channel: tell them in a DM

    def open_view(self, trigger_id: str, view: dict) -> bool:
        return self._safely("views.open", trigger_id=trigger_id, view=view) is not None

    def publish_home(self, user: str, view: dict) -> bool:
        return self._safely("views.publish", user_id=user, view=view) is not None

    def respond(self, response_url: str, payload: dict) -> bool:
        """Answer a slash command privately through its response_url."""
        try:
            response = WebhookClient(response_url, timeout=15).send_dict(
                {"response_type": "ephemeral", "replace_original": False, **payload})
        except (SlackClientError, OSError) as exc:
            log.warning("could not answer a slash command: %s", exc)
            return False
        if response.status_code != 200:
            log.warning("Slack refused a slash-command answer: %s %s", response.status_code, response.body)
        return response.status_code == 200

    def user_zone(self, user: str) -> str | None:
        """The user's IANA time zone from their Slack profile (cached for an hour)."""
        with self._lock:
            cached = self._zones.get(user)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        data = self._safely("users.info", user=user)
        zone = (data or {}).get("user", {}).get("tz")
        with self._lock:
            self._zones[user] = (time.monotonic() + 3600, zone)
        return zone

    def group_members(self, group_id: str) -> list[str] | None:
        data = self._safely("usergroups.users.list", usergroup=group_id)
        return list(data.get("users", [])) if data else None
