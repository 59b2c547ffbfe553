"""`plume channels`, `plume import-metrics` and the exports, as a user runs them."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

import app
from core import logs
from core.db import Database
from core.models import MetricRow

FIXTURES = Path(__file__).parent / "fixtures" / "metrics"
EXAMPLE = Path(__file__).parents[1] / "channels.example.yaml"
EXAMPLE_SECRETS = {"MASTODON_TOKEN": "mastodon-secret-1", "BLUESKY_APP_PASSWORD": "bluesky-secret-2",
                   "LINKEDIN_TOKEN": "linkedin-secret-3", "X_USER_TOKEN": "x-secret-4",
                   "PLUME_WEBHOOK_SECRET": "webhook-secret-5"}


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PLUME_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_without_a_channels_file_every_post_goes_to_the_outbox(home, capsys):
    assert app.main(["channels"]) == 0
    out = capsys.readouterr().out
    assert "no channels file: every post goes to the outbox" in out and "outbox" in out

    assert app.main(["channels", "test", "outbox"]) == 0
    assert "is ready" in capsys.readouterr().out


def test_channels_are_listed_from_the_documented_file_without_their_secrets(home, monkeypatch, capsys):
    monkeypatch.setenv("PLUME_CHANNELS", str(EXAMPLE))
    for name, value in EXAMPLE_SECRETS.items():
        monkeypatch.setenv(name, value)

    assert app.main(["channels", "--json"]) == 0
    out = capsys.readouterr().out
    rows = {row["name"]: row for row in json.loads(out)}
    assert {"brand-mastodon", "brand-bluesky", "brand-linkedin", "brand-x", "outbox"} <= set(rows)
    assert rows["brand-mastodon"]["timezone"] == "Europe/Paris"
    assert not any(secret in out for secret in EXAMPLE_SECRETS.values())


def test_a_missing_secret_or_an_unknown_channel_is_a_friendly_error(home, monkeypatch, capsys):
    assert app.main(["channels", "test", "brand-x"]) == 1
    assert "No channel named 'brand-x'; known channels: outbox" in capsys.readouterr().err
    assert app.main(["channels", "test"]) == 2

    monkeypatch.setenv("PLUME_CHANNELS", str(EXAMPLE))
    assert app.main(["channels"]) == 1
    err = capsys.readouterr().err
    assert "needs the environment variable" in err and "which is not set" in err


def test_channel_secrets_learned_after_start_up_are_redacted_from_logs(caplog):
    logs.setup("INFO", [])
    logs.protect(["linkedin-secret-3"])
    handler = logging.getLogger().handlers[0]
    record = logging.LogRecord("plume", logging.INFO, __file__, 1, "token %s refused", ("linkedin-secret-3",), None)
    handler.filter(record)
    assert record.getMessage() == "token [redacted] refused"


def test_import_metrics_reads_each_native_export_and_reports_bad_rows_without_losing_good_ones(
        home, tmp_path, capsys):
    files = sorted(str(f) for f in FIXTURES.glob("*.csv"))
    assert app.main(["import-metrics", *files]) == 0
    out = capsys.readouterr().out
    assert "X (Twitter) analytics tweet activity export" in out and "LinkedIn Page content export" in out

    broken = tmp_path / "broken.csv"
    shutil.copy(FIXTURES / "plume_metrics.csv", broken)
    with broken.open("a", encoding="utf-8") as handle:
        handle.write("x,999,not a date,10,1,,,,,https://x.com/i/web/status/999,hello,\n")
    assert app.main(["import-metrics", str(broken), str(tmp_path / "missing.csv")]) == 1
    captured = capsys.readouterr()
    assert "row 4:" in captured.out and "missing.csv" in captured.err

    db = Database(f"sqlite:///{home / 'plume.db'}")
    try:
        with db.session() as session:
            assert session.query(MetricRow).count() == 10  # the fixtures' rows, once each; the bad row skipped
    finally:
        db.dispose()
