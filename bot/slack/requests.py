"""Typed requests parsed from Slack payloads: listeners hand these (ids and text only) to the flows."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.slack import blocks
from core.domain import Action

MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
ACTIONS = {blocks.APPROVE: Action.APPROVE, blocks.REQUEST_CHANGES: Action.REQUEST_CHANGES,
           blocks.EDIT: Action.EDIT, blocks.REJECT: Action.REJECT}


@dataclass
class MessageRequest:
    team: str
    channel: str
    user: str
    text: str
    ts: str
    thread_ts: str | None
    direct: bool

    @property
    def root(self) -> str:
        return self.thread_ts or self.ts


@dataclass
class CardClick:
    action: Action
    post_id: int
    version: int
    user: str
    team: str
    channel: str | None  # None when clicked in the App Home
    thread_ts: str | None
    trigger_id: str


@dataclass
class Submission:
    action: Action
    post_id: int
    version: int
    user: str
    channel: str | None
    thread_ts: str | None
    reason: str = ""
    text: str | None = None
    run_at: str | None = None


@dataclass
class Command:
    user: str
    team: str
    channel: str
    verb: str
    rest: str
    response_url: str


def message(event: dict, team: str) -> MessageRequest | None:
    """A human's message, or None for edits, bot posts, joins and other subtypes."""
    if event.get("subtype") or event.get("bot_id") or not event.get("user"):
        return None
    text = MENTION.sub("", event.get("text") or "").strip()
    return MessageRequest(team=team or event.get("team", ""), channel=event["channel"], user=event["user"],
                          text=text, ts=event["ts"], thread_ts=event.get("thread_ts"),
                          direct=event.get("channel_type") == "im")


def team_of(body: dict) -> str:
    team = body.get("team_id") or body.get("team") or ""
    return team.get("id", "") if isinstance(team, dict) else team


def click(body: dict) -> CardClick:
    action = body["actions"][0]
    post_id, version = blocks.parse_card_value(action["value"])
    container = body.get("container", {})
    in_message = container.get("type") == "message"
    message = body.get("message") or {}
    return CardClick(action=ACTIONS[action["action_id"]], post_id=post_id, version=version,
                     user=body["user"]["id"], team=team_of(body),
                     channel=(container.get("channel_id") or body.get("channel", {}).get("id")) if in_message else None,
                     thread_ts=(message.get("thread_ts") or container.get("thread_ts") or message.get("ts"))
                     if in_message else None,
                     trigger_id=body.get("trigger_id", ""))


def rule_click(body: dict) -> dict:
    """Accept rule / Dismiss on a proposal message: the rule id, who, and where the message is."""
    action = body["actions"][0]
    container = body.get("container", {})
    message = body.get("message") or {}
    return {"rule_id": int(action["value"]), "accept": action["action_id"] == blocks.RULE_ACCEPT,
            "user": body["user"]["id"], "channel": container.get("channel_id") or body.get("channel", {}).get("id"),
            "message_ts": container.get("message_ts") or message.get("ts"),
            "thread_ts": message.get("thread_ts") or container.get("thread_ts")}


def submission(body: dict, action: Action) -> Submission:
    view = body["view"]
    meta = json.loads(view.get("private_metadata") or "{}")
    values = view.get("state", {}).get("values", {})

    def field(block: str) -> dict:
        return values.get(block, {}).get("value", {}) or {}

    out = Submission(action=action, post_id=int(meta["post"]), version=int(meta["version"]),
                     user=body["user"]["id"], channel=meta.get("channel"), thread_ts=meta.get("thread"))
    if action is Action.REQUEST_CHANGES:
        labels = [o["value"] for o in field("reasons").get("selected_options") or []]
        out.reason = blocks.change_reason(labels, field("details").get("value") or "")
    elif action is Action.REJECT:
        out.reason = (field("reason").get("value") or "").strip()
    elif action is Action.EDIT:
        out.text = (field("text").get("value") or "").strip()
        stamp = field("when").get("selected_date_time")
        out.run_at = datetime.fromtimestamp(int(stamp), UTC).isoformat() if stamp else None
        out.reason = "edited in Slack"
    return out


def submission_errors(sub: Submission) -> dict[str, str]:
    """Per-field errors Slack shows inside the modal (answered in the ack, within 3 s)."""
    if sub.action is Action.REQUEST_CHANGES and not sub.reason:
        return {"details": "Pick a reason or say what should change."}
    if sub.action is Action.EDIT and not sub.text:
        return {"text": "The text can't be empty."}
    if sub.action is Action.EDIT and sub.run_at and datetime.fromisoformat(sub.run_at) < datetime.now(UTC):
        return {"when": "That time has passed; pick a time in the future."}
    return {}


def command(body: dict) -> Command:
    verb, _, rest = (body.get("text") or "").strip().partition(" ")
    return Command(user=body["user_id"], team=body.get("team_id", ""), channel=body.get("channel_id", ""),
                   verb=verb.lower() or "help", rest=rest.strip(), response_url=body.get("response_url", ""))
