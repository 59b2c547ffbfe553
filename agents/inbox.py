"""Agent Inbox's shapes: a HumanInterrupt per post awaiting a decision, and HumanResponses read as decisions.

The shapes are LangGraph's (`langgraph.prebuilt.interrupt`) and LangChain's Agent Inbox's, kept as
plain dicts so checkpoints stay strict: the interrupt's value is a list of HumanInterrupt
(`action_request` {action, args}, `config` {allow_accept, allow_edit, allow_respond, allow_ignore},
`description`), and the resume value a list of HumanResponse (`type` accept | edit | response |
ignore, `args`). Agent Inbox answers the first item with one response; a response answers the
item at its position, unless its `args` is an action request naming a post (`args.args.post_id`),
as Agent Inbox's accept and edit are and as every response Plume's own front ends send is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core import platforms
from core.domain import LOCALES, Action, Decision

ACTION = "publish_post"
CONFIG = {"allow_accept": True, "allow_edit": True, "allow_respond": True, "allow_ignore": True}
HOW = ("**Accept** approves it for publication at that time · **Edit** changes `text` or `proposed_at` "
       "(ISO 8601, e.g. 2026-12-03T09:00:00+01:00) · **Respond** asks for changes, saying which · "
       "**Ignore** rejects it")
VERBS = {Action.APPROVE: "approval", Action.EDIT: "edit", Action.REQUEST_CHANGES: "change request",
         Action.REJECT: "rejection"}


def request(variant: dict, passages: list[dict], zone: str) -> dict:
    """The HumanInterrupt for one presented variant (a post awaiting approval)."""
    args = {"post_id": variant["post_id"], "version": variant["version"], "network": variant["network"],
            "locale": variant["locale"], "text": variant["text"], "proposed_at": variant.get("proposed_at")}
    return {"action_request": {"action": ACTION, "args": args}, "config": dict(CONFIG),
            "description": card(variant, passages, zone)}


def card(variant: dict, passages: list[dict], zone: str) -> str:
    """The draft as a reviewer needs it, in Markdown: text, length, checks, citations and time."""
    network = platforms.get(variant["network"])
    text = variant["text"]
    lines = [f"### {network.label} · {LOCALES.get(variant['locale'], variant['locale'])} · "
             f"post #{variant['post_id']}, version {variant['version']}", ""]
    lines += [f"> {line}" if line else ">" for line in text.splitlines() or [""]]
    checks = variant.get("checks", [])
    failed = [c for c in checks if not c["ok"]]
    lines += ["", f"Length: {network.length(text)}/{network.max_length} as {network.label} counts · "
                  f"✓ {len(checks) - len(failed)} checks passed"]
    lines += [f"- {'✗' if c.get('severity', 'error') == 'error' else '!'} {c['message']}" for c in failed]
    by_id = {p["id"]: p for p in passages}
    cited = [by_id[i] for i in variant.get("citations", []) if i in by_id]
    lines.append("Cites: " + ("; ".join(f"{p['source']} › {p['heading']}" if p.get("heading") else p["source"]
                                       for p in cited) or "no guideline passage"))
    if variant.get("proposed_at"):
        at = datetime.fromisoformat(variant["proposed_at"]).astimezone(ZoneInfo(zone))
        reason = f" — {variant['time_reason']}" if variant.get("time_reason") else ""
        lines.append(f"When: {at:%a %d %b %Y %H:%M} {zone}{reason}")
    lines += [f"⚠ {w}" for w in variant.get("warnings", [])]
    lines += ["", HOW]
    return "\n".join(lines)


def post_ids(value) -> list[int]:
    """The posts an interrupt's value asks about."""
    return [item["action_request"]["args"]["post_id"] for item in value if isinstance(item, dict)] \
        if isinstance(value, list) else []


@dataclass
class Read:
    decisions: list[Decision]
    problems: list[str]  # responses that could not be read, said so


def decisions(items: list[dict], responses, *, actor: str) -> Read:
    """The decision each HumanResponse asks for, by `actor` (never by whoever the response claims)."""
    if isinstance(responses, dict):  # one response, not in a list
        responses = [responses]
    if not isinstance(responses, list):
        return Read([], [f"A resume value Plume can't read was ignored ({type(responses).__name__}): resume with "
                         "a list of Agent Inbox responses (accept, edit, response or ignore)."])
    read = Read([], [])
    for index, response in enumerate(responses):
        try:
            read.decisions.append(_decision(items, index, response, actor))
        except (KeyError, TypeError, ValueError) as exc:
            read.problems.append(f"A response Plume can't read was ignored ({exc}).")
    return read


def _decision(items: list[dict], index: int, response, actor: str) -> Decision:
    if not isinstance(response, dict) or response.get("type") not in ("accept", "edit", "response", "ignore"):
        raise ValueError(f"not a HumanResponse: {str(response)[:80]}")
    answer = response.get("args")
    named = answer.get("args") if isinstance(answer, dict) and isinstance(answer.get("args"), dict) else {}
    if "post_id" in named:
        post_id = int(named["post_id"])
        item = next((i for i in items if i["action_request"]["args"]["post_id"] == post_id), None)
        if item is None:
            raise ValueError(f"post #{post_id} is not waiting for a decision in this brief")
    elif index < len(items):
        item = items[index]
    else:
        raise ValueError(f"response {index + 1} answers no post: {len(items)} are waiting")
    shown = item["action_request"]["args"]
    seen = named.get("version")
    common = {"post_id": shown["post_id"], "actor": actor, "version": shown["version"] if seen in (None, "") else int(seen)}
    kind = response["type"]
    if kind == "accept":
        return Decision(action=str(Action.APPROVE), **common)
    if kind == "ignore":
        return Decision(action=str(Action.REJECT), reason=str(named.get("reason", "")), **common)
    if kind == "response":
        reason = answer if isinstance(answer, str) else named.get("reason", "")
        return Decision(action=str(Action.REQUEST_CHANGES), reason=str(reason), **common)
    text, at = str(named.get("text", shown["text"])), named.get("proposed_at") or None
    moved = at is not None and at != shown["proposed_at"]
    if text == shown["text"] and not moved:  # nothing edited: an accept, as Agent Inbox itself sends it
        return Decision(action=str(Action.APPROVE), **common)
    return Decision(action=str(Action.EDIT), text=text, run_at=at if moved else None,
                    reason=str(named.get("reason", "")), **common)


def response_for(decision: Decision) -> dict:
    """The HumanResponse that tells the graph about a decision a front end recorded itself (through
    core.decisions.record): it names its post and version, so it is recognised as already applied."""
    named = {"post_id": decision.post_id, "version": decision.version}
    if decision.action == Action.EDIT:
        named |= {"text": decision.text, "proposed_at": decision.run_at}
    if decision.reason:
        named["reason"] = decision.reason
    kind = {Action.APPROVE: "accept", Action.EDIT: "edit", Action.REQUEST_CHANGES: "response",
            Action.REJECT: "ignore"}[Action(decision.action)]
    return {"type": kind, "args": {"action": ACTION, "args": named}}


def verb(decision: Decision) -> str:
    return VERBS[Action(decision.action)]
