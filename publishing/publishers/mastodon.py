"""Mastodon through Mastodon.py: statuses sent with an Idempotency-Key, found again by their text.

What Mastodon guarantees (app/services/post_status_service.rb): under a per-account lock it keeps
`idempotency:status:<account>:<key>` for one hour after creating the status; a second POST with
the same key in that hour returns the first status instead of creating another. So resending
after a 5xx is safe (the scheduler retries within minutes), and `publish` always sends the key.
Resending to *find out* whether a post exists is not: after the hour, or if the first request
is still queued behind a slow server, it would post twice. `lookup` therefore never posts: it
reads the account's statuses created since the post was approved and compares their source text.

Images go through POST /api/v2/media, which answers 202 while the server is still processing
them; GET /api/v1/media/:id is polled until it has a URL (docs.joinmastodon.org/methods/media).
Their ids are kept per post (publishing.uploads) so a resend attaches the same ones.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests
import urllib3
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from core.domain import Media, Post
from publishing.publishers import http
from publishing.publishers.base import SHORT, NotSent, OutcomeUnknown, Published, Timeouts, refused
from publishing.tokens import Bearer

PAGE = 40  # Mastodon's largest page of account statuses
CLOCK_SLACK = timedelta(minutes=5)
MEDIA_TTL = timedelta(hours=24)  # unattached media are removed by the server's cleanup after a day
PROCESSING_POLLS = (0.2, 0.5, 1.0, 2.0, 3.0, 5.0)  # seconds between asks while an image is processed


class MastodonPublisher:
    kind = "mastodon"
    network = "mastodon"

    def __init__(self, *, name: str, base_url: str, token: str | None = None, bearer: Bearer | None = None,
                 timeouts: Timeouts = SHORT, visibility: str = "public", token_env: str | None = None,
                 uploads=None):
        self.name, self.base_url = name, base_url.rstrip("/")
        self.visibility, self.timeouts, self.uploads = visibility, timeouts, uploads
        self._bearer = bearer or Bearer(channel=name, token=token)
        self._token_env = token_env

    def publish(self, post: Post, *, key: str) -> Published:
        media_ids = self._media(post, key=key) if post.media else None
        api = self._api()
        try:
            status = api.status_post(post.text, idempotency_key=key, visibility=self.visibility,
                                     language=post.locale or None, media_ids=media_ids)
        except MastodonServerError as exc:
            failure = self._failure(exc, api, sending=True)
            # Mastodon stores the key only once the status exists: a crash in between would let a
            # resend post twice, so look before letting the scheduler retry.
            try:
                found = self.lookup(post, key=key)
            except OutcomeUnknown:
                found = None
            if found is not None:
                return found
            raise failure from exc
        except MastodonError as exc:
            raise self._failure(exc, api, sending=True) from exc
        finally:
            api.session.close()
        return Published(id=str(status["id"]), url=status.get("url") or status.get("uri"))

    def lookup(self, post: Post, *, key: str) -> Published | None:
        api = self._api()
        since = _approved(post)
        try:
            me = api.account_verify_credentials()
            recent = api.account_statuses(me["id"], exclude_reblogs=True, limit=PAGE,
                                          since_id=since - CLOCK_SLACK if since else None)
            wanted = _normal(post.text)
            for status in recent:
                if _normal(api.status_source(status["id"])["text"]) == wanted:
                    return Published(id=str(status["id"]), url=status.get("url") or status.get("uri"))
        except MastodonError as exc:
            failure = self._failure(exc, api, sending=False)
            raise OutcomeUnknown(f"could not ask Mastodon whether post {post.id} exists: {failure}") from exc
        finally:
            api.session.close()
        if len(recent) >= PAGE:  # a busy account: the post could be on an older page
            raise OutcomeUnknown(f"channel {self.name} posted {PAGE}+ statuses since post {post.id} "
                                 "was approved; check the account by hand")
        return None

    def check(self) -> str:
        api = self._api()
        try:
            me = api.account_verify_credentials()
        except MastodonError as exc:
            failure = self._failure(exc, api, sending=False)
            raise NotSent(str(failure), retryable=False) from exc
        finally:
            api.session.close()
        acct = me["acct"]  # local accounts have no domain part
        return f"@{acct}" if "@" in acct else f"@{acct}@{urlsplit(self.base_url).hostname}"

    def _media(self, post: Post, *, key: str) -> list[str]:
        if self.uploads is None:
            from publishing.uploads import without_store
            raise without_store(self.name)
        return [remote["id"] for _, remote in
                self.uploads.ensure(key=key, channel=self.name, media=post.media, upload=self._upload)]

    def _upload(self, media: Media, data: bytes) -> tuple[dict, timedelta]:
        # Plain HTTP: Mastodon.py's media_post asks the server's version first, which version_check_mode
        # "none" (needed for the per-call clients) cannot answer.
        errors = {"network": "Mastodon", "channel": self.name, "env": self._token_env,
                  "error_text": lambda response: http.json_field(response, ("error",))}
        headers = {"Authorization": f"Bearer {self._bearer.current()}"}
        with http.client(self.timeouts) as client:
            answer = http.send(client, "POST", f"{self.base_url}/api/v2/media", headers=headers, idempotent=False,
                               files={"file": (media.filename, data, media.mime)},
                               data={"description": media.alt} if media.alt else None, **errors).json()
            for pause in PROCESSING_POLLS:  # 202: processing; a status may not use it before it has a URL
                if answer.get("url"):
                    break
                time.sleep(pause)
                answer = http.send(client, "GET", f"{self.base_url}/api/v1/media/{answer['id']}", headers=headers,
                                   idempotent=True, **errors).json()
            else:
                raise NotSent(f"Mastodon is still processing {media.filename}; nothing was posted yet",
                              retryable=True)
        return {"id": str(answer["id"])}, MEDIA_TTL

    def _api(self) -> Mastodon:
        # A client per call: Mastodon.py keeps rate-limit state on the instance, and the
        # scheduler publishes from several threads.
        return Mastodon(access_token=self._bearer.current(), api_base_url=self.base_url, ratelimit_method="throw",
                        request_timeout=(self.timeouts.connect, self.timeouts.read),
                        version_check_mode="none", session=requests.Session())

    def _failure(self, exc: MastodonError, api: Mastodon, *, sending: bool) -> NotSent | OutcomeUnknown:
        if isinstance(exc, MastodonRatelimitError):
            reset = api.ratelimit_reset
            wait = max(reset - datetime.now().timestamp(), 0.0) if reset else None
            return NotSent(f"Mastodon is rate-limiting channel {self.name}", retryable=True, retry_after=wait,
                           waiting=True)
        if isinstance(exc, MastodonNetworkError):
            if _never_connected(exc):
                return NotSent(f"could not reach Mastodon at {self.base_url}; nothing was sent", retryable=True)
            return OutcomeUnknown(f"Mastodon did not answer after the request was sent ({_cause(exc)}); "
                                  "the post may exist")
        status, detail = _status(exc)
        if isinstance(exc, MastodonUnauthorizedError) or status == 403:
            return refused("Mastodon", self.name, detail, env=self._token_env)
        if isinstance(exc, MastodonServerError):
            # Idempotency-Key makes the resend harmless (see the module docstring).
            return NotSent(f"Mastodon failed with {status} ({detail}); safe to retry", retryable=True)
        if isinstance(exc, MastodonNotFoundError):
            return NotSent(f"no Mastodon API at {self.base_url} ({detail}); check the channel's base_url",
                           retryable=False)
        if isinstance(exc, MastodonAPIError) and isinstance(status, int):
            return NotSent(f"Mastodon refused the post: {detail}", retryable=False)
        if sending:  # a 2xx we could not read: the status may well exist
            return OutcomeUnknown(f"Mastodon answered something unreadable: {exc}")
        return NotSent(f"Mastodon answered something unreadable: {exc}", retryable=True)


def _status(exc: MastodonError) -> tuple[int | None, str]:
    """Mastodon.py raises ('Mastodon API returned error', status, reason, error message)."""
    args = exc.args
    status = args[1] if len(args) > 1 and isinstance(args[1], int) else None
    detail = (args[3] if len(args) > 3 and args[3] else None) or (args[2] if len(args) > 2 else None)
    return status, str(detail or exc)


def _never_connected(exc: BaseException) -> bool:
    """True when the TCP connection was never made, so the request cannot have been received."""
    seen = exc.__cause__ or exc.__context__
    while seen is not None:
        if isinstance(seen, requests.exceptions.ConnectTimeout | urllib3.exceptions.ConnectTimeoutError):
            return True  # urllib3's NewConnectionError (refused, DNS) is a ConnectTimeoutError too
        if isinstance(seen, requests.exceptions.ConnectionError):
            inner = seen.args[0] if seen.args else None
            return isinstance(getattr(inner, "reason", inner), urllib3.exceptions.ConnectTimeoutError)
        seen = seen.__cause__ or seen.__context__
    return False


def _cause(exc: BaseException) -> str:
    inner = exc.__cause__ or exc.__context__
    return type(inner).__name__ if inner else type(exc).__name__


def _approved(post: Post) -> datetime | None:
    if not post.approved_at:
        return None
    approved = datetime.fromisoformat(post.approved_at)
    return approved if approved.tzinfo else approved.replace(tzinfo=UTC)  # stored times are UTC


def _normal(text: str) -> str:
    return " ".join((text or "").split())
