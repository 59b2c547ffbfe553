"""Mentions, DMs and replies in a brief's thread: a brief, a question, a change request or a new time."""

from __future__ import annotations

from agents.answer import is_question
from agents.runner import thread_id_for
from bot.slack import blocks, requests
from bot.slack.decisions import decide
from bot.slack.requests import MessageRequest, TimeChange, time_change
from core import platforms
from core.domain import Action, Post, Status
from core.errors import NotAuthorized, PlumeError, ValidationFailed
from core.when import moment
from service import Unreadable


def register(app, deps) -> None:
    @app.event("app_mention")
    def on_mention(body, event):
        request = requests.message(event, requests.team_of(body))
        if request:
            deps.submit(deps.fast, request.user, None, None, triage, deps, request, True, body.get("event_id"))

    @app.event("message")
    def on_message(body, event):
        request = requests.message(event, requests.team_of(body))
        if request and (request.direct or request.thread_ts):
            deps.submit(deps.fast, request.user, None, None, triage, deps, request, False, body.get("event_id"))


def triage(deps, req: MessageRequest, mentioned: bool, event_id: str | None) -> None:
    """Off the ack path: each message handled once (a redelivered event, or a mention that also arrives
    as a message event, is dropped), and only in conversations Plume is part of."""
    service = deps.service
    if event_id and not service.deliveries.claim(f"event:{event_id}"):
        return
    thread_id = thread_id_for(req.team, req.channel, req.root)
    if not (mentioned or req.direct) and service.threads.get(thread_id) is None:
        return  # a conversation among humans that Plume is not part of
    if service.deliveries.claim(f"message:{req.channel}:{req.ts}"):
        deps.submit(deps.slow, req.user, req.channel, req.root, handle, deps, req, thread_id)


def handle(deps, req: MessageRequest, thread_id: str) -> None:
    if is_question(req.text):  # “what's our emoji policy?”: an answer, not a brief or a change request
        reply = deps.service.briefs.ask(req.text)
        deps.api.post(req.channel, blocks.answer_message(reply.text, reply.sources), thread_ts=req.root)
        return
    deps.service.threads.save(thread_id=thread_id, team=req.team, channel=req.channel, thread_ts=req.root)
    if deps.service.briefs.started(thread_id):
        continue_thread(deps, req, thread_id)
    else:
        start_brief(deps, req, thread_id)


def start_brief(deps, req: MessageRequest, thread_id: str) -> None:
    progress = deps.threads.progress(thread_id=thread_id, channel=req.channel, thread_ts=req.root)
    try:
        outcome = deps.service.briefs.start(thread_id=thread_id, text=req.text, actor=req.user, channel=req.channel,
                                            on_event=progress.on_event)
    except ValidationFailed as exc:
        progress.fail(f"{exc} Mention me again with a brief.")
        return
    except PlumeError as exc:
        progress.fail(f"{exc} Your brief is saved; press Retry.", retry=thread_id)
        return
    deps.threads.sync_thread(thread_id)
    progress.finish(outcome)


def retry(deps, thread_id: str, user: str, channel: str | None, thread_ts: str | None) -> None:
    """The Retry button: carry the brief on from where it stopped (an error, or a decision's follow-up)."""
    conversation = deps.service.threads.get(thread_id)
    if conversation is None or not deps.service.briefs.started(thread_id):
        deps.threads.tell(user, channel, thread_ts, "There is nothing to retry here; mention me with a brief.")
        return
    progress = deps.threads.progress(thread_id=thread_id, channel=conversation.channel,
                                     thread_ts=conversation.thread_ts)
    try:
        outcome = deps.service.briefs.retry(thread_id, on_event=progress.on_event)
    except PlumeError as exc:
        progress.fail(f"{exc} Your brief is saved; press Retry.", retry=thread_id)
        return
    deps.threads.sync_thread(thread_id)
    progress.finish(outcome)


def continue_thread(deps, req: MessageRequest, thread_id: str) -> None:
    """Later messages in a brief's thread move or retry its posts (“move it to Tuesday 9am”), or are
    change requests for the drafts still awaiting a decision."""
    thread_posts = deps.service.posts.for_thread(thread_id)
    waiting = [p for p in thread_posts if p.status == Status.AWAITING_APPROVAL]
    say = lambda text: deps.api.post(req.channel, blocks.notice(text), thread_ts=req.root)  # noqa: E731
    if not thread_posts:
        say("I'm still working on this brief; the drafts will appear here.")
        return
    change = time_change(req.text)
    if change and change_time(deps, req, change, thread_posts):
        return
    if not waiting:
        say("Every draft in this thread has been decided. For a new brief, mention me in a new message.")
        return
    if not req.text:
        say("Tell me what should change, e.g. “shorter, and mention the Lyon shop”.")
        return
    say(f"✏️ Asking for changes on {len(waiting)} draft{'s' * (len(waiting) != 1)}: "
        f"“{blocks.clip_escaped(req.text, 300)}”")
    for post in waiting:
        decide(deps, action=Action.REQUEST_CHANGES, post_id=post.id, version=post.version, user=req.user,
               channel=req.channel, thread_ts=req.root, reason=req.text)


def change_time(deps, req: MessageRequest, change: TimeChange, thread_posts: list[Post]) -> bool:
    """Move or retry the thread's posts at a time in words; False when the message was not about time."""
    service, tell = deps.service, deps.threads.tell
    zone = deps.zone_of(req.user)
    if change.when:
        try:
            service.posts.when(change.when, zone=zone, network=thread_posts[0].network)
        except Unreadable as exc:
            if not change.insists:
                return False  # “post the price too” is about the text: a change request
            tell(req.user, req.channel, req.root, f"✗ {exc} Nothing was changed.")
            return True
        except PlumeError as exc:  # in the past, or publishing is on hold
            tell(req.user, req.channel, req.root, f"✗ {exc} Nothing was changed.")
            return True
    elif change.verb != "retry":
        return False
    live = (Status.FAILED, Status.HELD) if change.verb == "retry" else \
        (Status.SCHEDULED, Status.HELD, Status.FAILED, Status.AWAITING_APPROVAL)
    chosen = [p for p in thread_posts if p.status in live
              and (not change.post_ids or p.id in change.post_ids)
              and (not change.networks or p.network in change.networks)]
    if not chosen:
        what = "failed or held post" if change.verb == "retry" else "post that can still move"
        tell(req.user, req.channel, req.root, f"There is no {what} here"
             + (" on that network" if change.networks else "") + ". Nothing was changed.")
        return True
    lines, refused = [], []
    for post in chosen:
        try:
            if post.status == Status.AWAITING_APPROVAL:  # a draft: an edit of its proposed time, re-checked
                at = service.posts.when(change.when, zone=zone, network=post.network).at
                if decide(deps, action=Action.EDIT, post_id=post.id, version=post.version, user=req.user,
                          channel=req.channel, thread_ts=req.root, text=post.text, run_at=at.isoformat(),
                          reason=f"moved to {moment(at, zone)}"):
                    lines.append(f"🕘 Draft #{post.id} ({platforms.post_label(post)}) is now proposed for "
                                 f"*{moment(at, zone)}*; it still needs an approval.")
                continue
            if change.verb == "retry":
                moved = service.posts.retry(post_id=post.id, actor=req.user, when=change.when, zone=zone)
            else:
                moved = service.posts.reschedule(post_id=post.id, actor=req.user, when=change.when, zone=zone)
        except NotAuthorized as exc:  # told privately; the thread still hears what did change
            refused.append(f"🙅 Post #{post.id}: {exc} It was not changed.")
            continue
        except PlumeError as exc:
            lines.append(f"✗ Post #{post.id}: {blocks.escape(str(exc))}")
            continue
        did, to = ("put", "back on the schedule for") if change.verb == "retry" else ("moved", "to")
        lines.append(f"🕘 {blocks.who(req.user)} {did} post #{moved.id} ({platforms.post_label(moved)}) {to} "
                     f"*{moment(moved.run_at, zone)}*.")
        deps.threads.sync_post(moved.id)
    if lines:
        deps.api.post(req.channel, blocks.notice("\n".join(lines)), thread_ts=req.root)
    if refused:
        tell(req.user, req.channel, req.root, "\n".join(refused))
    return True
