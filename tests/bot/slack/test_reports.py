"""/plume report, the App Home's last 7 days, the weekly digest and sentiment flags, over real HTTP to a fake Slack.
Also the chart PNG and the terminal tables built from the same report."""

from __future__ import annotations

import io
import json
import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from rich.console import Console
from sqlalchemy import update

from app import assemble
from bot import charts
from bot.reports import render_terminal
from bot.slack import reports as slack_reports
from core import chat
from core.db import Database
from core.models import CronRunRow
from insights import comments, reports
from insights.sentiment import Scorer
from service.reports import Reports
from tests.bot.slack.conftest import running
from tests.conftest import wait_for
from tests.insights import history

PERIOD = "2026-11-27..2026-12-03"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def known_slack(slack_settings, fake_slack):
    """The app running over a database that already holds the known week."""
    settings = slack_settings(plume_timezone=history.ZONE)
    db = Database(settings.db_url).migrate()
    with pytest.MonkeyPatch.context() as patch:
        ids = history.build(db, patch)
    history.add_metrics(db, ids)
    history.add_comment_rows(db)
    db.dispose()
    with running(settings, fake_slack) as run:
        run.ids = ids
        yield run


def ask(run, text, user="UBOSS") -> dict:
    url = run.slack.response_url("report")
    answer = run.send.command(f"report {text}".strip(), user=user, response_url=url)
    assert answer.status == 200 and answer.seconds < 1
    run.idle()
    return run.slack.responses[-1]


def shown(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)


def known_report(db) -> reports.Report:
    with db.session() as session:
        return reports.build(session, reports.parse_period(PERIOD, zone=history.ZONE))


# --- the command ---------------------------------------------------------------------------------

def test_the_summary_answers_privately_and_the_chart_arrives_in_a_dm(known_slack):
    run = known_slack
    answer = ask(run, PERIOD)
    text = shown(answer)
    assert answer["response_type"] == "ephemeral"
    for expected in ("*Briefs received*\\n2", "*Approved after changes*\\n1", "*Brief → approval (median)*\\n3 h",
                     "1 published · 1 failed · 1 unknown · 1 held", "1. Off-brand tone (2)", "Wed 18:00 (9.1%, 2 posts)",
                     "<https://x.example/3|x three>", "2 in other languages not scored", "times in Europe/Paris"):
        assert expected in text, expected
    [done] = run.slack.wait_for("files.completeUploadExternal")
    [dm] = run.slack.calls_to("chat.postMessage")
    assert dm["channel"] == "UBOSS" and done["channel_id"] == "UBOSS" and done["thread_ts"]
    [upload] = json.loads(done["files"])
    assert run.slack.uploads[upload["id"]].startswith(PNG)
    started = [c.method for c in run.slack.calls if c.method.startswith("files.") or c.method == "upload"]
    assert started == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


def test_sharing_in_a_channel_with_csv_for_one_network(known_slack):
    run = known_slack
    answer = ask(run, f"csv x {PERIOD} #marketing")
    assert "Report posted in" in shown(answer)
    [post] = run.slack.calls_to("chat.postMessage")
    assert post["channel"] == "#marketing" and "Plume report · x" in shown(post["blocks"])
    assert "*Variants drafted*\\n2" in shown(post["blocks"])
    [done] = run.slack.calls_to("files.completeUploadExternal")
    files = json.loads(done["files"])
    assert len(files) == 2 and done["thread_ts"]
    data = run.slack.uploads[files[1]["id"]].decode()
    assert "pipeline,briefs received,2" in data and "period,network,x" in data


def test_a_channel_plume_cannot_post_in_gets_a_clear_answer(known_slack):
    run = known_slack
    run.slack.fail("chat.postMessage", "not_in_channel")
    assert "Invite @Plume there" in shown(ask(run, f"{PERIOD} <#C0SECRET|secret>"))
    assert run.slack.calls_to("files.getUploadURLExternal") == []


@pytest.mark.parametrize("words, says", [
    ("fortnight", "I don't understand “fortnight”"),
    ("week myspace", "I don't understand “myspace”"),
    ("2026-12-09..2026-12-01", "ends before it starts"),
])
def test_bad_input_gets_the_accepted_forms(plume_slack, words, says):
    text = shown(ask(plume_slack, words))
    assert says in text and ("`week`" in text or "earlier day first" in text)


def test_no_data_is_an_honest_nothing_yet_without_files(plume_slack):
    text = shown(ask(plume_slack, ""))
    assert "Nothing yet" in text and "Mention @Plume with a brief" in text
    assert plume_slack.slack.calls_to("files.getUploadURLExternal") == []


def test_an_upload_that_fails_still_leaves_the_summary(known_slack):
    run = known_slack
    run.slack.fail("files.completeUploadExternal", "missing_scope")
    assert "*Briefs received*\\n2" in shown(ask(run, PERIOD))
    run.slack.wait_for("files.completeUploadExternal")


# --- App Home, digest, flags --------------------------------------------------------------------------

def test_the_app_home_has_a_last_7_days_section(plume_slack):
    run = plume_slack
    run.send.event({"type": "app_home_opened", "user": "UMIA", "channel": "DHOME", "tab": "home"})
    run.idle()
    view = run.slack.wait_for("views.publish")[-1]["view"]
    assert "*Last 7 days*" in shown(view) and "Nothing yet" in shown(view)


def test_the_weekly_digest_posts_last_week_once(known_slack):
    run = known_slack
    plume = run.plume
    channel = slack_reports.post_digest(plume.db, run.app.api, "CDIGEST", history.ZONE, today=date(2026, 12, 4))
    assert channel == "CDIGEST"
    [post] = run.slack.calls_to("chat.postMessage")
    assert "Last week (27 Nov – 3 Dec 2026)" in shown(post) and "*Briefs received*\\n2" in shown(post)
    assert len(json.loads(run.slack.calls_to("files.completeUploadExternal")[0]["files"])) == 2
    assert slack_reports.post_digest(plume.db, run.app.api, "CDIGEST", history.ZONE, today=date(2026, 12, 4)) is None


def test_the_weekly_digest_is_posted_by_whichever_instance_leads_even_one_without_the_slack_app(
        slack_settings, fake_slack, caplog):
    caplog.set_level(logging.INFO, logger="publishing.scheduler")
    due = (datetime.now(ZoneInfo(history.ZONE)) - timedelta(hours=2)).replace(second=0, microsecond=0)
    settings = slack_settings(plume_timezone=history.ZONE, plume_digest_channel="CDIGEST",
                              plume_digest_day=due.strftime("%A"), plume_digest_time=due.strftime("%H:%M"))
    with assemble(settings, quiet=True) as plume:  # e.g. `plume shell`: no Slack app, no Bolt
        wait_for(lambda: "not again" in caplog.text, timeout=10, every=0.02)  # set up just now: nothing owed
        assert list(plume.scheduler.jobs()) == [slack_reports.DIGEST_JOB]
        wait_for(lambda: plume.scheduler.jobs()[slack_reports.DIGEST_JOB] == due + timedelta(days=7), timeout=10,
                 every=0.02)  # next week, same day and time
    assert fake_slack.calls_to("chat.postMessage") == []
    db = Database(settings.db_url)
    with db.session() as session:  # as if the last digest went out a week ago and no Plume ran two hours ago
        session.execute(update(CronRunRow).values(last_fire=due - timedelta(days=7)))
    db.dispose()

    with assemble(settings, quiet=True):
        [post] = fake_slack.wait_for("chat.postMessage")
        assert post["channel"] == "CDIGEST" and "Plume report" in shown(post) and "Last week" in shown(post)
    caplog.clear()
    with assemble(settings, quiet=True):  # the next leader in turn: it went out already
        wait_for(lambda: "not again" in caplog.text, timeout=10, every=0.02)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_negative_spike_is_flagged_in_the_posts_thread(known_slack):
    run = known_slack
    db = run.plume.db
    with db.session() as session:
        chat.save_conversation(session, thread_id="tA", team="T0001", channel="CMKT", thread_ts="1700000000.000100")
        session.execute(comments.CommentRow.__table__.delete())
        result = comments.import_csv(session, history.comments_csv().encode(), scorer=Scorer(), zone=history.ZONE,
                                     now=history.at(3, 12))
    assert slack_reports.flag_spikes(run.app.api, db, result.spikes) == 1
    [flag] = run.slack.calls_to("chat.postMessage")
    assert flag["channel"] == "CMKT" and flag["thread_ts"] == "1700000000.000100"
    assert f"post #{run.ids['li']}" in flag["text"] and "4 of 6" in flag["text"]


# --- the same report as a chart and in a terminal -------------------------------------------------------

def test_the_chart_is_a_png_of_sensible_size(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'p.db'}").migrate()
    with pytest.MonkeyPatch.context() as patch:
        ids = history.build(db, patch)
    plain = known_report(db)
    history.add_metrics(db, ids)
    full = known_report(db)
    db.dispose()
    for report, size in ((plain, (1000, 450)), (full, (1000, 850))):
        png = charts.render_png(report)
        assert png.startswith(PNG) and 20_000 < len(png) < 500_000
        assert Image.open(io.BytesIO(png)).size == size
    saved = charts.save_chart(full, tmp_path / "chart.png")
    assert saved.read_bytes().startswith(PNG)


def test_the_terminal_prints_the_same_numbers(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'p.db'}").migrate()
    with pytest.MonkeyPatch.context() as patch:
        ids = history.build(db, patch)
    history.add_metrics(db, ids)
    console = Console(file=io.StringIO(), width=100)
    render_terminal(known_report(db), console=console)
    empty = Console(file=io.StringIO(), width=100)
    render_terminal(reports.Report(period=reports.parse_period(PERIOD, zone=history.ZONE), network=None), console=empty)
    db.dispose()
    out = console.file.getvalue()
    assert "27 Nov – 3 Dec 2026" in out and "Europe/Paris" in out
    assert "briefs received" in out and "median brief to approval" in out and "3 h" in out
    assert "Wed 18:00" in out and "9.1% over 2 posts" in out
    assert "Nothing yet" in empty.file.getvalue()


def test_plume_report_in_a_terminal_saves_the_chart_and_csv(make_settings, tmp_path, capsys):
    from bot.reports import run
    from core.errors import ValidationFailed

    settings = make_settings(plume_timezone=history.ZONE)
    db = Database(settings.db_url).migrate()
    with pytest.MonkeyPatch.context() as patch:
        history.build(db, patch)
    asked = Reports(db=db, zone=history.ZONE)
    assert run(asked, [PERIOD, "csv", "linkedin"], chart=tmp_path / "c.png", csv=tmp_path / "r.csv") == 0
    assert (tmp_path / "c.png").read_bytes().startswith(PNG)
    assert "period,network,linkedin" in (tmp_path / "r.csv").read_text()
    assert "variants drafted" in capsys.readouterr().out
    with pytest.raises(ValidationFailed, match="drop the #channel"):
        run(asked, ["week", "#general"])
    db.dispose()


def test_the_summary_and_the_home_section_are_valid_block_kit(tmp_path):
    from bot.slack import blocks
    from tests.bot.slack.test_blocks import valid_message, valid_view

    db = Database(f"sqlite:///{tmp_path / 'p.db'}").migrate()
    with pytest.MonkeyPatch.context() as patch:
        ids = history.build(db, patch)
    history.add_metrics(db, ids)
    history.add_comment_rows(db)
    full = known_report(db)
    valid_message(slack_reports.summary(full))
    valid_message(slack_reports.summary(reports.Report(period=full.period, network="x")))
    valid_view(blocks.home_view(waiting=[], upcoming=[], zone=history.ZONE, approver=True,
                                recent=slack_reports.home_blocks(Reports(db=db, zone=history.ZONE), history.ZONE)))
    db.dispose()
