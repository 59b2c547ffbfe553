"""What the Slack front end does for each request, after the ack: one call into the runner or core, then render."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from agents.answer import is_question
from agents.runner import Event, Outcome, Runner, thread_id_for
from bot.operations import Operations, Unreadable, describe
from bot.slack import blocks, reports
from bot.slack.api import SlackAPI
from bot.slack.requests import (
    CardClick,
    Command,
    MessageRequest,
    PostClick,
    Submission,
    TimeChange,
    time_change,
)
from bot.slack.work import Busy, WorkPool
from core import approvals, audit, chat, decisions, pause, platforms, posts, rules
from core.domain import Action, AuditEvent, Decision, Post, Status
from core.errors import InvalidTransition, NotAuthorized, PlumeError, ValidationFailed

log = logging.getLogger(__name__)
DELIVERY_MEMORY = timedelta(days=3)


class Progress:
    """The one message in the thread that follows the graph as it moves."""

    def __init__(self, flows: Flows, conversation: chat.Conversation):
        self.flows, self.conversation = flows, conversation
        self.steps: list[str] = []
        self.ts = flows.api.post(conversation.channel, blocks.progress([]), thread_ts=conversation.thread_ts)
        if self.ts:
            with flows.db.session() as session:
                chat.set_progress(session, thread_id=conversation.thread_id, ts=self.ts)

    def show(self, payload: dict) -> None:
        if self.ts:
            self.flows.api.update(self.conversation.channel, self.ts, payload)
        else:  # the first post failed (logged): try once more to say something
            self.ts = self.flows.api.post(self.conversation.channel, payload, thread_ts=self.conversation.thread_ts)

    def on_event(self, event: Event) -> None:
        if event.kind == "progress" and event.message not in self.steps:
            self.steps.append(event.message)
            self.show(blocks.progress(self.steps))

    def finish(self, outcome: Outcome) -> None:
        notes = [*outcome.brief.get("warnings", []), *outcome.notes]
        self.show(blocks.progress(self.steps, done=True, notes=notes, count=len(outcome.waiting)))

    def fail(self, error: str, *, retry: str | None = None) -> None:
        self.show(blocks.progress(self.steps, error=error, retry_value=retry))


class Flows:
    def __init__(self, plume, api: SlackAPI, *, slow: WorkPool, fast: WorkPool):
        self.plume = plume
        self.api = api
        self.slow, self.fast = slow, fast
        self.db = plume.db
        self.runner = plume.runner
        self.settings = plume.settings
        self.zone = plume.settings.plume_timezone
        self.ops = Operations.of(plume)
        self._card_locks: dict[int, threading.Lock] = defaultdict(threading.Lock)

    # --- deliveries (run in the ack path: one small write each) ---------------------------------

    def claim(self, key: str) -> bool:
        with self.db.session() as session:
            return chat.claim(session, key=key)

    def forget_old_deliveries(self) -> None:
        with self.db.session() as session:
            chat.forget_deliveries(session, before=datetime.now(UTC) - DELIVERY_MEMORY)

    def _submit(self, pool: WorkPool, user: str, channel: str | None, thread_ts: str | None, fn, *args) -> None:
        try:
            pool.submit(fn, *args)
        except Busy as exc:
            log.warning("work queue %s is full", pool.name)
            with contextlib.suppress(Busy):
                self.fast.submit(self.tell, user, channel, thread_ts, str(exc))

    # The accept_* methods run in the ack path: they only queue work. Dedupe claims are database
    # writes, so they happen in the worker (still atomic: the first claim wins, across instances).

    def accept_message(self, req: MessageRequest, *, mentioned: bool, event_id: str | None = None) -> None:
        """A mention, a DM, or a reply in a thread: triaged off the ack path, handled once per message."""
        self._submit(self.fast, req.user, None, None, self.triage_message, req, mentioned, event_id)

    def triage_message(self, req: MessageRequest, mentioned: bool, event_id: str | None) -> None:
        if event_id and not self.claim(f"event:{event_id}"):
            return  # Slack redelivered an event we already have
        thread_id = thread_id_for(req.team, req.channel, req.root)
        if not (mentioned or req.direct):
            with self.db.session() as session:
                if chat.conversation(session, thread_id) is None:
                    return  # a conversation among humans that Plume is not part of
        # A mention arrives twice (app_mention and message events, each with its own event id).
        if self.claim(f"message:{req.channel}:{req.ts}"):
            self._submit(self.slow, req.user, req.channel, req.root, self.on_message, req, thread_id)

    def accept_click(self, click: CardClick) -> None:
        if click.action is Action.APPROVE:
            self._submit(self.slow, click.user, click.channel, click.thread_ts, self.decide_click, click)
        else:
            self._submit(self.fast, click.user, click.channel, click.thread_ts, self.open_form, click)

    def accept_post_click(self, click: PostClick) -> None:
        self._submit(self.fast, click.user, click.channel, click.thread_ts, self.post_action, click)

    def accept_submission(self, sub: Submission, view_key: str) -> None:
        self._submit(self.slow, sub.user, sub.channel, sub.thread_ts, self.decide_submission, sub, view_key)

    @staticmethod
    def _click_key(click: CardClick) -> str:
        return f"click:{click.post_id}:{click.version}:{click.action}:{click.user}"

    def _release(self, key: str | None) -> None:
        if key:
            with self.db.session() as session:
                chat.release(session, key=key)

    # --- briefs --------------------------------------------------------------------------------

    def on_message(self, req: MessageRequest, thread_id: str) -> None:
        if is_question(req.text):  # “what's our emoji policy?”: an answer, not a brief or a change request
            reply = self.runner.ask(req.text)
            self.api.post(req.channel, blocks.answer_message(reply.text, reply.sources), thread_ts=req.root)
            return
        with self.db.session() as session:
            conversation = chat.save_conversation(session, thread_id=thread_id, team=req.team, channel=req.channel,
                                                  thread_ts=req.root)
            started = posts.brief_author(session, thread_id) is not None
        if started:
            self.continue_thread(req, conversation)
        else:
            self.start_brief(req, conversation)

    def start_brief(self, req: MessageRequest, conversation: chat.Conversation) -> None:
        progress = Progress(self, conversation)
        try:
            outcome = self.runner.start(thread_id=conversation.thread_id, text=req.text, actor=req.user,
                                        channel=req.channel, on_event=progress.on_event)
        except ValidationFailed as exc:
            progress.fail(f"{exc} Mention me again with a brief.")
            return
        except PlumeError as exc:
            progress.fail(f"{exc} Your brief is saved; press Retry.", retry=conversation.thread_id)
            return
        self.sync_thread(conversation.thread_id)
        progress.finish(outcome)

    def continue_thread(self, req: MessageRequest, conversation: chat.Conversation) -> None:
        """Later messages in a brief's thread move or retry its posts (“move it to Tuesday 9am”), or are
        change requests for the drafts still awaiting a decision."""
        with self.db.session() as session:
            thread_posts = posts.for_thread(session, conversation.thread_id)
        waiting = [p for p in thread_posts if p.status == Status.AWAITING_APPROVAL]
        say = lambda text: self.api.post(req.channel, blocks.notice(text), thread_ts=req.root)  # noqa: E731
        if not thread_posts:
            say("I'm still working on this brief; the drafts will appear here.")
            return
        change = time_change(req.text)
        if change and self.change_time(req, change, thread_posts):
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
            self.decide(action=Action.REQUEST_CHANGES, post_id=post.id, version=post.version, user=req.user,
                        channel=req.channel, thread_ts=req.root, reason=req.text)

    def change_time(self, req: MessageRequest, change: TimeChange, thread_posts: list[Post]) -> bool:
        """Move or retry the thread's posts at a time in words; False when the message was not about time."""
        zone = self.api.user_zone(req.user) or self.zone
        if change.when:
            try:
                self.ops.when(change.when, zone=zone, network=thread_posts[0].network)
            except Unreadable as exc:
                if not change.insists:
                    return False  # “post the price too” is about the text: a change request
                self.tell(req.user, req.channel, req.root, f"✗ {exc} Nothing was changed.")
                return True
            except PlumeError as exc:  # in the past, or publishing is on hold
                self.tell(req.user, req.channel, req.root, f"✗ {exc} Nothing was changed.")
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
            self.tell(req.user, req.channel, req.root, f"There is no {what} here"
                      + (" on that network" if change.networks else "") + ". Nothing was changed.")
            return True
        self.refresh_groups()
        lines, refused = [], []
        for post in chosen:
            try:
                if post.status == Status.AWAITING_APPROVAL:  # a draft: an edit of its proposed time, re-checked
                    at = self.ops.when(change.when, zone=zone, network=post.network).at
                    if self.decide(action=Action.EDIT, post_id=post.id, version=post.version, user=req.user,
                                   channel=req.channel, thread_ts=req.root, text=post.text, run_at=at.isoformat(),
                                   reason=f"moved to {describe(at, zone)}"):
                        lines.append(f"🕘 Draft #{post.id} ({blocks.network_label(post)}) is now proposed for "
                                     f"*{describe(at, zone)}*; it still needs an approval.")
                    continue
                if change.verb == "retry":
                    moved = self.ops.retry(post_id=post.id, actor=req.user, when=change.when, zone=zone)
                else:
                    moved = self.ops.reschedule(post_id=post.id, actor=req.user, when=change.when, zone=zone)
            except NotAuthorized as exc:  # told privately; the thread still hears what did change
                refused.append(f"🙅 Post #{post.id}: {exc} It was not changed.")
                continue
            except PlumeError as exc:
                lines.append(f"✗ Post #{post.id}: {blocks.escape(str(exc))}")
                continue
            did, to = ("put", "back on the schedule for") if change.verb == "retry" else ("moved", "to")
            lines.append(f"🕘 {blocks.who(req.user)} {did} post #{moved.id} ({blocks.network_label(moved)}) {to} "
                         f"*{describe(moved.run_at, zone)}*.")
            self.sync_post(moved)
        if lines:
            self.api.post(req.channel, blocks.notice("\n".join(lines)), thread_ts=req.root)
        if refused:
            self.tell(req.user, req.channel, req.root, "\n".join(refused))
        return True

    def retry(self, thread_id: str, user: str, channel: str | None, thread_ts: str | None) -> None:
        with self.db.session() as session:
            conversation = chat.conversation(session, thread_id)
            started = posts.brief_author(session, thread_id) is not None
        if conversation is None or not started:
            self.tell(user, channel, thread_ts, "There is nothing to retry here; mention me with a brief.")
            return
        progress = Progress(self, conversation)
        try:
            outcome = self.runner.resume(thread_id, on_event=progress.on_event)
        except PlumeError as exc:
            progress.fail(f"{exc} Your brief is saved; press Retry.", retry=thread_id)
            return
        self.sync_thread(thread_id)
        progress.finish(outcome)

    # --- decisions -----------------------------------------------------------------------------

    def decide_click(self, click: CardClick) -> None:
        # A double click (or a redelivery) of the same approval by the same person runs once.
        if not self.claim(self._click_key(click)):
            return
        self.decide(action=click.action, post_id=click.post_id, version=click.version, user=click.user,
                    channel=click.channel, thread_ts=click.thread_ts, click_key=self._click_key(click))

    def decide_submission(self, sub: Submission, view_key: str | None = None) -> None:
        if view_key and not self.claim(view_key):
            return
        zone = sub.zone or self.zone
        run_at = None
        if sub.when:
            try:
                with self.db.session() as session:
                    network = posts.get(session, sub.post_id).network
                run_at = self.ops.when(sub.when, zone=zone, network=network).at
            except PlumeError as exc:  # checked in the ack too; time passes, and a hold may have started
                self._release(view_key)
                self.tell(sub.user, sub.channel, sub.thread_ts, f"✗ {exc} Nothing was changed.")
                return
        decided = self.decide(action=sub.action, post_id=sub.post_id, version=sub.version, user=sub.user,
                              channel=sub.channel, thread_ts=sub.thread_ts, reason=sub.reason, text=sub.text,
                              run_at=run_at.isoformat() if run_at else None)
        if decided and run_at:
            self.tell(sub.user, sub.channel, sub.thread_ts,
                      f"🕘 Post #{sub.post_id} is now proposed for *{describe(run_at, zone)}*.")

    def decide(self, *, action: Action, post_id: int, version: int, user: str, channel: str | None,
               thread_ts: str | None, reason: str = "", text: str | None = None, run_at: str | None = None,
               click_key: str | None = None) -> bool:
        """Apply one decision and show it; False when it was refused (the person was told why)."""
        self.refresh_groups()
        shown = threading.Event()

        def on_event(event: Event) -> None:
            if not shown.is_set():  # the decision is stored: show it on the card before any slow model work
                shown.set()
                self.sync_post_id(post_id)

        decision = Decision(post_id=post_id, action=str(action), actor=user, version=version, reason=reason,
                            text=text, run_at=run_at)
        try:
            recorded = decisions.record(self.db, decision, approvers=self.settings.approvers,
                                        profile=self.runner.context.profile)
            post = recorded.post
            self.runner.resume(post.thread_id, on_event, responses=[Runner.response_for(decision)],
                               actor=decision.actor)
        except InvalidTransition as exc:
            awaiting = exc.current in (None, Status.AWAITING_APPROVAL)
            self.tell(user, channel, thread_ts, str(exc) if awaiting else blocks.already(exc.current, exc.decided_by))
            self.sync_post_id(post_id)
            return False
        except PlumeError as exc:  # NotAuthorized, ValidationFailed, NotFound, a model failure…
            self._release(click_key)
            prefix = "🙅 " if isinstance(exc, NotAuthorized) else "✗ "
            self.tell(user, channel, thread_ts, f"{prefix}{exc} Nothing was changed.")
            self.sync_post_id(post_id)
            return False
        self.sync_thread(post.thread_id)
        for rule in recorded.proposals:  # a repeated edit or request: an approver may make it a rule
            if channel:
                self.api.post(channel, blocks.rule_proposal(rule), thread_ts=thread_ts)
            else:
                self.api.post(user, blocks.rule_proposal(rule))
        if action is Action.APPROVE and post.status == Status.AWAITING_APPROVAL:
            with self.db.session() as session:
                got = approvals.votes(session, post_id=post.id, version=post.version)
                needed = approvals.rules(session).required_approvals
            self.tell(user, channel, thread_ts, f"👍 Your approval is recorded ({len(got)} of {needed}).")
        if channel is None:
            self.refresh_home(user)
        return True

    def settle_rule(self, *, rule_id: int, accept: bool, user: str, channel: str | None, message_ts: str | None,
                    thread_ts: str | None) -> None:
        """Accept or dismiss a proposed brand rule; the proposal message (or the App Home) then says who did."""
        self.refresh_groups()
        try:
            with self.db.session() as session:
                rule = rules.settle(session, rule_id=rule_id, actor=user, accept=accept, approvers=self.settings.approvers,
                                    check=self.plume.runner.context.check_rule)
        except PlumeError as exc:
            self.tell(user, channel, thread_ts, f"✗ {exc} Nothing was changed.")
            return
        if channel and message_ts:
            self.api.update(channel, message_ts, blocks.rule_proposal(rule))
        elif channel is None:
            self.refresh_home(user)

    def open_form(self, click: CardClick) -> None:
        """Request changes, Edit and Reject open a modal (before any slow work: the trigger lasts 3 s)."""
        with self.db.session() as session:
            try:
                post = posts.get(session, click.post_id)
            except PlumeError as exc:
                self.tell(click.user, click.channel, click.thread_ts, f"✗ {exc}")
                return
            refusal = None
            if click.action is Action.REJECT:
                try:
                    approvals.authorize(session, post_id=post.id, actor=click.user, action=Action.REJECT,
                                    approvers=self.settings.approvers)
                except NotAuthorized as exc:
                    refusal = f"🙅 {exc} Nothing was changed."
        if post.status != Status.AWAITING_APPROVAL or post.version != click.version:
            decided_by = post.approved_by or post.last_actor
            self.tell(click.user, click.channel, click.thread_ts,
                      blocks.already(post.status, decided_by) if post.status != Status.AWAITING_APPROVAL else
                      f"Post #{post.id} changed since you saw it (now version {post.version}); look at the new card.")
            return
        if refusal:
            self.tell(click.user, click.channel, click.thread_ts, refusal)
            return
        if click.action is Action.EDIT:  # its time field reads words in the editor's own zone
            view = blocks.edit_modal(post, channel=click.channel, thread_ts=click.thread_ts,
                                     zone=self.api.user_zone(click.user) or self.zone)
        else:
            build = {Action.REQUEST_CHANGES: blocks.changes_modal, Action.REJECT: blocks.reject_modal}[click.action]
            view = build(post, channel=click.channel, thread_ts=click.thread_ts)
        if not self.api.open_view(click.trigger_id, view):
            self.tell(click.user, click.channel, click.thread_ts, "Slack did not open the form; please click again.")

    def post_action(self, click: PostClick) -> None:
        """Retry, “It was posted” or “Post it again”: approvers only; the message then says who did what."""
        key = f"post-action:{click.action}:{click.post_id}:{click.user}:{click.message_ts}"
        if not self.claim(key):
            return  # a double click
        self.refresh_groups()
        zone = self.api.user_zone(click.user) or self.zone
        try:
            if click.action == blocks.RETRY_POST:
                post = self.ops.retry(post_id=click.post_id, actor=click.user)
                done = f"🔁 {blocks.who(click.user)} sent it again: it goes out at {describe(post.run_at, zone)}."
            else:
                post = self.ops.settle(post_id=click.post_id, actor=click.user, posted=click.action == blocks.POSTED)
                done = (f"✅ {blocks.who(click.user)} confirmed it is on {platforms.get(post.network).label}."
                        if post.status == Status.PUBLISHED else
                        f"🔁 {blocks.who(click.user)} asked to post it again: it goes out at "
                        f"{describe(post.run_at, zone)}, with the same idempotency key.")
        except NotAuthorized as exc:
            self._release(key)  # an approver's click on the same message still counts
            self.tell(click.user, click.channel, click.thread_ts,
                      f"🙅 {exc} Ask an approver to press it. Nothing was changed.")
            return
        except InvalidTransition as exc:
            self.tell(click.user, click.channel, click.thread_ts, self._already_settled(click.post_id, exc))
            return
        except PlumeError as exc:
            self._release(key)
            self.tell(click.user, click.channel, click.thread_ts, f"✗ {exc} Nothing was changed.")
            return
        if click.channel and click.message_ts:
            self.api.update(click.channel, click.message_ts, blocks.post_news(post, zone=self.zone, done=done))
        self.sync_post(post)

    def _already_settled(self, post_id: int, exc: InvalidTransition) -> str:
        with self.db.session() as session:
            post = posts.get(session, post_id)
        status = post.status.replace("_", " ")
        return f"Post #{post_id} is already {status} (by {blocks.who(post.last_actor)}). Nothing was changed." \
            if post.last_actor else f"{exc} Nothing was changed."

    def tell(self, user: str, channel: str | None, thread_ts: str | None, text: str) -> None:
        """Only the clicking person sees it: ephemeral in the channel, else a DM (clicks in the App Home)."""
        if channel:
            self.api.ephemeral(channel, user, text, thread_ts=thread_ts)
        else:
            self.api.post(user, blocks.notice(text))

    # --- cards -----------------------------------------------------------------------------------

    def sync_thread(self, thread_id: str) -> None:
        with self.db.session() as session:
            thread_posts = posts.for_thread(session, thread_id)
        for post in thread_posts:
            self.sync_post(post)

    def sync_post_id(self, post_id: int) -> None:
        try:
            with self.db.session() as session:
                post = posts.get(session, post_id)
        except PlumeError:
            return
        self.sync_post(post)

    def sync_post(self, post: Post) -> None:
        """Make Slack show what the database says: post the card of a new version, update stale ones."""
        with self._card_locks[post.id]:
            with self.db.session() as session:
                conversation = chat.conversation(session, post.thread_id)
                if conversation is None:
                    return  # a brief from the shell or the demo
                post = posts.get(session, post.id)
                cards = chat.cards(session, post.id)
                votes = approvals.votes(session, post_id=post.id, version=post.version)
                needed = approvals.rules(session).required_approvals
                trail = audit.trail(session, post.id) if any(c.version != post.version for c in cards) else []
            current = f"{post.status}:{len(votes)}"
            if (post.status == Status.AWAITING_APPROVAL
                    and not any(c.version == post.version and c.channel == conversation.channel for c in cards)
                    and self.claim(f"card:{post.id}:{post.version}:{conversation.channel}")):
                payload = blocks.card(post, zone=self.zone, votes=votes, needed=needed)
                ts = self.api.post(conversation.channel, payload, thread_ts=conversation.thread_ts)
                if ts:
                    with self.db.session() as session:
                        chat.save_card(session, post_id=post.id, version=post.version, channel=conversation.channel,
                                       ts=ts, text=post.text, shown=current)
                else:
                    log.warning("card for post %s v%s could not be posted; it stays in /plume pending and App Home",
                                post.id, post.version)
            for card in cards:
                if card.version == post.version:
                    if card.shown == current:
                        continue
                    payload, shown = blocks.card(post, zone=self.zone, votes=votes, needed=needed), current
                else:
                    if card.shown == "superseded":
                        continue
                    payload = blocks.card(post, zone=self.zone, text=card.text,
                                          superseded=superseded(trail, card.version, post.version))
                    shown = "superseded"
                if self.api.update(card.channel, card.ts, payload):
                    with self.db.session() as session:
                        chat.mark_shown(session, post_id=post.id, version=card.version, channel=card.channel,
                                        shown=shown)

    def on_post_update(self, post: Post) -> None:
        """Scheduler news (published, failed, unknown): update the card and tell the thread."""
        try:
            self.slow.submit(self.announce, post)
        except Busy:
            log.warning("could not queue the announcement for post %s", post.id)

    def announce(self, post: Post, text: str | None = None) -> None:
        """Tell the post's thread: `text`, or the post's publishing news with the buttons it needs."""
        self.sync_post(post)
        with self.db.session() as session:
            conversation = chat.conversation(session, post.thread_id)
        if conversation is None:
            return
        payload = blocks.notice(text) if text is not None else blocks.post_news(post, zone=self.zone)
        self.api.post(conversation.channel, payload, thread_ts=conversation.thread_ts)

    # --- approvers -------------------------------------------------------------------------------

    def refresh_groups(self) -> None:
        """Approver user groups, resolved through usergroups.users.list and cached in the database."""
        approvers = self.settings.approvers
        with self.db.session() as session:
            stale = approvals.stale_groups(session, approvers)
        for group_id in stale:
            members = self.api.group_members(group_id)
            if members is not None:
                with self.db.session() as session:
                    approvals.store_group(session, group_id=group_id, members=members)

    def _awaiting_for(self, user: str) -> tuple[list[Post], bool]:
        """Drafts this person could decide now (approvers), or all drafts awaiting approval (others)."""
        approvers = self.settings.approvers
        with self.db.session() as session:
            waiting = posts.with_status(session, [Status.AWAITING_APPROVAL])
            approver = approvals.is_approver(session, actor=user, approvers=approvers)
            if not approver:
                return sorted(waiting, key=lambda p: p.id), False
            mine = []
            for post in waiting:
                try:
                    approvals.authorize(session, post_id=post.id, actor=user, action=Action.APPROVE, approvers=approvers)
                except NotAuthorized:
                    continue
                if user not in approvals.votes(session, post_id=post.id, version=post.version):
                    mine.append(post)
        return sorted(mine, key=lambda p: p.id), True

    def _held_note(self) -> str:
        with self.db.session() as session:
            return blocks.held_note(pause.state(session))

    # --- App Home --------------------------------------------------------------------------------

    def refresh_home(self, user: str, event_id: str | None = None) -> None:
        if event_id and not self.claim(f"event:{event_id}"):
            return
        self.refresh_groups()
        zone = self.api.user_zone(user) or self.zone
        waiting, approver = self._awaiting_for(user)
        horizon = datetime.now(UTC) + timedelta(days=7)
        brand = self.plume.runner.context.brand() if approver else None
        with self.db.session() as session:
            upcoming = [p for p in posts.with_status(session, [Status.SCHEDULED, Status.HELD])
                        if p.run_at and datetime.fromisoformat(p.run_at) <= horizon]
            proposed = rules.pending(session, brand) if brand else []
        self.api.publish_home(user, blocks.home_view(waiting=waiting, upcoming=upcoming, zone=zone,
                                                     approver=approver, held_note=self._held_note(),
                                                     proposed=proposed, recent=reports.home_blocks(self.db, zone)))

    # --- /plume ----------------------------------------------------------------------------------

    def command(self, cmd: Command) -> None:
        handlers = {"help": self.cmd_help, "queue": self.cmd_queue, "pending": self.cmd_pending,
                    "hold": self.cmd_hold, "resume": self.cmd_resume, "cancel": self.cmd_cancel,
                    "guidelines": self.cmd_guidelines, "report": self.cmd_report, "rules": self.cmd_rules}
        handler = handlers.get(cmd.verb)
        try:
            payload = handler(cmd) if handler else blocks.notice(
                f"I don't know “{blocks.clip_escaped(cmd.verb, 40)}”.\n\n{blocks.HELP}")
        except PlumeError as exc:
            payload = blocks.notice(f"✗ {blocks.escape(str(exc))}")
        self.api.respond(cmd.response_url, payload)

    def cmd_help(self, cmd: Command) -> dict:
        return blocks.notice(blocks.HELP)

    def cmd_report(self, cmd: Command) -> dict:
        return reports.command(self, cmd.rest, user=cmd.user)

    def cmd_queue(self, cmd: Command) -> dict:
        zone = self.api.user_zone(cmd.user) or self.zone
        return blocks.queue_message(self.ops.queue(), zone=zone)

    def cmd_pending(self, cmd: Command) -> dict:
        self.refresh_groups()
        zone = self.api.user_zone(cmd.user) or self.zone
        waiting, approver = self._awaiting_for(cmd.user)
        return blocks.pending_message(waiting, zone=zone, approver=approver)

    def cmd_hold(self, cmd: Command) -> dict:
        self.refresh_groups()
        stopped = self.ops.hold(actor=cmd.user, reason=cmd.rest)
        why = f": “{blocks.escape(cmd.rest)}”" if cmd.rest else ""
        for post in stopped:
            self.announce(post, f"⏸ Publishing is on hold (by {blocks.who(cmd.user)}{why}). Post #{post.id} "
                                f"({blocks.network_label(post)}) will not go out until someone runs `/plume resume`.")
        return blocks.notice(f"⏸ Publishing is on hold{why}. {len(stopped)} scheduled post{'s' * (len(stopped) != 1)} "
                             "wait; posts approved meanwhile wait too. `/plume resume` releases them.")

    def cmd_resume(self, cmd: Command) -> dict:
        self.refresh_groups()
        resumed = self.ops.resume(actor=cmd.user)
        for post in resumed:
            self.announce(post, f"▶️ Publishing resumed by {blocks.who(cmd.user)}: post #{post.id} "
                                f"({blocks.network_label(post)}) is scheduled for {blocks.when(post.run_at, self.zone)}.")
        return blocks.notice(f"▶️ Publishing resumed; {len(resumed)} post{'s' * (len(resumed) != 1)} scheduled again.")

    def cmd_cancel(self, cmd: Command) -> dict:
        word = cmd.rest.split(" ", 1)[0].lstrip("#")
        if not word.isdigit():
            return blocks.notice("Say which post: `/plume cancel 12` (the number is on its card and in `/plume queue`).")
        self.refresh_groups()
        post = self.ops.cancel(post_id=int(word), actor=cmd.user, reason="cancelled in Slack")
        self.announce(post, f"🚫 Post #{post.id} ({blocks.network_label(post)}) was cancelled by {blocks.who(cmd.user)}.")
        return blocks.notice(f"🚫 Post #{post.id} is cancelled; it will not be published.")

    def cmd_guidelines(self, cmd: Command) -> dict:
        found = self.plume.knowledge.search(cmd.rest, k=4) if cmd.rest else []
        return blocks.guidelines_message(cmd.rest, found)

    def cmd_rules(self, cmd: Command) -> dict:
        words = cmd.rest.lower().split()
        self.refresh_groups()
        approvers = self.settings.approvers
        with self.db.session() as session:
            if words[:1] == ["approvals"] and len(words) == 2 and words[1].isdigit():
                current = approvals.set_rules(session, actor=cmd.user, approvers=approvers, required_approvals=int(words[1]))
            elif words[:1] == ["own-brief"] and len(words) == 2 and words[1] in ("forbid", "allow"):
                current = approvals.set_rules(session, actor=cmd.user, approvers=approvers,
                                          forbid_self_approval=words[1] == "forbid")
            elif words:
                raise ValidationFailed("Use `/plume rules approvals N` or `/plume rules own-brief forbid|allow`.")
            else:
                current = approvals.rules(session)
        who_approves = ", ".join(blocks.who(a) if not approvals.is_group(a) else f"user group {blocks.escape(a)}" for a in approvers)
        return blocks.notice(
            f"*Approval rules*\n• Approvers: {who_approves or 'anyone (PLUME_APPROVERS is empty)'}\n"
            f"• Approvals needed per draft: {current.required_approvals}\n"
            f"• Approving your own brief: {'forbidden' if current.forbid_self_approval else 'allowed'}")


def superseded(trail: list[AuditEvent], version: int, latest: int) -> blocks.Superseded:
    """Who took `version` out of review, and how (edited, or changes requested), from the audit trail."""
    for event in trail:
        if event.from_status != Status.AWAITING_APPROVAL or event.to_status != Status.CHANGES_REQUESTED:
            continue
        edited = event.action == "post.edited"
        seen = event.detail.get("version", 0) - (1 if edited else 0)
        if seen == version:
            return blocks.Superseded(actor=event.actor, reason=event.detail.get("reason", ""), edited=edited,
                                     next_version=version + 1)
    return blocks.Superseded(actor=None, reason="", edited=False, next_version=latest)
