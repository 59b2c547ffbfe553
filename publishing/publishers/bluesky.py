"""Bluesky through atproto: each post is a record whose key (a TID) is derived from the publish key.

The record key is fixed before the first send, so a resend can never make a second post: the PDS
refuses a create on an existing key — today with a 500 (bluesky-social/atproto#3718), soon with
an explicit 4xx "already exists" error (bluesky-social/atproto#4728). Either way, and whatever the
status, Plume then asks `getRecord` for that key instead of guessing, so `lookup` and a resend
both settle on the one post.

Rich text follows the Bluesky app's own detection (@atproto/api RichText.detectFacets): links cut
at their real end (a trailing ")" only when the link has no "("), mentions resolved handle → DID,
tags that start with a letter or an emoji (so "#2024" is no tag). Images are uploaded as blobs
(app.bsky.embed.images with alt and aspectRatio); a post without images but with a link card gets
app.bsky.embed.external with the page's title, description and thumbnail.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import httpx
import regex
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

from core import platforms
from core.domain import Media, Post
from publishing.publishers.base import SHORT, NotSent, OutcomeUnknown, Published, Timeouts, refused

POST = "app.bsky.feed.post"
S32 = "234567abcdefghijklmnopqrstuvwxyz"
TID_EPOCH_US = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z
TID_SPAN_US = 1 << 45  # ~1.1 years: derived keys look like ordinary TIDs of that year
STALE_SESSION = {"ExpiredToken", "InvalidToken"}
BLOB_TTL = timedelta(minutes=50)  # a blob no record references is garbage-collected (atproto.com/specs/blob)
# The app's patterns (packages/api/src/rich-text/detection.ts and util.ts).
MENTION = regex.compile(r"(^|\s|\()(@)([a-zA-Z0-9.-]+)(\b)")
LINK = regex.compile(r"(^|\s|\()((https?://\S+)|((?<domain>[a-z][a-z0-9]*(\.[a-z0-9]+)+)\S*))", regex.IGNORECASE)
_TAG_START = r"[\p{L}\p{Emoji_Presentation}\p{Emoji_Modifier_Base}\p{Extended_Pictographic}]"
TAG = regex.compile(rf"(?:^|\s)(#{_TAG_START}[\p{{L}}\p{{Emoji_Presentation}}\p{{Emoji_Modifier_Base}}"
                    r"\p{Extended_Pictographic}\d_-]*)")
TRAILING_PUNCTUATION = regex.compile(r"\p{P}+$")
MAX_TAG = 64


def record_key(key: str) -> str:
    """A valid TID (13 base32-sortable characters, top bit 0) that only depends on `key`."""
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    micros = TID_EPOCH_US + (digest >> 10) % TID_SPAN_US
    value = (micros << 10) | (digest & 0x3FF)  # 53-bit microseconds, then a 10-bit clock id
    return "".join(S32[(value >> (5 * (12 - i))) & 31] for i in range(13))


def facets(text: str, resolve=None) -> list[dict]:
    """Mentions, links and tags as rich-text facets, found as the Bluesky app finds them.

    `resolve(handle)` gives a handle's DID (None: not a Bluesky account, so no mention facet)."""
    found: list[tuple[int, int, dict]] = []
    for match in MENTION.finditer(text):
        handle = match.group(3)
        if not (_valid_domain(handle) or handle.endswith(".test")):
            continue
        did = resolve(handle) if resolve else None
        if did:
            start = match.start(3) - 1
            found.append((start, match.end(3), {"$type": "app.bsky.richtext.facet#mention", "did": did}))
    for match in LINK.finditer(text):
        uri, start, end = match.group(2), match.start(2), match.end(2)
        if not uri.lower().startswith("http"):
            if not _valid_domain(match.group("domain")):
                continue
            uri = f"https://{uri}"
        if uri[-1] in ".,;!?":
            uri, end = uri[:-1], end - 1
        if uri.endswith(")") and "(" not in uri:
            uri, end = uri[:-1], end - 1
        found.append((start, end, {"$type": "app.bsky.richtext.facet#link", "uri": uri}))
    for match in TAG.finditer(text):
        tag = TRAILING_PUNCTUATION.sub("", match.group(1))
        if len(tag) - 1 > MAX_TAG:
            continue
        start = match.start(1)
        found.append((start, start + len(tag), {"$type": "app.bsky.richtext.facet#tag", "tag": tag[1:]}))
    return [{"index": {"byteStart": len(text[:start].encode()), "byteEnd": len(text[:end].encode())},
             "features": [feature]} for start, end, feature in sorted(found, key=lambda f: f[0])]


def _valid_domain(domain: str | None) -> bool:
    return bool(domain) and "." in domain and platforms.known_tld(domain.rsplit(".", 1)[1])


class BlueskyPublisher:
    kind = "bluesky"
    network = "bluesky"

    def __init__(self, *, name: str, handle: str, password: str, base_url: str = "https://bsky.social",
                 app_url: str = "https://bsky.app", timeouts: Timeouts = SHORT,
                 password_env: str | None = None, uploads=None):
        self.name, self.handle, self.base_url = name, handle, base_url.rstrip("/")
        self.app_url, self.timeouts, self.uploads = app_url.rstrip("/"), timeouts, uploads
        self._password, self._password_env = password, password_env
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._account: tuple[str, str] | None = None  # (did, handle) of the session

    def publish(self, post: Post, *, key: str) -> Published:
        rkey = record_key(key)
        record = {"$type": POST, "text": post.text, "facets": facets(post.text, self._resolve),
                  "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        if post.locale:
            record["langs"] = [post.locale]
        if embed := self._embed(post, key=key):
            record["embed"] = embed
        try:
            self._call(lambda client, did: client.com.atproto.repo.create_record(
                {"repo": did, "collection": POST, "rkey": rkey, "record": record}))
        except NotSent as failure:
            if not (failure.retryable or _already_exists(failure)):
                raise
            # A 5xx may hide a create that went through, and "already exists" (a 500 today, a 4xx
            # once atproto#4728 ships) means an earlier attempt did: the fixed key lets us ask.
            try:
                found = self.lookup(post, key=key)
            except OutcomeUnknown:
                if _already_exists(failure):
                    raise OutcomeUnknown(f"Bluesky says post {post.id}'s record exists but could not show it: "
                                         f"{failure}") from None
                raise failure from None
            if found is None:
                raise
            return found
        return self._published(rkey)

    def _embed(self, post: Post, *, key: str) -> dict | None:
        if post.media:
            images = self._blobs(post.media, key=key)
            return {"$type": "app.bsky.embed.images", "images": [
                {"image": blob, "alt": media.alt, "aspectRatio": {"width": media.width, "height": media.height}}
                for media, blob in images]}
        card = post.link_card
        if card and card.get("url"):
            external = {"uri": card["url"], "title": card.get("title") or "", "description": card.get("description") or ""}
            if card.get("image"):
                external["thumb"] = self._blobs([card["image"]], key=key)[0][1]
            return {"$type": "app.bsky.embed.external", "external": external}
        return None

    def _blobs(self, media: list[dict], *, key: str) -> list[tuple[Media, dict]]:
        if self.uploads is None:
            from publishing.uploads import without_store
            raise without_store(self.name)
        return self.uploads.ensure(key=key, channel=self.name, media=media, upload=self._upload)

    def _upload(self, media: Media, data: bytes) -> tuple[dict, timedelta]:
        answer = self._call(lambda client, did: client.com.atproto.repo.upload_blob(data))
        return answer.blob.model_dump(mode="json", by_alias=True), BLOB_TTL

    def _resolve(self, handle: str) -> str | None:
        """A handle's DID, or None when it is no Bluesky account (the text then stays plain)."""
        try:
            answer = self._call(lambda client, did: client.com.atproto.identity.resolve_handle({"handle": handle}))
        except (NotSent, OutcomeUnknown):
            return None
        return answer.did

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
                           retry_after=wait, waiting=True)
        if isinstance(exc, UnauthorizedError):
            return refused("Bluesky", self.name, detail, env=self._password_env,
                           renew="create a new app password in Bluesky's settings")
        if status is not None and status >= 500:
            return NotSent(f"Bluesky failed with {status} ({detail}); safe to retry: the record key is fixed",
                           retryable=True)
        if isinstance(exc, BadRequestError | RequestErrorBase) and status is not None:
            return NotSent(f"Bluesky refused the post: {detail}", retryable=False)
        return OutcomeUnknown(f"Bluesky answered something unreadable: {exc}")


def _already_exists(failure: NotSent) -> bool:
    """The PDS says the record key is taken (atproto#4728's error, or any "already exists" wording)."""
    text = str(failure).lower()
    return "alreadyexists" in text.replace(" ", "") or "already exists" in text


def _error_name(exc: AtProtocolError) -> str | None:
    content = getattr(getattr(exc, "response", None), "content", None)
    return getattr(content, "error", None)


def _detail(exc: AtProtocolError) -> str:
    content = getattr(getattr(exc, "response", None), "content", None)
    name, message = getattr(content, "error", None), getattr(content, "message", None)
    if name and message:
        return f"{name}: {message}"
    return name or message or str(exc)
