"""Reports in Slack: `/plume report`, the App Home's last 7 days, the weekly digest and comment-sentiment flags."""

from __future__ import annotations

import logging
import re
from functools import partial

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack import blocks
from bot.slack.api import SlackAPI
from core import approvals, chat, platforms, posts
from core.errors import ValidationFailed
from insights import reports
from insights.reports import Negative, Report

log = logging.getLogger(__name__)
DIGEST_JOB = "plume-weekly-digest"


# --- Block Kit ------------------------------------------------------------------------------------

def _link(url: str | None, label: str) -> str:
    label = blocks.clip_escaped(" ".join(label.split()) or "(no text)", 80)
    if url and re.match(r"^https?://[^\s<>|]+$", url):
        return f"<{url}|{label}>"
    return label


def _fields(report: Report) -> list[dict]:
    pairs = [("Briefs received", report.briefs), ("Variants drafted", report.drafted),
             ("Approved as drafted", report.approved_as_drafted),
             ("Approved after changes", report.approved_after_changes),
             ("Rejected", report.rejected), ("Changes requested", report.changes_requested),
             ("Brief → approval (median)", reports.duration(report.brief_to_approval)),
             ("Approval → published (median)", reports.duration(report.approval_to_publication))]
    return [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in pairs]


def _publishing(report: Report) -> str:
    o = report.outcomes
    parts = [f"{o.get(s, 0)} {s}" for s in ("published", "failed", "unknown", "held")]
    if o.get("scheduled"):
        parts.append(f"{o['scheduled']} still scheduled")
    return "*Publishing* (approved posts due in the period): " + " · ".join(parts)


def summary_blocks(report: Report, *, compact: bool = False) -> list[dict]:
    """The report as blocks; `compact` is the App Home's short form (counts, no rankings)."""
    where = f" · {report.network}" if report.network else ""
    out = [blocks.context(f"{blocks.escape(report.period.label)}{where} · times in {report.period.zone}")]
    if report.pause and report.pause.held:
        out.append(blocks.section(blocks.held_note(report.pause)))
    if report.empty:
        return out + [blocks.section(blocks.escape(reports.next_steps(report)))]
    out.append({"type": "section", "fields": _fields(report)})
    out.append(blocks.section(_publishing(report)))
    if report.reasons and not compact:
        ranked = "\n".join(f"{i}. {blocks.clip_escaped(reason, 120)} ({n})" for i, (reason, n) in
                           enumerate(report.reasons, 1))
        out.append(blocks.section(f"*Why drafts were sent back*\n{ranked}"))
    e = report.engagement
    if e:
        line = (f"*Engagement*: {e.posts} posts with metrics · {e.impressions:,} impressions · "
                f"{reports.percent(e.rate)} engagement rate")
        if e.best:
            line += "\n*Best times*: " + ", ".join(f"{c.label} ({reports.percent(c.rate)}, {c.posts} posts)"
                                                   for c in e.best)
        if e.top and not compact:
            line += "\n*Top posts by engagement rate*\n" + "\n".join(
                f"{i}. {_link(p.url, p.text)} — {p.network}, {p.when(report.period.zone, day='%a %d %b')}, "
                f"{reports.percent(p.rate)} of {p.impressions:,}" for i, p in enumerate(e.top, 1))
        out.append(blocks.section(line))
    s = report.sentiment
    if s:
        line = f"*Comments*: {s.comments} · {reports.percent(s.share)} negative of {s.scored} scored"
        if s.not_scored:
            line += f" · {s.not_scored} in other languages not scored (set PLUME_MODEL to score them)"
        if s.unusual and not compact:
            line += "\n*Unusually negative*\n" + "\n".join(
                f"• {_link(n.url, n.text or n.external_post_id)} ({n.network}"
                f"{f', post #{n.post_id}' if n.post_id else ''}): {n.negative} of {n.scored} negative"
                for n in s.unusual)
        out.append(blocks.section(line))
    return out


def summary(report: Report) -> dict:
    title = "📊 Plume report" + (f" · {report.network}" if report.network else "")
    fallback = f"{title}: {report.period.label}"
    if not report.empty:
        fallback += (f" — {report.briefs} briefs, {report.drafted} drafts, {report.approved} approved, "
                     f"{report.outcomes.get('published', 0)} published")
    return blocks.message(fallback, [{"type": "header", "text": blocks.plain(title, 150)}, *summary_blocks(report)])


def home_blocks(service_reports, zone: str) -> list[dict]:
    """The App Home's “Last 7 days” section, from the same report."""
    report = service_reports.last_days(7, zone=zone, name="Last 7 days")
    return [{"type": "divider"}, blocks.section("*Last 7 days*"), *summary_blocks(report, compact=True)]


# --- Slack calls ------------------------------------------------------------------------------------

def _post(api: SlackAPI, channel: str, payload: dict, *, thread_ts: str | None = None) -> tuple[str, str] | None:
    """Post and return (channel id, ts): uploads need the id even when given a #name or a user."""
    extra = {"thread_ts": thread_ts} if thread_ts else {}
    try:
        data = api.client.chat_postMessage(channel=channel, text=payload["text"], blocks=payload.get("blocks"),
                                           unfurl_links=False, unfurl_media=False, **extra)
    except SlackApiError as exc:
        log.warning("Slack chat.postMessage to %s failed: %s", channel, exc.response.get("error"))
        return None
    except (SlackClientError, OSError) as exc:
        log.warning("Slack chat.postMessage could not be reached: %s", exc)
        return None
    return data["channel"], data["ts"]


def upload(api: SlackAPI, *, channel: str, thread_ts: str | None, files: list[tuple[str, bytes | str, str]],
           comment: str | None = None) -> bool:
    """Upload (filename, content, title) files with files.getUploadURLExternal + files.completeUploadExternal."""
    try:
        api.client.files_upload_v2(file_uploads=[{"filename": name, "content": content, "title": title}
                                                 for name, content, title in files],
                                   channel=channel, thread_ts=thread_ts, initial_comment=comment)
    except SlackApiError as exc:
        error = exc.response.get("error")
        log.warning("Slack file upload failed: %s%s", error,
                    " — add the files:write scope (slack/manifest.yml) and reinstall" if error == "missing_scope" else "")
        return False
    except (SlackClientError, OSError) as exc:
        log.warning("Slack file upload could not be completed: %s", exc)
        return False
    return True


def attachments(report: Report, *, with_csv: bool) -> list[tuple[str, bytes | str, str]]:
    from bot.charts import render_png

    stem = f"plume-report-{report.period.first}-{report.period.last}" + (f"-{report.network}" if report.network else "")
    files = [(f"{stem}.png", render_png(report), f"Plume report chart, {report.period.label}")]
    if with_csv:
        files.append((f"{stem}.csv", reports.to_csv(report), f"Plume report data, {report.period.label}"))
    return files


def share(api: SlackAPI, report: Report, *, channel: str, with_csv: bool, submit=None) -> str | None:
    """Post the report in a channel with its chart (and CSV) in the thread; the channel id, or None.

    With `submit` (a worker pool's), the chart is drawn and uploaded there, after the summary is posted."""
    posted = _post(api, channel, summary(report))
    if posted is None:
        return None
    if not report.empty:
        send = (submit or (lambda job, *args, **kwargs: job(*args, **kwargs)))
        send(_upload_attachments, api, report, channel=posted[0], thread_ts=posted[1], with_csv=with_csv)
    return posted[0]


def _upload_attachments(api: SlackAPI, report: Report, *, channel: str, thread_ts: str, with_csv: bool) -> None:
    upload(api, channel=channel, thread_ts=thread_ts, files=attachments(report, with_csv=with_csv))


def send_files_privately(api: SlackAPI, report: Report, *, user: str, with_csv: bool) -> None:
    """Files cannot be ephemeral: the asker gets them in their DM with Plume."""
    note = blocks.notice(f"📎 Chart{' and CSV' if with_csv else ''} for your report, "
                         f"{blocks.escape(report.period.label)}{f' · {report.network}' if report.network else ''}.")
    posted = _post(api, user, note)
    if posted:
        _upload_attachments(api, report, channel=posted[0], thread_ts=posted[1], with_csv=with_csv)


def command(deps, text: str, *, user: str) -> dict:
    """`/plume report …`: the summary to answer with; the files follow in the background."""
    request, report = deps.service.reports.asked(text)
    if request.channel:
        # The summary is posted from here; drawing and uploading the chart take a slow worker.
        posted = share(deps.api, report, channel=request.channel, with_csv=request.csv, submit=deps.slow.submit)
        if posted is None:
            raise ValidationFailed(f"I couldn't post in {request.channel}. Invite @Plume there (/invite @Plume) "
                                   "and try again.")
        return blocks.notice(f"📊 Report posted in <#{posted}>" + (" with its chart." if not report.empty else "."))
    payload = summary(report)
    if not report.empty:
        deps.slow.submit(send_files_privately, deps.api, report, user=user, with_csv=request.csv)
        payload["blocks"].append(blocks.context(f"The chart{' and the CSV' if request.csv else ''} arrive in your "
                                                "DM with Plume. Share the report with `/plume report … #channel`."))
    return payload


# --- the weekly digest -------------------------------------------------------------------------------

def start_digest(scheduler, *, settings, db) -> bool:
    """Register the weekly digest with the scheduler when PLUME_DIGEST_CHANNEL is set (the composition root
    calls this in every process): the leader posts it, through a Web API client made from the settings."""
    channel = settings.plume_digest_channel
    if not channel:
        return False
    if not settings.slack_bot_token:
        log.warning("PLUME_DIGEST_CHANNEL is set but SLACK_BOT_TOKEN is not: the weekly digest cannot be posted")
        return False
    scheduler.every_week(DIGEST_JOB, partial(post_digest, db, SlackAPI.from_settings(settings), channel,
                                             settings.plume_timezone),
                         day=settings.plume_digest_day, at=settings.plume_digest_time,
                         timezone=settings.plume_timezone)
    return True


def post_digest(db, api: SlackAPI, channel: str, zone: str, today=None) -> str | None:
    period = reports.last_days(7, zone=zone, today=today, include_today=False, name="Last week")
    with db.session() as session:
        if not chat.claim(session, key=f"digest:{channel}:{period.first}"):
            return None  # already posted (another instance, or a run repeated after a restart)
        report = reports.build(session, period)
    posted = share(api, report, channel=channel, with_csv=True)
    if posted is None:  # not posted: a run started by hand may try again
        with db.session() as session:
            chat.release(session, key=f"digest:{channel}:{period.first}")
    return posted


# --- comment sentiment flags -----------------------------------------------------------------------

def flag_spikes(api: SlackAPI, db, spikes: list[Negative]) -> int:
    """Tell each post's thread that its comments turned unusually negative; how many threads were told."""
    told = 0
    for spike in spikes:
        with db.session() as session:
            post = posts.get(session, spike.post_id)
            conversation = chat.conversation(session, post.thread_id)
        if conversation is None:
            continue  # a brief from the terminal: no thread to tell
        text = (f"⚠️ Comments on post #{post.id} ({platforms.post_label(post)}) turned unusually negative: "
                f"{spike.negative} of {spike.scored} scored comments ({reports.percent(spike.share)}). "
                "Someone may want to look and reply.")
        told += api.post(conversation.channel, blocks.notice(text), thread_ts=conversation.thread_ts) is not None
    return told


# --- the crisis brake ----------------------------------------------------------------------------------

def hold_proposal(alert) -> dict:
    """A crisis alert (insights.alerts.Alert) for approvers: what happened, the evidence, one button."""
    lines = [f"🚨 *{blocks.escape(alert.reason)}*"]
    for post in alert.posts[:5]:
        label = f"post #{post.post_id}" if post.post_id else blocks.escape(post.external_post_id)
        lines.append(f"• {_link(post.url, post.text or post.external_post_id)} ({post.network}, {label}): "
                     f"{post.negative} of {post.scored} scored comments negative")
    lines += [f">{blocks.clip_escaped(' '.join(example.split()), 280)}" for example in alert.examples[:3]]
    out = [blocks.section("\n".join(lines))]
    if alert.held:
        out.append(blocks.context("⏸ Publishing was held at once (PLUME_AUTO_HOLD). `/plume resume` releases it."))
    else:
        out.append(blocks.context("Nothing is held unless an approver presses the button. Scheduled posts keep "
                                  "their place; `/plume resume` releases them."))
        out.append({"type": "actions", "block_id": f"hold:{alert.proposal}", "elements": [
            blocks.button("Hold all publishing", blocks.HOLD_ALL, str(alert.proposal), "danger")]})
    return blocks.message(f"🚨 {alert.reason}", out)


def hold_proposal_done(reason: str, *, user: str, held: int) -> dict:
    text = (f"⏸ {blocks.who(user)} held all publishing: “{blocks.escape(blocks.clip(reason, 500))}”. "
            f"{held} scheduled post{'s' * (held != 1)} wait. `/plume resume` releases them.")
    return blocks.notice(text)


def propose_holds(api: SlackAPI, settings, alerts) -> int:
    """Tell approvers: in the digest channel if there is one, else each approver (user groups' members) by DM."""
    if not alerts:
        return 0
    targets = [settings.plume_digest_channel] if settings.plume_digest_channel else []
    if not targets:
        for approver in settings.approvers:
            targets += ([approver] if not approvals.is_group(approver) else api.group_members(approver) or [])
    if not targets:
        log.warning("a crisis alert has no one to tell in Slack: set PLUME_DIGEST_CHANNEL or PLUME_APPROVERS")
    told = 0
    for alert in alerts:
        for target in dict.fromkeys(targets):
            told += api.post(target, hold_proposal(alert)) is not None
    return told


def notify_spikes(settings, db, spikes: list[Negative]) -> int:
    """For `plume import-comments`: tell the threads through the Web API when Slack is configured."""
    if not spikes or not settings.slack_bot_token:
        return 0
    return flag_spikes(SlackAPI.from_settings(settings), db, spikes)
