"""The crisis brake in Slack over signed requests: an import proposes a hold to approvers with its evidence, one
button holds all publishing (approvers only, once), and the queue and the report show the hold and its reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot import cli
from bot.slack import blocks
from core import pause
from tests.bot.slack.conftest import running
from tests.insights.test_alerts import ANGRY, HAPPY, csv


def import_comments(settings, tmp_path, monkeypatch, rows) -> int:
    path = tmp_path / "comments.csv"
    path.write_bytes(csv(rows))
    for name, value in {"PLUME_HOME": str(settings.plume_home), "SLACK_BOT_TOKEN": settings.slack_bot_token
                        .get_secret_value(), "SLACK_API_URL": settings.slack_api_url,
                        "PLUME_APPROVERS": settings.plume_approvers, "PLUME_ALERT_WORDS": "recall"}.items():
        monkeypatch.setenv(name, value)
    return cli.main(["import-comments", str(path)])


def test_an_import_proposes_a_hold_and_one_approver_click_holds_everything(slack_settings, fake_slack, tmp_path,
                                                                           monkeypatch, capsys):
    settings = slack_settings(plume_approvers="UBOSS,S0APPROVERS")
    fake_slack.groups["S0APPROVERS"] = ["UMIA", "UBOSS"]
    with running(settings, fake_slack) as run:
        now = datetime.now(UTC) - timedelta(hours=1)
        rows = ([("linkedin", f"li-{i % 2}", ANGRY[i % 5] + " <!channel>", now) for i in range(8)]
                + [("x", "x-1", HAPPY[i % 3], now) for i in range(4)])
        assert import_comments(settings, tmp_path, monkeypatch, rows) == 0
        printed = capsys.readouterr().out
        assert "⚠ Negative comments spiked across all posts: 8 of 12" in printed and "Proposed: hold all" in printed
        proposals = [c for c in fake_slack.calls_to("chat.postMessage") if "🚨" in c["text"]]
        assert sorted(c["channel"] for c in proposals) == ["UBOSS", "UMIA"]  # each approver once, group members too
        shown = json.dumps(proposals[0]["blocks"], ensure_ascii=False)
        assert "8 of 12" in shown and "&lt;!channel&gt;" in shown and "<!channel>" not in shown
        [actions] = [b for b in proposals[0]["blocks"] if b["type"] == "actions"]
        [button] = actions["elements"]
        assert button["text"]["text"] == "Hold all publishing" and button["value"].isdigit()

        run.send.click(blocks.HOLD_ALL, button["value"], user="UANA", message_ts="1700000000.000009")
        run.idle()
        assert any("Ask an approver" in e["text"] for e in fake_slack.calls_to("chat.postEphemeral"))
        with run.plume.db.session() as session:
            assert not pause.state(session).held

        for _ in range(3):  # a double (triple) click acts once
            run.send.click(blocks.HOLD_ALL, button["value"], user="UBOSS", message_ts="1700000000.000009")
        run.idle()
        with run.plume.db.session() as session:
            state = pause.state(session)
        assert state.held and state.held_by == "UBOSS" and state.held_reason.startswith("Negative comments spiked")
        [done] = [u for u in fake_slack.calls_to("chat.update") if u["ts"] == "1700000000.000009"]
        assert "<@UBOSS> held all publishing" in done["text"]

        url = fake_slack.response_url("queue")
        run.send.command("queue", user="UMIA", response_url=url)
        run.send.command("report", user="UMIA", response_url=url)
        run.idle()
        queue, report = (json.dumps(r, ensure_ascii=False) for r in fake_slack.responses[-2:])
        for answer in (queue, report):
            assert "Publishing is on hold" in answer and "Negative comments spiked across all posts" in answer

        assert import_comments(settings, tmp_path, monkeypatch, rows[:3]) == 0  # same day: not proposed again
        assert len([c for c in fake_slack.calls_to("chat.postMessage") if "🚨" in c["text"]]) == 2


def test_alert_words_go_to_the_digest_channel_and_auto_hold_says_it_held(slack_settings, fake_slack, tmp_path,
                                                                         monkeypatch):
    settings = slack_settings(plume_digest_channel="#social", plume_auto_hold=True)
    monkeypatch.setenv("PLUME_AUTO_HOLD", "true")
    monkeypatch.setenv("PLUME_DIGEST_CHANNEL", "#social")
    with running(settings, fake_slack) as run:
        rows = [("x", "x-1", "Is there a RECALL on the Guji?", datetime.now(UTC))]
        assert import_comments(settings, tmp_path, monkeypatch, rows) == 0
        [proposal] = [c for c in fake_slack.calls_to("chat.postMessage") if "🚨" in c["text"]]
        assert proposal["channel"] == "#social" and "Comments mention “recall”" in proposal["text"]
        shown = json.dumps(proposal["blocks"], ensure_ascii=False)
        assert "held at once (PLUME_AUTO_HOLD)" in shown and "Hold all publishing" not in shown
        with run.plume.db.session() as session:
            assert pause.state(session).held
