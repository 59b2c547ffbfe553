"""Settings: names, defaults, parsing and friendly errors."""

import logging

import pytest

from core import logs
from core.errors import ConfigError
from core.settings import Settings, load


def test_defaults_run_offline_on_sqlite_under_plume_home(tmp_path):
    settings = Settings(_env_file=None, plume_home=tmp_path)
    assert settings.db_url == f"sqlite:///{(tmp_path / 'plume.db').resolve()}"
    assert not settings.model_configured and not settings.slack_configured
    assert settings.default_networks == ["linkedin", "x"] and settings.default_locales == ["en"]
    assert settings.plume_publish_grace >= 3600  # never APScheduler's 1 s default


def test_environment_names_are_the_documented_ones(monkeypatch):
    monkeypatch.setenv("PLUME_MODEL", "llama3.1")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("PLUME_APPROVERS", "U1, U2;S3")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/test")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    settings = load()
    assert settings.model_configured and settings.openai_base_url.endswith("/v1")
    assert settings.approvers == ["U1", "U2", "S3"]
    assert settings.is_postgres and settings.slack_configured


def test_blank_values_mean_unset(monkeypatch):
    monkeypatch.setenv("PLUME_MODEL", "  ")
    assert not load().model_configured


def test_bad_values_give_one_friendly_error(monkeypatch):
    monkeypatch.setenv("PLUME_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("PLUME_LLM_RETRIES", "many")
    with pytest.raises(ConfigError) as error:
        load()
    assert "PLUME_TIMEZONE" in str(error.value) and "PLUME_LLM_RETRIES" in str(error.value)


def test_secrets_never_reach_the_logs(monkeypatch, caplog):
    settings = Settings(_env_file=None, slack_bot_token="xoxb-canary-123456", openai_api_key="sk-canary-abcdef")
    assert "canary" not in repr(settings)
    redact = logs.Redact(settings.secrets())
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "token %s key %s app xapp-1-A-999",
                               ("xoxb-canary-123456", "sk-canary-abcdef"), None)
    redact.filter(record)
    assert "canary" not in record.getMessage() and "xapp-1" not in record.getMessage()
