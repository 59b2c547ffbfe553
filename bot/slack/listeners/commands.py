"""/plume: acked at once, answered privately through the response_url."""

from __future__ import annotations

from bot.slack import blocks, reports, requests
from bot.slack.requests import Command
from bot.slack.work import Busy
from core import approvals, platforms
from core.errors import PlumeError, ValidationFailed
from core.when import moment

APPROVALS_USAGE = "Use `/plume approvals N` (approvals needed per draft) or `/plume approvals own-brief forbid|allow`."


def register(app, deps) -> None:
    @app.command("/plume")
    def on_plume(ack, body):
        try:
            deps.fast.submit(answer, deps, requests.command(body))
        except Busy as exc:
            ack(str(exc))
            return
        ack()


def answer(deps, cmd: Command) -> None:
    handler = HANDLERS.get(cmd.verb)
    try:
        payload = handler(deps, cmd) if handler else blocks.notice(
            f"I don't know “{blocks.clip_escaped(cmd.verb, 40)}”.\n\n{blocks.HELP}")
    except PlumeError as exc:
        payload = blocks.notice(f"✗ {blocks.escape(str(exc))}")
    deps.api.respond(cmd.response_url, payload)


def help_(deps, cmd: Command) -> dict:
    return blocks.notice(blocks.HELP)


def report(deps, cmd: Command) -> dict:
    return reports.command(deps, cmd.rest, user=cmd.user)


def queue(deps, cmd: Command) -> dict:
    return blocks.queue_message(deps.service.posts.queue(), zone=deps.zone_of(cmd.user))


def pending(deps, cmd: Command) -> dict:
    waiting, approver = deps.service.people.awaiting(cmd.user)
    return blocks.pending_message(waiting, zone=deps.zone_of(cmd.user), approver=approver)


def hold(deps, cmd: Command) -> dict:
    stopped = deps.service.posts.hold(actor=cmd.user, reason=cmd.rest)
    why = f": “{blocks.escape(cmd.rest)}”" if cmd.rest else ""
    announce_hold(deps, stopped, user=cmd.user, reason=cmd.rest)
    return blocks.notice(f"⏸ Publishing is on hold{why}. {len(stopped)} scheduled post{'s' * (len(stopped) != 1)} "
                         "wait; posts approved meanwhile wait too. `/plume resume` releases them.")


def announce_hold(deps, stopped, *, user: str, reason: str) -> None:
    """Each post the hold stops hears it in its thread."""
    why = f": “{blocks.escape(blocks.clip(reason, 300))}”" if reason else ""
    for post in stopped:
        deps.threads.announce(post, f"⏸ Publishing is on hold (by {blocks.who(user)}{why}). Post #{post.id} "
                                    f"({platforms.post_label(post)}) will not go out until someone runs `/plume resume`.")


def resume(deps, cmd: Command) -> dict:
    resumed = deps.service.posts.resume(actor=cmd.user)
    for post in resumed:
        deps.threads.announce(post, f"▶️ Publishing resumed by {blocks.who(cmd.user)}: post #{post.id} "
                                    f"({platforms.post_label(post)}) is scheduled for "
                                    f"{moment(post.run_at, deps.zone, utc=False)}.")
    return blocks.notice(f"▶️ Publishing resumed; {len(resumed)} post{'s' * (len(resumed) != 1)} scheduled again.")


def cancel(deps, cmd: Command) -> dict:
    word = cmd.rest.split(" ", 1)[0].lstrip("#")
    if not word.isdigit():
        return blocks.notice("Say which post: `/plume cancel 12` (the number is on its card and in `/plume queue`).")
    post = deps.service.posts.cancel(post_id=int(word), actor=cmd.user, reason="cancelled in Slack")
    deps.threads.announce(post, f"🚫 Post #{post.id} ({platforms.post_label(post)}) was cancelled by "
                                f"{blocks.who(cmd.user)}.")
    return blocks.notice(f"🚫 Post #{post.id} is cancelled; it will not be published.")


def guidelines(deps, cmd: Command) -> dict:
    found = deps.service.briefs.guidelines(cmd.rest) if cmd.rest else []
    return blocks.guidelines_message(cmd.rest, found)


def news(deps, cmd: Command) -> dict:
    return blocks.news_message(cmd.rest, deps.service.news.recent(cmd.rest), zone=deps.zone_of(cmd.user))


def approval_rules(deps, cmd: Command) -> dict:
    """`/plume approvals [N | own-brief forbid|allow]`: show or change who approves and how."""
    words = cmd.rest.lower().split()
    rules = deps.service.rules
    if len(words) == 1 and words[0].isdigit():
        current = rules.set_approvals(actor=cmd.user, required=int(words[0]))
    elif words[:1] == ["own-brief"] and len(words) == 2 and words[1] in ("forbid", "allow"):
        current = rules.set_approvals(actor=cmd.user, forbid_self=words[1] == "forbid")
    elif words:
        raise ValidationFailed(APPROVALS_USAGE)
    else:
        current = rules.approvals()
    approvers = deps.service.people.approvers
    who_approves = ", ".join(f"user group {blocks.escape(a)}" if approvals.is_group(a) else blocks.who(a)
                             for a in approvers)
    return blocks.notice(
        f"*Approval rules*\n• Approvers: {who_approves or 'anyone (PLUME_APPROVERS is empty)'}\n"
        f"• Approvals needed per draft: {current.required_approvals}\n"
        f"• Approving your own brief: {'forbidden' if current.forbid_self_approval else 'allowed'}\n{APPROVALS_USAGE}")


def renamed_rules(deps, cmd: Command) -> dict:
    """`/plume rules` was the approval rules until this release: point to the new name."""
    return blocks.notice("`/plume rules` is now `/plume approvals` (brand rules Plume proposes are on your App Home, "
                         f"and in `plume rules` on the command line). {APPROVALS_USAGE}")


HANDLERS = {"help": help_, "queue": queue, "pending": pending, "hold": hold, "resume": resume, "cancel": cancel,
            "guidelines": guidelines, "news": news, "report": report, "approvals": approval_rules, "rules": renamed_rules}
