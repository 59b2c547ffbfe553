"""What every publisher promises: one send per call, a certain failure, an unknown outcome, or a post."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Protocol, runtime_checkable

from core.domain import Post
from core.errors import PublishFailed, PublishUnknown

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 15.0


@dataclass(frozen=True)
class Published:
    """What the network gave back."""

    id: str  # the network's id for the post (outbox: the file path)
    url: str | None = None  # a permalink a human can open


class NotSent(PublishFailed):
    """The network certainly did not take the post.

    `waiting` says the network asked us to wait (a rate limit, a daily cap) rather than refused:
    the post goes back on the schedule for `retry_after` seconds without using up an attempt.
    """

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None,
                 waiting: bool = False):
        super().__init__(message)
        self.retryable = retryable or waiting
        self.retry_after = retry_after
        self.waiting = waiting
        self.status: int | None = None  # the network's HTTP status, when it answered one


class OutcomeUnknown(PublishUnknown):
    """The request may have reached the network: never resend without asking it (or a human) first."""


@runtime_checkable
class Publisher(Protocol):
    name: str  # the channel name ("outbox", "brand-mastodon"…)
    kind: str  # "outbox" | "webhook" | "mastodon" | "bluesky" | "linkedin" | "x"
    network: str  # the network it publishes to; "*" for a channel that takes every network

    def publish(self, post: Post, *, key: str) -> Published:
        """Send once; `key` is post.publish_key, stable across attempts."""

    def lookup(self, post: Post, *, key: str) -> Published | None:
        """Published if the post sent with `key` exists, None if it certainly does not.

        Raises OutcomeUnknown when this network cannot tell.
        """

    def check(self) -> str:
        """Verify credentials without posting; return who we post as."""


@dataclass(frozen=True)
class Timeouts:
    """Short on purpose: a publish job holds a worker, and a slow answer is settled by lookup."""

    connect: float = DEFAULT_CONNECT_TIMEOUT
    read: float = DEFAULT_READ_TIMEOUT


SHORT = Timeouts()


def retry_after(headers, *, now: float | None = None) -> float | None:
    """Seconds to wait, from Retry-After (seconds or HTTP date) or a rate-limit reset header.

    X sends `x-rate-limit-reset`, others `x-ratelimit-reset` or `ratelimit-reset`, as epoch
    seconds (the IETF draft's `ratelimit-reset` counts seconds from now). Unparseable values give
    None: the caller falls back to its own backoff.
    """
    now = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        try:
            seconds = float(value)
        except ValueError:
            try:
                return max(parsedate_to_datetime(value).timestamp() - now, 0.0)
            except (TypeError, ValueError):
                return None
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    for name in ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset"):
        try:
            reset = float(headers.get(name) or "")
        except ValueError:
            continue
        if not math.isfinite(reset):
            continue
        return max(reset if reset < 10**9 else reset - now, 0.0)
    return None


def next_utc_midnight(now: float | None = None) -> float:
    """Seconds until 00:00 UTC, when daily limits such as LinkedIn's reset."""
    now = time.time() if now is None else now
    return 86400.0 - now % 86400.0


def refused(network: str, channel: str, detail: str, *, env: str | None = None,
            renew: str | None = None, credential: str = "token") -> NotSent:
    """Bad credentials (a token, a password, a webhook's shared secret): never retried, and the message
    says what to do about it."""
    renew = renew or f"create a new {credential} with permission to post"
    where = f"put it in {env}" if env else "update the channel's credentials"
    return NotSent(f"the {network} {credential} for channel {channel} was refused ({detail}); "
                   f"{renew}, {where}, then run `plume channels test {channel}`", retryable=False)
