"""Logging set-up with a filter that keeps secrets out of every log line."""

from __future__ import annotations

import logging
import re

TOKEN_PATTERN = re.compile(r"\b(xox[abpers]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|sk-[A-Za-z0-9_-]{16,})")


class Redact(logging.Filter):
    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: list[str]) -> None:
        # Shorter values would redact ordinary words.
        self.secrets.extend(s for s in secrets if len(s) >= 6 and s not in self.secrets)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return TOKEN_PATTERN.sub("[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


def setup(level: str, secrets: list[str]) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Redact(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "apscheduler", "chromadb", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def protect(secrets: list[str]) -> None:
    """Keep secrets learned after set-up (channel tokens) out of the log lines too."""
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, Redact):
                found.add(secrets)
