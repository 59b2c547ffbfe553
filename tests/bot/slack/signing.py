"""Signs requests exactly as Slack does, and posts them to the running app over real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode

from tests.bot.slack.fake_slack import TEAM


def signature(secret: str, timestamp: int, body: bytes) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Answer:
    status: int
    body: str
    seconds: float

    def json(self) -> dict:
        return json.loads(self.body) if self.body else {}


class SlackSender:
    """Plays Slack: events, button clicks, modal submissions and slash commands, all signed."""

    def __init__(self, url: str, secret: str):
        self.url = url.rstrip("/") + "/slack/events"
        self.secret = secret
        self._events = 0

    def send(self, body: bytes, content_type: str, *, timestamp: int | None = None, tamper: bool | tuple = False,
             headers: dict | None = None) -> Answer:
        timestamp = int(time.time()) if timestamp is None else timestamp
        sig = signature(self.secret, timestamp, body)
        if tamper is True:  # flip the last byte of the body after signing
            body = body[:-1] + bytes([body[-1] ^ 1])
        elif tamper:  # change some text after signing, keeping the body well-formed
            body = body.replace(tamper[0], tamper[1], 1)
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": sig, **(headers or {})})
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Answer(response.status, response.read().decode(), time.perf_counter() - started)
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.read().decode(), time.perf_counter() - started)

    # --- what Slack sends ---------------------------------------------------------------------

    def event(self, event: dict, *, event_id: str | None = None, retry: int | None = None, **kw) -> Answer:
        self._events += 1
        envelope = {"token": "legacy", "team_id": TEAM, "api_app_id": "A0001", "type": "event_callback",
                    "event_id": event_id or f"Ev{self._events:06d}{time.time_ns() % 10**9}",
                    "event_time": int(time.time()), "event": event,
                    "authorizations": [{"team_id": TEAM, "user_id": "UPLUME", "is_bot": True}]}
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.send(json.dumps(envelope).encode(), "application/json", headers=headers, **kw)

    def mention(self, text: str, *, user: str = "UANA", channel: str = "CMKT", ts: str | None = None,
                thread_ts: str | None = None, **kw) -> Answer:
        event = {"type": "app_mention", "user": user, "text": f"<@UPLUME> {text}", "channel": channel,
                 "ts": ts or f"{time.time():.6f}", "team": TEAM}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.event(event, **kw)

    def reply(self, text: str, *, thread_ts: str, user: str = "UANA", channel: str = "CMKT", **kw) -> Answer:
        return self.event({"type": "message", "channel_type": "channel", "user": user, "text": text,
                           "channel": channel, "ts": f"{time.time():.6f}", "thread_ts": thread_ts, "team": TEAM}, **kw)

    def interactive(self, payload: dict, **kw) -> Answer:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.send(body, "application/x-www-form-urlencoded", **kw)

    def click(self, action_id: str, value: str, *, user: str, channel: str = "CMKT", message_ts: str = "1.1",
              thread_ts: str | None = None, in_home: bool = False, **kw) -> Answer:
        container = ({"type": "view", "view_id": "VHOME"} if in_home else
                     {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False})
        payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
                   "api_app_id": "A0001", "trigger_id": f"trigger-{time.time_ns()}", "container": container,
                   "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                                "action_ts": f"{time.time():.6f}"}],
                   "response_url": "http://127.0.0.1:9/unused"}
        if not in_home:
            payload["channel"] = {"id": channel}
            payload["message"] = {"ts": message_ts, "thread_ts": thread_ts or message_ts, "blocks": []}
        return self.interactive(payload, **kw)

    def submit(self, view: dict, values: dict, *, user: str, view_id: str = "V1", **kw) -> Answer:
        state = {block: {"value": value} for block, value in values.items()}
        payload = {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
                   "api_app_id": "A0001", "trigger_id": "t",
                   "view": {**view, "id": view_id, "hash": f"h{time.time_ns()}", "state": {"values": state}}}
        return self.interactive(payload, **kw)

    def command(self, text: str, *, user: str, response_url: str, channel: str = "CMKT", **kw) -> Answer:
        body = urlencode({"token": "legacy", "team_id": TEAM, "channel_id": channel, "user_id": user,
                          "command": "/plume", "text": text, "response_url": response_url,
                          "trigger_id": "t"}).encode()
        return self.send(body, "application/x-www-form-urlencoded", **kw)
