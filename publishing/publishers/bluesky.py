"""Bluesky through atproto: each post is a record whose key (a TID) is derived from the publish key.

The record key is fixed before the first send, so a resend can never make a second post (the PDS
refuses a create on an existing key — today with a 500, see bluesky-social/atproto#3718) and
`lookup` is one `com.atproto.repo.getRecord` for that key.
"""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import UTC, datetime

import httpx
from atproto import Client
from atproto_client.exceptions import (
    AtProtocolError,
    BadRequestError,
    InvokeTimeoutError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.request import Request

from core.domain import Post
from publishing.publishers.base import SHORT, NotSent, OutcomeUnknown, Published, Timeouts, refused

POST = "app.bsky.feed.post"
S32 = "234567abcdefghijklmnopqrstuvwxyz"
TID_EPOCH_US = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z
TID_SPAN_US = 1 << 45  # ~1.1 years: derived keys look like ordinary TIDs of that year
STALE_SESSION = {"ExpiredToken", "InvalidToken"}
URL = re.compile(r"https?://[^\s]+")
TAG = re.compile(r"(?<![\w#])#(\w{1,64})")


def record_key(key: str) -> str:
    """A valid TID (13 base32-sortable characters, top bit 0) that only depends on `key`."""
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    micros = TID_EPOCH_US + (digest >> 10) % TID_SPAN_US
    value = (micros << 10) | (digest & 0x3FF)  # 53-bit microseconds, then a 10-bit clock id
    return "".join(S32[(value >> (5 * (12 - i))) & 31] for i in range(13))


def facets(text: str) -> list[dict]:
    """Links and hashtags as rich-text facets: Bluesky shows bare URLs as plain text otherwise."""
    found = []
    for match in URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?)\"'")
        found.append((match.start(), match.start() + len(url),
                      {"$type": "app.bsky.richtext.facet#link", "uri": url}))
    for match in TAG.finditer(text):
        if not any(start <= match.start() < end for start, end, _ in found):
            found.append((match.start(), match.end(), {"$type": "app.bsky.richtext.facet#tag",
                                                       "tag": match.group(1)}))
    return [{"index": {"byteStart": len(text[:start].encode()), "byteEnd": len(text[:end].encode())},
             "features": [feature]} for start, end, feature in sorted(found, key=lambda f: f[0])]


class BlueskyPublisher:
    kind = "bluesky"
    network = "bluesky"

    def __init__(self, *, name: str, handle: str, password: str, base_url: str = "https://bsky.social",
                 app_url: str = "https://bsky.app", timeouts: Timeouts = SHORT,
                 password_env: str | None = None):
        self.name, self.handle, self.base_url = name, handle, base_url.rstrip("/")
        self.app_url, self.timeouts = app_url.rstrip("/"), timeouts
        self._password, self._password_env = password, password_env
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._account: tuple[str, str] | None = None  # (did, handle) of the session

    def publish(self, post: Post, *, key: str) -> Published:
        rkey = record_key(key)
        record = {"$type": POST, "text": post.text, "facets": facets(post.text),
                  "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        if post.locale:
            record["langs"] = [post.locale]
        try:
            self._call(lambda client, did: client.com.atproto.repo.create_record(
                {"repo": did, "collection": POST, "rkey": rkey, "record": record}))
        except NotSent as failure:
            if not failure.retryable:
                raise
            # A 5xx may hide a create that went through (or "already exists" from a previous
            # attempt): the fixed key lets us ask instead of guessing.
            try:
                found = self.lookup(post, key=key)
            except OutcomeUnknown:
                raise failure from None
            if found is None:
                raise
            return found
        return self._published(rkey)

    def lookup(self, post: Post, *, key: str) -> Published | None:
        rkey = record_key(key)
        try:
            self._call(lambda client, did: client.com.atproto.repo.get_record(
                {"repo": did, "collection": POST, "rkey": rkey}))
        except NotSent as failure:
            if "RecordNotFound" in str(failure):
                return None
            raise OutcomeUnknown(f"could not ask Bluesky whether post {post.id} exists: {failure}") from failure
        except OutcomeUnknown as failure:
            raise OutcomeUnknown(f"could not ask Bluesky whether post {post.id} exists: {failure}") from failure
        return self._published(rkey)

    def check(self) -> str:
        with self._lock:
            self._client = None  # a check always logs in afresh
        self._call(lambda client, did: client.com.atproto.server.get_session())
        return f"@{self._account[1]}"

    def _published(self, rkey: str) -> Published:
        did, handle = self._account or ("", self.handle)
        return Published(id=f"at://{did}/{POST}/{rkey}", url=f"{self.app_url}/profile/{handle}/post/{rkey}")

    def _call(self, action):
        """Run `action(client, did)` on a logged-in client; log in again once if the session went stale."""
        for attempt in (1, 2):
            try:
                client = self._session()
                return action(client, self._account[0])
            except AtProtocolError as exc:
                if attempt == 1 and _error_name(exc) in STALE_SESSION:
                    with self._lock:
                        self._client = None
                    continue
                raise self._failure(exc) from exc
        raise AssertionError("unreachable")

    def _session(self) -> Client:
        with self._lock:
            if self._client is None:
                client = Client(self.base_url, request=Request(
                    timeout=httpx.Timeout(self.timeouts.read, connect=self.timeouts.connect)))
                client.on_session_change(lambda event, session: setattr(
                    self, "_account", (session.did, session.handle)))
                client.login(self.handle, self._password, fetch_bsky_profile=False)
                self._client = client
            return self._client

    def _failure(self, exc: AtProtocolError) -> NotSent | OutcomeUnknown:
        cause = exc.__cause__
        if isinstance(exc, InvokeTimeoutError | NetworkError) and getattr(exc, "response", None) is None:
            if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
                return NotSent(f"could not reach Bluesky at {self.base_url}; nothing was sent", retryable=True)
            return OutcomeUnknown(f"Bluesky did not answer after the request was sent ({type(cause).__name__}); "
                                  "the post may exist")
        response = getattr(exc, "response", None)
        status = response.status_code if response is not None else None
        detail = _detail(exc)
        if isinstance(exc, RateLimitExceededError):
            wait = exc.retry_after
            if wait is None and exc.reset_at is not None:
                wait = max((exc.reset_at - datetime.now(UTC)).total_seconds(), 0.0)
            return NotSent(f"Bluesky is rate-limiting channel {self.name}: {detail}", retryable=True,
                           retry_after=wait)
        if isinstance(exc, UnauthorizedError):
            return refused("Bluesky", self.name, detail, env=self._password_env,
                           renew="create a new app password in Bluesky's settings")
        if status is not None and status >= 500:
            return NotSent(f"Bluesky failed with {status} ({detail}); safe to retry: the record key is fixed",
                           retryable=True)
        if isinstance(exc, BadRequestError | RequestErrorBase) and status is not None:
            return NotSent(f"Bluesky refused the post: {detail}", retryable=False)
        return OutcomeUnknown(f"Bluesky answered something unreadable: {exc}")


def _error_name(exc: AtProtocolError) -> str | None:
    content = getattr(getattr(exc, "response", None), "content", None)
    return getattr(content, "error", None)


def _detail(exc: AtProtocolError) -> str:
    content = getattr(getattr(exc, "response", None), "content", None)
    name, message = getattr(content, "error", None), getattr(content, "message", None)
    if name and message:
        return f"{name}: {message}"
    return name or message or str(exc)
