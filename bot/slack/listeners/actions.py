"""Buttons: card decisions (Approve at once, the others open a form), brief Retry, proposed rules, and
a published post's Retry / “It was posted” / “Post it again”."""

from __future__ import annotations

import re

from bot.slack import blocks, reports, requests
from bot.slack.decisions import decide
from bot.slack.listeners.commands import announce_hold
from bot.slack.listeners.home import refresh_home
from bot.slack.listeners.messages import retry
from bot.slack.requests import CardClick, HoldClick, PostClick
from core import platforms
from core.domain import Action, Status
from core.errors import InvalidTransition, NotAuthorized, PlumeError
from core.when import moment


def _any_of(ids) -> re.Pattern:
    return re.compile("^(" + "|".join(re.escape(a) for a in ids) + ")$")


def register(app, deps) -> None:
    @app.action(_any_of(blocks.CARD_ACTIONS))
    def on_card_button(ack, body):
        ack()
        click = requests.click(body)
        if click.action is Action.APPROVE:
            deps.submit(deps.slow, click.user, click.channel, click.thread_ts, approve, deps, click)
        else:  # the form must open within 3 s of the click: the fast pool, before any model work
            deps.submit(deps.fast, click.user, click.channel, click.thread_ts, open_form, deps, click)

    @app.action(_any_of(blocks.RULE_ACTIONS))
    def on_rule_button(ack, body):
        ack()
        rule = requests.rule_click(body)
        deps.submit(deps.fast, rule["user"], rule["channel"], rule["thread_ts"], settle_rule, deps, rule)

    @app.action(_any_of(blocks.POST_ACTIONS))
    def on_post_button(ack, body):
        ack()
        click = requests.post_click(body)
        deps.submit(deps.fast, click.user, click.channel, click.thread_ts, post_action, deps, click)

    @app.action(blocks.HOLD_ALL)
    def on_hold_button(ack, body):
        ack()
        click = requests.hold_click(body)
        deps.submit(deps.fast, click.user, click.channel, None, hold_all, deps, click)

    @app.action(blocks.RETRY)
    def on_retry(ack, body):
        ack()
        user, channel = body["user"]["id"], body.get("channel", {}).get("id")
        thread_ts = (body.get("message") or {}).get("thread_ts")
        deps.submit(deps.slow, user, channel, thread_ts, retry, deps, body["actions"][0]["value"], user, channel,
                    thread_ts)


def approve(deps, click: CardClick) -> None:
    # A double click (or a redelivery) of the same approval by the same person runs once.
    decide(deps, action=click.action, post_id=click.post_id, version=click.version, user=click.user,
           channel=click.channel, thread_ts=click.thread_ts,
           claim=f"click:{click.post_id}:{click.version}:{click.action}:{click.user}")


def open_form(deps, click: CardClick) -> None:
    """Request changes, Edit and Reject open a form, if the draft can still be decided by this person."""
    tell = deps.threads.tell
    try:
        post = deps.service.decisions.form(post_id=click.post_id, version=click.version, action=click.action,
                                           actor=click.user)
    except InvalidTransition as exc:
        tell(click.user, click.channel, click.thread_ts,
             str(exc) if exc.current == Status.AWAITING_APPROVAL else blocks.already(exc.current, exc.decided_by))
        return
    except NotAuthorized as exc:
        tell(click.user, click.channel, click.thread_ts, f"🙅 {exc} Nothing was changed.")
        return
    except PlumeError as exc:
        tell(click.user, click.channel, click.thread_ts, f"✗ {exc}")
        return
    if click.action is Action.EDIT:  # its time field reads words in the editor's own zone
        view = blocks.edit_modal(post, channel=click.channel, thread_ts=click.thread_ts, zone=deps.zone_of(click.user))
    else:
        build = {Action.REQUEST_CHANGES: blocks.changes_modal, Action.REJECT: blocks.reject_modal}[click.action]
        view = build(post, channel=click.channel, thread_ts=click.thread_ts)
    if not deps.api.open_view(click.trigger_id, view):
        tell(click.user, click.channel, click.thread_ts, "Slack did not open the form; please click again.")


def settle_rule(deps, rule: dict) -> None:
    """Accept or dismiss a proposed brand rule; the proposal message (or the App Home) then says who did."""
    user, channel = rule["user"], rule["channel"]
    try:
        settled = deps.service.rules.settle(rule_id=rule["rule_id"], actor=user, accept=rule["accept"])
    except PlumeError as exc:
        deps.threads.tell(user, channel, rule["thread_ts"], f"✗ {exc} Nothing was changed.")
        return
    if channel and rule["message_ts"]:
        deps.api.update(channel, rule["message_ts"], blocks.rule_proposal(settled))
    elif channel is None:
        refresh_home(deps, user)


def post_action(deps, click: PostClick) -> None:
    """Retry, “It was posted” or “Post it again”: approvers only; the message then says who did what."""
    service, tell = deps.service, deps.threads.tell
    zone = deps.zone_of(click.user)
    try:
        with service.deliveries.once(f"post-action:{click.action}:{click.post_id}:{click.user}:{click.message_ts}") \
                as first:
            if not first:
                return  # a double click
            if click.action == blocks.RETRY_POST:
                post = service.posts.retry(post_id=click.post_id, actor=click.user)
                done = f"🔁 {blocks.who(click.user)} sent it again: it goes out at {moment(post.run_at, zone)}."
            else:
                post = service.posts.settle(post_id=click.post_id, actor=click.user, posted=click.action == blocks.POSTED)
                done = (f"✅ {blocks.who(click.user)} confirmed it is on {platforms.label(post.network)}."
                        if post.status == Status.PUBLISHED else
                        f"🔁 {blocks.who(click.user)} asked to post it again: it goes out at "
                        f"{moment(post.run_at, zone)}, with the same idempotency key.")
    except NotAuthorized as exc:  # an approver's click on the same message still counts
        tell(click.user, click.channel, click.thread_ts, f"🙅 {exc} Ask an approver to press it. Nothing was changed.")
        return
    except InvalidTransition as exc:
        tell(click.user, click.channel, click.thread_ts, already_settled(deps, click.post_id, exc))
        return
    except PlumeError as exc:
        tell(click.user, click.channel, click.thread_ts, f"✗ {exc} Nothing was changed.")
        return
    if click.channel and click.message_ts:
        deps.api.update(click.channel, click.message_ts, blocks.post_news(post, zone=deps.zone, done=done))
    deps.threads.sync_post(post.id)


def hold_all(deps, click: HoldClick) -> None:
    """*Hold all publishing* on a crisis alert: approvers only, once however often it is pressed."""
    tell = deps.threads.tell
    try:
        with deps.service.deliveries.once(f"hold-proposal:{click.proposal}") as first:
            if not first:
                return  # a double click, or another approver already pressed it
            stopped, reason = deps.service.posts.hold_proposed(proposal_id=click.proposal, actor=click.user)
    except NotAuthorized as exc:
        tell(click.user, click.channel, None, f"🙅 {exc} Ask an approver to press it. Nothing was changed.")
        return
    except PlumeError as exc:
        tell(click.user, click.channel, None, f"✗ {exc} Nothing was changed.")
        return
    announce_hold(deps, stopped, user=click.user, reason=reason)
    if click.channel and click.message_ts:
        deps.api.update(click.channel, click.message_ts, reports.hold_proposal_done(
            reason, user=click.user, held=len(stopped)))


def already_settled(deps, post_id: int, exc: InvalidTransition) -> str:
    post = deps.service.posts.get(post_id)
    status = post.status.replace("_", " ")
    return f"Post #{post_id} is already {status} (by {blocks.who(post.last_actor)}). Nothing was changed." \
        if post.last_actor else f"{exc} Nothing was changed."
