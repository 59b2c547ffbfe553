"""Pure Block Kit builders: domain objects in, message and view dicts out (no I/O, no Slack client)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from typing import TYPE_CHECKING

from core import platforms, sources, when
from core.domain import Passage, Post, Status, digest
from core.pause import Pause
from core.rules import Rule

if TYPE_CHECKING:
    from service import Queue
    from service.news import Headlines

# Action and callback ids: listeners match on these, so they are the contract with Slack.
APPROVE = "plume.approve"
REQUEST_CHANGES = "plume.request_changes"
EDIT = "plume.edit"
REJECT = "plume.reject"
RETRY = "plume.retry"
RETRY_POST = "plume.retry_post"  # a failed (or held) post goes out now
POSTED = "plume.posted"  # an unknown post: “It was posted”
POST_AGAIN = "plume.post_again"  # an unknown post: “Post it again”
POST_ACTIONS = (RETRY_POST, POSTED, POST_AGAIN)
HOLD_ALL = "plume.hold_all"  # a crisis alert's one button (approvers)
RULE_ACCEPT = "plume.rule_accept"
RULE_DISMISS = "plume.rule_dismiss"
RULE_ACTIONS = (RULE_ACCEPT, RULE_DISMISS)
CARD_ACTIONS = (APPROVE, REQUEST_CHANGES, EDIT, REJECT)
CHANGES_VIEW = "plume.changes_view"
EDIT_VIEW = "plume.edit_view"
REJECT_VIEW = "plume.reject_view"

# Block Kit limits (https://api.slack.com/reference/block-kit): kept well inside.
SECTION_TEXT = 3000
CONTEXT_TEXT = 2000
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
FALLBACK_TEXT = 3000
INPUT_MAX = 3000

REASONS = {  # value → label shown in the Request changes modal
    "tone": "Off-brand tone",
    "facts": "Wrong facts",
    "format": "Format/length",
    "legal": "Legal or compliance",
    "timing": "Timing",
    "other": "Other",
}

SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
SAFE_URL = re.compile(r"^https?://[^\s<>|]+$")  # a link Slack renders as is, with nothing to break out of


# --- text safety ----------------------------------------------------------------------------

def escape(text: str) -> str:
    """Untrusted text in mrkdwn: no <!channel>, <!here>, <@U…> or <url|label> survives as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def clip_escaped(text: str, limit: int) -> str:
    """Escape, then clip without cutting an entity such as &amp; in half."""
    out = escape(text)
    if len(out) <= limit:
        return out
    cut = out[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def who(actor: str | None) -> str:
    """A Slack user id becomes a mention; anything else (shell users, "plume") is plain text."""
    if not actor:
        return "someone"
    return f"<@{actor}>" if SLACK_USER.match(actor) else escape(actor)


def quote_chunks(text: str, limit: int = SECTION_TEXT - 100) -> list[str]:
    """The text as mrkdwn quote lines, escaped, split at line or word boundaries into sections."""
    pieces: list[str] = []
    for line in (text.splitlines() or [""]):
        quoted = ">" + escape(line)
        while len(quoted) > limit:  # one very long line: cut at a space, or hard
            cut = quoted.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            amp = quoted.rfind("&", 0, cut)
            if amp != -1 and ";" not in quoted[amp:cut]:
                cut = amp
            pieces.append(quoted[:cut])
            quoted = ">" + quoted[cut:].lstrip()
        pieces.append(quoted)
    chunks, current = [], ""
    for piece in pieces:
        if current and len(current) + 1 + len(piece) > limit:
            chunks.append(current)
            current = piece
        else:
            current = f"{current}\n{piece}" if current else piece
    chunks.append(current)
    return chunks


# --- small block helpers ---------------------------------------------------------------------

def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_TEXT), "verbatim": True}}


def context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, CONTEXT_TEXT), "verbatim": True}]}


def plain(text: str, limit: int = 75) -> dict:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    out = {"type": "button", "text": plain(text), "action_id": action_id, "value": value}
    if style:
        out["style"] = style
    return out


def message(text: str, blocks: list[dict]) -> dict:
    """A message payload: fallback text (notifications, screen readers) plus blocks within limits."""
    if len(blocks) > MESSAGE_BLOCKS:
        blocks = blocks[: MESSAGE_BLOCKS - 1] + [context("…more was cut to fit one Slack message.")]
    return {"text": clip(text, FALLBACK_TEXT), "blocks": blocks}


def card_value(post: Post) -> str:
    """Button values carry ids only: the post and the version the human is looking at."""
    return f"{post.id}:{post.version}"


def parse_card_value(value: str) -> tuple[int, int]:
    post_id, _, version = value.partition(":")
    return int(post_id), int(version)


# --- cards -------------------------------------------------------------------------------------

@dataclass
class Superseded:
    """Why an older version of a card is no longer the one to decide."""

    actor: str | None
    reason: str
    edited: bool
    next_version: int


def card(post: Post, *, zone: str, text: str | None = None, votes: Iterable[str] = (), needed: int = 1,
         superseded: Superseded | None = None, buttons: bool = True, compact: bool = False) -> dict:
    """One draft for a human: text, network · locale, length vs limit, checks, citations, time, decision."""
    shown = post.text if text is None else text
    rules = platforms.get(post.network)
    version = superseded.next_version - 1 if superseded else post.version
    title = f"*{platforms.post_label(post)}* · draft v{version} · post #{post.id}"
    blocks = [section(title)]
    chunks = quote_chunks(shown)
    if compact and len(chunks) > 1:
        chunks = [chunks[0] + "…"]
    blocks += [section(chunk) for chunk in chunks]
    failing = [c for c in post.checks if not c.get("ok")]
    passed = len(post.checks) - len(failing)
    length = rules.length(shown)
    over = " ⚠ over the limit" if length > rules.max_length else ""
    blocks.append(context(f"Length *{length}/{rules.max_length}* as {rules.label} counts{over} · "
                          f"✓ {passed} check{'s' * (passed != 1)} passed"
                          + (f" · ✗ {len(failing)} to look at" if failing else "")))
    if failing and not superseded:
        lines = [f"{'✗' if c.get('severity', 'error') == 'error' else '!'} {escape(c.get('message', c.get('name', '')))}"
                 for c in failing[:12]]
        if len(failing) > 12:
            lines.append(f"…and {len(failing) - 12} more")
        blocks.append(section("\n".join(lines)))
    if not compact:
        cites = [escape(f"{c['source']} › {c['heading']}" if c.get("heading") else c["source"]) for c in post.citations]
        blocks.append(context("📚 Cites: " + ("; ".join(cites) if cites else "no guideline passage")))
        if post.sources:
            blocks.append(context(sources_line(post, zone)))
        if post.rationale:
            blocks.append(context(f"💬 Why: {clip_escaped(post.rationale, 500)}"))
        if post.media_idea and not post.media:
            blocks.append(context(f"🖼 Image idea: {clip_escaped(post.media_idea, 300)}"))
        reason = f" — {escape(post.time_reason)}" if post.time_reason else ""
        blocks.append(context(f"🕘 Proposed: *{when.moment(post.run_at, zone, utc=False)}*{reason}"))
        if post.warnings:
            blocks.append(context("\n".join(f"⚠ {escape(w)}" for w in post.warnings[:8])))
    if superseded:
        what = "Edited" if superseded.edited else "Changes requested"
        why = f": “{escape(clip(superseded.reason, 500))}”" if superseded.reason and not superseded.edited else ""
        blocks.append(context(f"✏️ {what} by {who(superseded.actor)}{why} — version {superseded.next_version} "
                              "follows in this thread."))
    elif post.status == Status.AWAITING_APPROVAL:
        votes = list(votes)
        if needed > 1:
            got = ", ".join(who(v) for v in votes) or "none yet"
            blocks.append(context(f"👥 {len(votes)} of {needed} approvals: {got}"))
        if buttons:
            value = card_value(post)
            blocks.append({"type": "actions", "block_id": f"card:{post.id}:{post.version}", "elements": [
                button("Approve", APPROVE, value, "primary"),
                button("Request changes", REQUEST_CHANGES, value),
                button("Edit", EDIT, value),
                button("Reject", REJECT, value, "danger"),
            ]})
    else:
        blocks.append(context(status_line(post, zone)))
    return message(f"{platforms.get(post.network).label} · {post.locale} draft v{version}: {clip_escaped(shown, 200)}",
                   blocks)


def sources_line(post: Post, zone: str) -> str:
    """The fresh sources a draft was given, each with its age: “🔗 page “Guji” (tidewren.coffee), fetched 2 h ago…”."""
    now = datetime.now(UTC)
    return "\n".join(f"{'⚠' if s.get('error') else '🔗'} {escape(clip(sources.describe(s, now=now, zone=zone), 300))}"
                     for s in post.sources[:5])


def status_line(post: Post, zone: str) -> str:
    """Who decided, when, and what happens next — shown once a card has no buttons any more."""
    reason = f": “{escape(clip(post.last_reason, 500))}”" if post.last_reason else ""
    approved = f"✅ Approved by {who(post.approved_by)}" + (f" on {when.moment(post.approved_at, zone, utc=False)}" if post.approved_at else "")
    status = Status(post.status)
    if status == Status.APPROVED:
        return approved + " — scheduling…"
    if status == Status.SCHEDULED:
        return f"{approved} — scheduled for *{when.moment(post.run_at, zone, utc=False)}*"
    if status == Status.HELD:
        return (f"{approved} — ⏸ held{reason} (was due {when.moment(post.run_at, zone, utc=False)}; an approver can publish it now "
                "or reply in its thread with a new time)")
    if status == Status.PUBLISHING:
        return f"{approved} — 📤 publishing now…"
    if status == Status.PUBLISHED:
        return f"{approved} — 📤 published {when.moment(post.published_at, zone, utc=False)}{where_published(post)}"
    if status == Status.REJECTED:
        return f"❌ Rejected by {who(post.last_actor)}{reason}"
    if status == Status.CANCELLED:
        return f"🚫 Cancelled by {who(post.last_actor)}{reason}"
    if status == Status.FAILED:
        return f"⚠️ Not published{reason} — nothing went out; a human can retry or reschedule it."
    if status == Status.UNKNOWN:
        return f"❓ Outcome unknown{reason} — check {platforms.get(post.network).label} before retrying."
    if status == Status.CHANGES_REQUESTED:
        return f"✏️ {who(post.last_actor)} asked for changes{reason} — working on a new version…"
    return f"Status: {status.value.replace('_', ' ')}"


def where_published(post: Post) -> str:
    """“ → View on LinkedIn” linking the permalink (on the host it opens, for a webhook receiver or a Mastodon
    server), or the post's id when there is no URL."""
    if post.external_url and SAFE_URL.match(post.external_url):
        return f" → <{post.external_url}|View on {escape(platforms.site(post.network, post.external_url))}>"
    return f" → {escape(post.external_ref)}" if post.external_ref else ""


def already(post_status: str | None, by: str | None) -> str:
    """The answer to a click on a card someone else already decided."""
    verbs = {Status.APPROVED: "approved", Status.SCHEDULED: "approved", Status.HELD: "approved",
             Status.PUBLISHING: "approved", Status.PUBLISHED: "approved", Status.FAILED: "approved",
             Status.UNKNOWN: "approved", Status.REJECTED: "rejected", Status.CANCELLED: "cancelled",
             Status.CHANGES_REQUESTED: "sent back for changes"}
    verb = verbs.get(Status(post_status)) if post_status else None
    if verb is None:
        return "This card changed since you saw it; look at the newest version in the thread."
    return f"Already {verb} by {who(by)}. Nothing was changed."


# --- progress and notes --------------------------------------------------------------------------

def progress(steps: list[str], *, done: bool = False, notes: Iterable[str] = (), count: int = 0,
             error: str | None = None, retry_value: str | None = None) -> dict:
    if error:
        head = f"✗ {escape(error)}"
    elif done:
        head = f"✅ Ready for review — {count} draft{'s' * (count != 1)} below." if count else "✅ Done."
    else:
        head = "⏳ Working on your brief…"
    lines = [head] + [f"✓ {escape(s)}" for s in steps[-12:]]
    blocks = [section("\n".join(lines))]
    notes = list(notes)
    if notes:
        blocks.append(context("\n".join(f"⚠ {escape(n)}" for n in notes[:10])))
    if retry_value:
        blocks.append({"type": "actions", "block_id": "retry", "elements": [button("Retry", RETRY, retry_value)]})
    return message(clip(lines[0], 300), blocks)


def follow_up_failed(text: str, *, thread_id: str) -> dict:
    """A decision that stands, whose follow-up did not finish: what happened, and Retry (ids only)."""
    head = f"⚠️ {escape(text)}"
    return message(head, [section(head), {"type": "actions", "block_id": "retry",
                                          "elements": [button("Retry", RETRY, thread_id, "primary")]}])


def notice(text: str) -> dict:
    """A short message already written as mrkdwn by Plume (dynamic parts escaped by the caller)."""
    return message(text, [section(text)])


# --- publishing news ----------------------------------------------------------------------------

def post_news(post: Post, *, zone: str, done: str | None = None) -> dict:
    """What a thread hears about its post's publishing, with the buttons a human needs next.

    `done` (e.g. “🔁 Retried by …”) replaces the buttons once someone acted on them.
    """
    what = f"Post #{post.id} ({platforms.post_label(post)})"
    network = platforms.get(post.network).label
    reason = escape(clip(post.last_reason, 500))
    value = str(post.id)  # ids only: the state lives in the database
    status = Status(post.status)
    hint, buttons = "", []
    if status == Status.PUBLISHED:
        head = f"📤 Published post #{post.id} ({platforms.post_label(post)}){where_published(post)}"
    elif status == Status.FAILED and post.approved_hash != digest(post.text, post.media):
        head = f"⚠️ {what} was not published: {reason}"
        hint = "Nothing went out: only the exact text that was approved is ever published."
    elif status == Status.FAILED:
        head = f"⚠️ {what} was not published: {reason}"
        hint = ("Nothing went out. Once the cause is fixed, an approver can retry it now, or reply here with a "
                "time, e.g. “retry it tomorrow 9am”.")
        buttons = [button("Retry", RETRY_POST, value, "primary")]
    elif status == Status.UNKNOWN:
        head = f"❓ {what} may or may not be on {network}: {reason}"
        hint = (f"Check {network}, then an approver tells me: *It was posted* marks it published; *Post it again* "
                "sends it now with the same idempotency key.")
        buttons = [button("It was posted", POSTED, value), button("Post it again", POST_AGAIN, value, "primary")]
    elif status == Status.HELD:
        head = f"⏸ {what} is held" + (f": {reason}" if reason else ".")
        hint = (f"It will not go out on its own. An approver can publish it now, reply here with a new time "
                f"(“move it to tomorrow 9am”), or cancel it with `/plume cancel {post.id}`.")
        buttons = [button("Publish now", RETRY_POST, value, "primary")]
    elif status == Status.SCHEDULED and post.attempts:  # the network refused it; Plume tries again by itself
        head = f"⏳ {what} did not go out yet: {reason}"
    elif status == Status.SCHEDULED:
        head = f"🕘 {what} is scheduled for *{when.moment(post.run_at, zone, utc=False)}*."
    else:
        head = f"{what} is now {status.value.replace('_', ' ')}."
    blocks = [section(head)]
    if done:
        blocks.append(context(done))
    elif hint:
        blocks.append(context(hint))
    if buttons and not done:
        blocks.append({"type": "actions", "block_id": f"post:{post.id}", "elements": buttons})
    return message(head, blocks)


def rule_proposal(rule: Rule) -> dict:
    """A proposed brand rule (core.rules.Rule); approvers accept or dismiss it here."""
    return message(f"💡 Proposed brand rule: {escape(rule.summary)}", rule_blocks(rule))


def rule_blocks(rule: Rule) -> list[dict]:
    text = f"💡 *Proposed brand rule #{rule.id}:* {escape(rule.summary)}\n{escape(clip(rule.origin, 600))}"
    if rule.status == "proposed":
        return [section(text + "\nAccept it to apply it to every future draft."),
                {"type": "actions", "block_id": f"rule:{rule.id}", "elements": [
                    button("Accept rule", RULE_ACCEPT, str(rule.id), "primary"),
                    button("Dismiss", RULE_DISMISS, str(rule.id))]}]
    verdict = "✅ Accepted" if rule.status == "accepted" else "🚫 Dismissed"
    return [section(text), context(f"{verdict} by {who(rule.decided_by)}")]


# --- modals -----------------------------------------------------------------------------------

def _metadata(post: Post, channel: str | None, thread_ts: str | None, zone: str | None = None) -> str:
    data = {"post": post.id, "version": post.version, "channel": channel, "thread": thread_ts}
    if zone:  # the submission reads a time in words in the zone of the person who typed it
        data["zone"] = zone
    return json.dumps(data)


def _summary(post: Post) -> dict:
    return section(f"*{platforms.post_label(post)}* · v{post.version} · post #{post.id}\n"
                   + quote_chunks(clip(post.text, 1200))[0])


def changes_modal(post: Post, *, channel: str | None = None, thread_ts: str | None = None) -> dict:
    options = [{"text": plain(label), "value": value} for value, label in REASONS.items()]
    return {
        "type": "modal", "callback_id": CHANGES_VIEW, "private_metadata": _metadata(post, channel, thread_ts),
        "title": plain("Request changes", 24), "submit": plain("Send", 24), "close": plain("Cancel", 24),
        "blocks": [
            _summary(post),
            {"type": "input", "block_id": "reasons", "optional": True, "label": plain("What is wrong?", 2000),
             "element": {"type": "checkboxes", "action_id": "value", "options": options}},
            {"type": "input", "block_id": "details", "optional": True, "label": plain("What should change?", 2000),
             "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 1000,
                         "placeholder": plain("e.g. shorter, and mention the Lyon shop", 150)}},
            context("Plume revises this draft and posts the new version in the thread."),
        ],
    }


def edit_modal(post: Post, *, channel: str | None = None, thread_ts: str | None = None, zone: str = "UTC") -> dict:
    limit = platforms.get(post.network).max_length
    return {
        "type": "modal", "callback_id": EDIT_VIEW, "private_metadata": _metadata(post, channel, thread_ts, zone),
        "title": plain("Edit draft", 24), "submit": plain("Re-check", 24), "close": plain("Cancel", 24),
        "blocks": [
            section(f"*{platforms.post_label(post)}* · v{post.version} · post #{post.id} · limit {limit} characters"),
            {"type": "input", "block_id": "text", "label": plain("Text", 2000),
             "element": {"type": "plain_text_input", "action_id": "value", "multiline": True,
                         "max_length": INPUT_MAX, "initial_value": clip(post.text, INPUT_MAX)}},
            {"type": "input", "block_id": "when", "optional": True, "label": plain("Publish at", 2000),
             "hint": plain(f"Now {when.moment(post.run_at, zone, utc=False)}. Leave blank to keep it.", 2000),
             "element": {"type": "plain_text_input", "action_id": "value", "max_length": 200,
                         "placeholder": plain("e.g. next Tuesday 9am, tomorrow morning, 8 Dec 14:30 Paris", 150)}},
            context(f"Times in words are read in your time zone ({escape(zone)}) unless you name a city. "
                    "Your edit is checked again and shown with its counts before anyone can approve it."),
        ],
    }


def reject_modal(post: Post, *, channel: str | None = None, thread_ts: str | None = None) -> dict:
    return {
        "type": "modal", "callback_id": REJECT_VIEW, "private_metadata": _metadata(post, channel, thread_ts),
        "title": plain("Reject draft", 24), "submit": plain("Reject", 24), "close": plain("Cancel", 24),
        "blocks": [
            _summary(post),
            {"type": "input", "block_id": "reason", "optional": True, "label": plain("Why? (optional)", 2000),
             "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 1000}},
        ],
    }


def change_reason(labels: Iterable[str], details: str) -> str:
    """The reason the graph and the audit log get: chosen labels, then the free text."""
    chosen = [REASONS[v] for v in labels if v in REASONS]
    details = details.strip()
    if chosen and details:
        return f"{', '.join(chosen)}: {details}"
    return details or ", ".join(chosen)


# --- lists: queue, pending, guidelines, App Home --------------------------------------------------

def queue_blocks(upcoming: list[Post], *, zone: str, limit_days: int | None = None) -> list[dict]:
    if not upcoming:
        return [section("Nothing is scheduled.")]

    def day(post: Post) -> str:
        return when.heading(post.run_at, zone, year=False) if post.run_at else "No time"

    blocks = []
    for heading, group in groupby(upcoming, key=day):
        lines = []
        for post in group:
            at = when.clock(post.run_at, zone) if post.run_at else "--:--"
            held = " ⏸ held" if post.status == Status.HELD else ""
            channel = f" → {escape(post.channel)}" if post.channel else ""
            first = clip_escaped((post.text.splitlines() or [""])[0], 80)
            lines.append(f"`{at}` #{post.id} {platforms.post_label(post)}{channel}{held} — {first}")
        blocks.append(section(f"*{heading}*\n" + "\n".join(lines)))
        if len(blocks) >= 20:
            break
    blocks.append(context(f"Times in {zone}."))
    return blocks


def held_note(pause: Pause) -> str:
    if not pause.held:
        return ""
    why = f": “{escape(pause.held_reason)}”" if pause.held_reason else ""
    return f"⏸ *Publishing is on hold* (by {who(pause.held_by)}{why}). `/plume resume` releases it."


def queue_message(queue: Queue, *, zone: str) -> dict:
    """`/plume queue`: upcoming posts by day in the reader's zone, what needs a human, and the pause."""
    blocks = [section("*Upcoming posts*")]
    if queue.pause.held:
        blocks.append(section(held_note(queue.pause)))
    blocks += queue_blocks(queue.upcoming, zone=zone)
    if queue.attention:
        listed = ", ".join(f"#{p.id} {platforms.post_label(p)} ({p.status})" for p in queue.attention[:10])
        blocks.append(section(f"⚠️ *Needs a human:* {listed} — see the message in each post's thread."))
    if queue.waiting:
        blocks.append(context(f"{queue.waiting} draft{'s' * (queue.waiting != 1)} awaiting approval — `/plume pending`."))
    count = len(queue.upcoming)
    return message(f"{count} upcoming post{'s' * (count != 1)}", blocks)


def pending_message(waiting: list[Post], *, zone: str, approver: bool, limit: int = 5) -> dict:
    if not waiting:
        return notice("Nothing awaits your decision. 🎉")
    head = ("*Awaiting your decision*" if approver else
            "*Drafts awaiting approval* — you can ask for changes or edit; an approver decides.")
    blocks = [section(f"{head} ({len(waiting)})")]
    for post in waiting[:limit]:
        blocks += card(post, zone=zone, compact=True)["blocks"]
        blocks.append({"type": "divider"})
    if len(waiting) > limit:
        blocks.append(context(f"…and {len(waiting) - limit} more in the App Home tab."))
    return message(f"{len(waiting)} draft(s) awaiting a decision", blocks)


def news_message(query: str, headlines: Headlines, *, zone: str) -> dict:
    """`/plume news [query]`: the newest items of the team's feeds, each with its age and link."""
    if not headlines.feeds:
        return notice("No news feeds are configured: set `PLUME_FEEDS` to your RSS or Atom feeds (comma-separated).")
    now = datetime.now(UTC)
    about = f" about “{escape(clip(query, 100))}”" if query else ""
    lines = []
    for item in headlines.items:
        at = sources.published({"published_at": item.published_at})
        age = f"{sources.age(now - at, day_only=False)}" if at else "undated"
        title = clip_escaped(item.title or item.link, 150)
        link = f"<{item.link}|{title}>" if SAFE_URL.match(item.link or "") else title
        lines.append(f"• {link} — {escape(clip(item.feed_title, 60))}, {age}")
    blocks = [section(f"*News{about}*\n" + ("\n".join(lines) if lines else "Nothing recent matches."))]
    if headlines.problems:
        blocks.append(context("⚠ " + escape(clip("; ".join(headlines.problems), 1500))))
    blocks.append(context("Start a brief from one: “react to today's news about … on LinkedIn”. Times are ages "
                          f"from now; {escape(zone)}."))
    return message(f"{len(headlines.items)} news item(s){about}", blocks)


def guidelines_message(query: str, found: list[Passage]) -> dict:
    if not query:
        return notice("Search the brand guidelines: `/plume guidelines emoji policy`.")
    if not found:
        return notice(f"No guideline passage matches “{escape(clip(query, 200))}”.")
    blocks = [section(f"*Guidelines for “{escape(clip(query, 200))}”*")]
    for passage in found:
        blocks.append(section(f"*{escape(passage.label)}*\n" + quote_chunks(clip(passage.text, 600))[0]))
    return message(f"{len(found)} guideline passage(s)", blocks)


def answer_message(text: str, sources: list[Passage]) -> dict:
    """An answer to a question, in the thread, with the passages it came from."""
    blocks = [section(chunk) for chunk in quote_chunks(clip(text, 6000))]
    if sources:
        blocks.append(context("📚 Sources: " + "; ".join(escape(p.label) for p in sources[:6])))
    return message(escape(clip(text, 300)), blocks)


def home_view(*, waiting: list[Post], upcoming: list[Post], zone: str, approver: bool,
              held_note: str = "", proposed: Sequence[Rule] = (), limit: int = 8,
              recent: Sequence[dict] = ()) -> dict:
    """`recent`: the “Last 7 days” report section (bot.slack.reports.home_blocks)."""
    blocks: list[dict] = [{"type": "header", "text": plain("Plume", 150)}]
    if held_note:
        blocks.append(section(held_note))
    head = "Awaiting your approval" if approver else "Awaiting approval"
    blocks.append(section(f"*{head}* ({len(waiting)})"))
    if not waiting:
        blocks.append(context("Nothing awaits a decision."))
    for post in waiting[:limit]:
        blocks += card(post, zone=zone, compact=True)["blocks"]
        blocks.append({"type": "divider"})
    if len(waiting) > limit:
        blocks.append(context(f"…and {len(waiting) - limit} more: `/plume pending` lists them."))
    if proposed:
        blocks.append(section(f"*Proposed brand rules* ({len(proposed)})"))
        for rule in proposed[:limit]:
            blocks += rule_blocks(rule)
        if len(proposed) > limit:
            blocks.append(context(f"…and {len(proposed) - limit} more: decide these first."))
    blocks.append({"type": "divider"})
    blocks.append(section("*Next 7 days*"))
    blocks += queue_blocks(upcoming, zone=zone)
    blocks += recent
    blocks.append(context("Start a brief by mentioning @Plume in a channel or writing to me here. `/plume help`."))
    if len(blocks) > VIEW_BLOCKS:
        blocks = blocks[: VIEW_BLOCKS - 1] + [context("…more than fits here.")]
    return {"type": "home", "blocks": blocks}


HELP = """*Plume* drafts brand-safe posts from a brief, cites the guidelines it used, and waits for a human.
• Mention @Plume with a brief in a channel (or DM me): _“Announce our Guji roast on LinkedIn and X in English and French, tomorrow 9am”_.
• Each draft arrives as a card: *Approve*, *Request changes*, *Edit* or *Reject*.
• Later messages in the thread are change requests for the drafts still awaiting a decision — or move posts with a time in words: _“move the LinkedIn one to next Tuesday 9am Paris”_, _“retry it tomorrow morning”_.
• If a post fails or may not have gone out, its thread says so with *Retry* or *It was posted* / *Post it again* (approvers).
• Brand rules Plume proposes (read in the guidelines, or learned from repeated edits) wait on approvers' App Home.
*Commands*
`/plume queue` — upcoming posts by day, in your time zone, and posts that need a human
`/plume pending` — drafts awaiting your decision
`/plume hold [reason]` · `/plume resume` — pause or resume all publishing (approvers)
`/plume cancel <id>` — cancel a post before it goes out
`/plume guidelines [query]` — search the brand guidelines
`/plume news [query]` — the newest items of the team's news feeds (`PLUME_FEEDS`), with their age
`/plume approvals` — who approves and how (`/plume approvals 2`, `/plume approvals own-brief forbid|allow`)
`/plume report [week|month|2026-11-01..2026-11-30] [network] [#channel] [csv]` — briefs, approvals, publishing, engagement and comments, with a chart"""
