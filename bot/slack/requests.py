"""Typed requests parsed from Slack payloads: listeners hand these (ids and text only) to the handlers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.slack import blocks
from core.domain import NETWORKS, Action
from core.errors import ValidationFailed
from service.posts import read_when

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
class PostClick:
    """Retry, “It was posted” or “Post it again” on a publishing message in a thread."""

    action: str  # one of blocks.POST_ACTIONS
    post_id: int
    user: str
    channel: str | None
    message_ts: str | None
    thread_ts: str | None


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
    when: str = ""  # a new time in words, read in `zone`
    zone: str | None = None


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


@dataclass
class TimeChange:
    """A reply such as “move the LinkedIn one to next Tuesday 9am Paris” or “retry it tomorrow”."""

    verb: str
    when: str  # the time in words ("" for “retry it”: now)
    post_ids: list[int]
    networks: list[str]

    @property
    def insists(self) -> bool:
        """Only these verbs always mean a time change; “post it …” may be a change request about the text."""
        return self.verb in ("move", "reschedule", "postpone", "retry")


TIME_CHANGE = re.compile(
    r"^(?:please\s+|can you\s+|could you\s+|let's\s+)?"
    r"(?P<verb>move|reschedule|postpone|push|delay|bring|retry|schedule|publish|post|send)\b"
    r"(?P<rest>.*)$", re.I | re.S)
TARGET_WORDS = re.compile(r"^(?:\s*(?:it|them|this|that|these|those|all|both|of|the|one|ones|posts?|drafts?|back|"
                          r"forward|out|again|on|to|#\d+|" + "|".join(NETWORKS) + r"|twitter)\b[,.]?)*\s*", re.I)
LEADING_PREPOSITION = re.compile(r"^(?:to|for|until|till|on|at)\s+", re.I)
NETWORK_NAMES = {**{n: n for n in NETWORKS if n != "x"}, "twitter": "x"}


def time_change(text: str) -> TimeChange | None:
    """The time part of a request to move or retry posts, and which posts it names (ids, networks)."""
    found = TIME_CHANGE.match(text.strip())
    if not found:
        return None
    rest = found["rest"]
    when = LEADING_PREPOSITION.sub("", TARGET_WORDS.sub("", rest, count=1)).strip(" .!")
    words = re.findall(r"[\w#]+", rest)
    networks = sorted({NETWORK_NAMES[w.lower()] for w in words if w.lower() in NETWORK_NAMES}
                      | ({"x"} if "X" in words else set()))
    return TimeChange(verb=found["verb"].lower(), when=when,
                      post_ids=[int(w[1:]) for w in words if w.startswith("#") and w[1:].isdigit()],
                      networks=networks)


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


def post_click(body: dict) -> PostClick:
    action = body["actions"][0]
    container = body.get("container", {})
    message = body.get("message") or {}
    return PostClick(action=action["action_id"], post_id=int(action["value"]), user=body["user"]["id"],
                     channel=container.get("channel_id") or body.get("channel", {}).get("id"),
                     message_ts=container.get("message_ts") or message.get("ts"),
                     thread_ts=message.get("thread_ts") or container.get("thread_ts"))


@dataclass
class HoldClick:
    """*Hold all publishing* on a crisis alert: the proposal (core.pause.propose) and where the message is."""

    proposal: int
    user: str
    channel: str | None
    message_ts: str | None


def hold_click(body: dict) -> HoldClick:
    click = post_click(body)
    return HoldClick(proposal=click.post_id, user=click.user, channel=click.channel, message_ts=click.message_ts)


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
        out.when = (field("when").get("value") or "").strip()
        out.zone = meta.get("zone")
        out.reason = "edited in Slack"
    return out


def submission_errors(sub: Submission) -> dict[str, str]:
    """Per-field errors Slack shows inside the modal (answered in the ack, within 3 s)."""
    if sub.action is Action.REQUEST_CHANGES and not sub.reason:
        return {"details": "Pick a reason or say what should change."}
    if sub.action is Action.EDIT and not sub.text:
        return {"text": "The text can't be empty."}
    if sub.action is Action.EDIT and sub.when:
        try:
            read_when(sub.when, now=datetime.now(UTC), zone=sub.zone or "UTC")  # hold and slots: after the ack
        except ValidationFailed as exc:
            return {"when": str(exc)}
    return {}


def command(body: dict) -> Command:
    verb, _, rest = (body.get("text") or "").strip().partition(" ")
    return Command(user=body["user_id"], team=body.get("team_id", ""), channel=body.get("channel_id", ""),
                   verb=verb.lower() or "help", rest=rest.strip(), response_url=body.get("response_url", ""))
