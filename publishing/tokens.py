"""Channel tokens kept in the database, encrypted with PLUME_SECRET_KEY, and refreshed exactly once.

A refresh happens under a lock on the token's row (SELECT … FOR UPDATE on PostgreSQL; on SQLite
every write transaction is serialized by BEGIN IMMEDIATE). After taking the lock the row is read
again: if another process refreshed meanwhile (its generation moved on), its token is used and
our refresh token, which the network has already rotated away, is never sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import or_, select

from core.db import Database
from core.errors import ConfigError
from core.models import TokenRow
from publishing.publishers.base import NotSent

EARLY = timedelta(minutes=5)  # refresh a little before the network would refuse the token
KEY_HELP = ("generate one with `python -c \"from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())\"` and keep it with your other secrets")


@dataclass(frozen=True)
class Token:
    channel: str
    network: str
    access: str = field(repr=False)
    refresh: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    generation: int = 1
    extra: dict = field(default_factory=dict)

    def expiring(self, *, within: timedelta = EARLY, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        return self.expires_at is not None and self.expires_at - within <= now


@dataclass(frozen=True)
class Expiry:
    """A token that needs a human before it stops working (no refresh can renew it)."""

    channel: str
    network: str
    expires_at: datetime


class Cipher:
    def __init__(self, key: str | None):
        if not key:
            raise ConfigError(f"Channel tokens are stored in the database but PLUME_SECRET_KEY is not set; {KEY_HELP}")
        try:
            self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError):
            raise ConfigError(f"PLUME_SECRET_KEY is not a valid key (32 url-safe base64 bytes); {KEY_HELP}") from None

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def open(self, value: str) -> str:
        try:
            return self._fernet.decrypt(value.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise ConfigError("PLUME_SECRET_KEY is not the key the channel tokens were stored with; set the "
                              "key used then, or connect the channels again (`plume channels connect NAME`)") from None


class Tokens:
    """Stored tokens of every channel; the secret key is only needed once a token is read or written."""

    def __init__(self, *, db: Database, secret_key: str | None):
        self.db, self._key = db, secret_key
        self._local = threading.Lock()  # one refresh at a time in this process; the row lock covers the others

    @property
    def cipher(self) -> Cipher:
        return Cipher(self._key)

    def get(self, channel: str) -> Token | None:
        with self.db.session() as session:
            row = session.get(TokenRow, channel)
            return self._token(row) if row is not None else None

    def has(self, channel: str) -> bool:
        with self.db.session() as session:
            return session.get(TokenRow, channel) is not None

    def save(self, *, channel: str, network: str, access: str, refresh: str | None = None,
             expires_in: float | None = None, refresh_expires_in: float | None = None,
             extra: dict | None = None) -> Token:
        cipher, now = self.cipher, datetime.now(UTC)
        with self.db.session() as session:
            row = session.get(TokenRow, channel, with_for_update=True, populate_existing=True)
            if row is None:
                row = TokenRow(channel=channel, network=network, generation=0)
                session.add(row)
            row.network, row.access = network, cipher.seal(access)
            row.refresh = cipher.seal(refresh) if refresh else None
            row.expires_at = now + timedelta(seconds=expires_in) if expires_in else None
            row.refresh_expires_at = now + timedelta(seconds=refresh_expires_in) if refresh_expires_in else None
            row.extra, row.generation, row.updated_at = dict(extra or {}), (row.generation or 0) + 1, now
            session.flush()
            return self._token(row)

    def fresh(self, channel: str, refresher: Callable[[Token], dict] | None) -> Token:
        """The channel's token, refreshed first when it is about to expire."""
        token = self.get(channel)
        if token is None:
            raise NotSent(f"channel {channel} has no token yet; run `plume channels connect {channel}`",
                          retryable=False)
        if token.expiring() and token.refresh and refresher is not None:
            return self.refresh(channel, refresher, seen=token.generation)
        return token

    def refresh(self, channel: str, refresher: Callable[[Token], dict], *, seen: int) -> Token:
        """Refresh once across processes: `seen` is the generation the caller found stale."""
        with self._local, self.db.session() as session:
            row = session.get(TokenRow, channel, with_for_update=True, populate_existing=True)
            if row is None:
                raise NotSent(f"channel {channel} has no token yet; run `plume channels connect {channel}`",
                              retryable=False)
            current = self._token(row)
            if row.generation != seen:  # another process refreshed while we waited for the lock
                return current
            if not current.refresh:
                raise NotSent(f"the token of channel {channel} expired and cannot be refreshed; run "
                              f"`plume channels connect {channel}`", retryable=False)
            grant = refresher(current)  # under the lock: nobody else can spend the same refresh token
            cipher, now = self.cipher, datetime.now(UTC)
            row.access = cipher.seal(grant["access_token"])
            if grant.get("refresh_token"):  # rotated (X): the old one is dead from now on
                row.refresh = cipher.seal(grant["refresh_token"])
                if grant.get("refresh_token_expires_in"):
                    row.refresh_expires_at = now + timedelta(seconds=float(grant["refresh_token_expires_in"]))
            expires_in = grant.get("expires_in")
            row.expires_at = now + timedelta(seconds=float(expires_in)) if expires_in else None
            row.generation, row.updated_at = row.generation + 1, now
            session.flush()
            return self._token(row)

    def _token(self, row: TokenRow) -> Token:
        cipher = self.cipher
        return Token(channel=row.channel, network=row.network, access=cipher.open(row.access),
                     refresh=cipher.open(row.refresh) if row.refresh else None,
                     expires_at=_utc(row.expires_at), refresh_expires_at=_utc(row.refresh_expires_at),
                     generation=row.generation, extra=dict(row.extra or {}))


def expiring(session, *, within: timedelta, now: datetime | None = None) -> list[Expiry]:
    """Stored tokens a human must renew within `within`: a token without a refresh token expires
    with its access token; one with a refresh token expires when that does (if the network says)."""
    limit = (now or datetime.now(UTC)) + within
    rows = session.scalars(select(TokenRow).where(or_(
        (TokenRow.refresh.is_(None)) & (TokenRow.expires_at.is_not(None)) & (TokenRow.expires_at <= limit),
        (TokenRow.refresh.is_not(None)) & (TokenRow.refresh_expires_at.is_not(None))
        & (TokenRow.refresh_expires_at <= limit))).order_by(TokenRow.channel))
    return [Expiry(row.channel, row.network, _utc(row.refresh_expires_at if row.refresh else row.expires_at))
            for row in rows]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Bearer:
    """Where a channel's bearer token comes from: the channels file (fixed, as the environment has it)
    or the database (connected with `plume channels connect`, refreshed when due)."""

    def __init__(self, *, channel: str, token: str | None = None, tokens: Tokens | None = None,
                 refresher: Callable[[Token], dict] | None = None):
        self.channel, self._token, self.tokens, self.refresher = channel, token, tokens, refresher

    @property
    def stored(self) -> bool:
        return self._token is None

    def current(self) -> str:
        if self._token is not None:
            return self._token
        if self.tokens is None:
            raise NotSent(f"channel {self.channel} has no `token` and Plume's database is not available to it",
                          retryable=False)
        return self.tokens.fresh(self.channel, self.refresher).access

    def renewed(self, refused: str) -> str | None:
        """After the network refused `refused` as expired: a newer token, or None when there is none."""
        if self._token is not None or self.tokens is None or self.refresher is None:
            return None
        token = self.tokens.get(self.channel)
        if token is None:
            return None
        if token.access != refused:  # another process refreshed already
            return token.access
        if not token.refresh:
            return None
        return self.tokens.refresh(self.channel, self.refresher, seen=token.generation).access
