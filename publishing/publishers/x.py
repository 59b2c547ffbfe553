"""X through API v2 (POST /2/tweets), images through POST /2/media/upload, as a user: an OAuth 2.0
token (fixed in the channels file, or stored by `plume channels connect x` and refreshed) or OAuth
1.0a user keys.

X has no idempotency key, so a 5xx or a timeout after sending is an unknown outcome and `lookup`
cannot tell. Uploaded media ids are kept (publishing.uploads), so a resend never uploads twice.
"""

from __future__ import annotations

import time
from datetime import timedelta

import httpx

from core.domain import Media, Post
from publishing.publishers import http
from publishing.publishers.base import (
    SHORT,
    NotSent,
    OutcomeUnknown,
    Published,
    Timeouts,
    retry_after,
)
from publishing.tokens import Bearer

MEDIA_TTL = 86400.0  # an unused media id lives 24 hours ("expires_after_secs" in the upload answer)
# Problem types of a 403 that is about who is asking, not what is posted (docs.x.com/x-api/fundamentals/response-codes-and-errors).
AUTH_PROBLEMS = ("oauth1-permissions", "client-forbidden", "unsupported-authentication", "not-authorized-for-resource")
AUTH_WORDS = ("authenticat", "access token", "oauth", "scope", "permission", "client app", "credentials")


class XPublisher:
    kind = "x"
    network = "x"

    def __init__(self, *, name: str, token: str | None = None, bearer: Bearer | None = None,
                 auth: httpx.Auth | None = None, base_url: str = "https://api.x.com",
                 app_url: str = "https://x.com", timeouts: Timeouts = SHORT, token_env: str | None = None,
                 uploads=None):
        self.name, self.base_url, self.app_url = name, base_url.rstrip("/"), app_url.rstrip("/")
        self.timeouts, self._token_env, self.uploads = timeouts, token_env, uploads
        self._auth = auth  # OAuth 1.0a keys sign each request instead of a bearer token
        self._bearer = bearer or (Bearer(channel=name, token=token) if auth is None else None)

    def publish(self, post: Post, *, key: str) -> Published:
        body: dict = {"text": post.text}
        if post.media:
            if self.uploads is None:
                from publishing.uploads import without_store
                raise without_store(self.name)
            uploaded = self.uploads.ensure(key=key, channel=self.name, media=post.media, upload=self._upload)
            body["media"] = {"media_ids": [remote["id"] for _, remote in uploaded]}
        response = self._send("POST", "/2/tweets", json=body, idempotent=False)
        try:
            tweet_id = str(response.json()["data"]["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise OutcomeUnknown("X accepted the post but its answer had no id") from exc
        return Published(id=tweet_id, url=f"{self.app_url}/i/web/status/{tweet_id}")

    def lookup(self, post: Post, *, key: str) -> Published | None:
        raise OutcomeUnknown(f"X cannot be asked whether post {post.id} went out; "
                             f"check the timeline of channel {self.name}")

    def check(self) -> str:
        me = self._send("GET", "/2/users/me", idempotent=True).json()
        return f"@{me['data']['username']}"

    def _upload(self, media: Media, data: bytes) -> tuple[dict, timedelta]:
        """One image: the upload, then its alt text (POST /2/media/metadata)."""
        answer = self._send("POST", "/2/media/upload", idempotent=False,
                            files={"media": (media.filename, data, media.mime)},
                            data={"media_category": "tweet_image", "media_type": media.mime}).json()
        try:
            media_id = str(answer["data"]["id"])
        except (KeyError, TypeError) as exc:
            raise NotSent("X took the image but did not say its id; nothing was posted", retryable=True) from exc
        if media.alt:
            self._send("POST", "/2/media/metadata", idempotent=True,
                       json={"id": media_id, "metadata": {"alt_text": {"text": media.alt}}})
        keeps = float(answer["data"].get("expires_after_secs") or MEDIA_TTL)
        return {"id": media_id}, timedelta(seconds=keeps)

    def _send(self, method: str, path: str, *, idempotent: bool, **kwargs) -> httpx.Response:
        """One call; a stored token the network calls expired is renewed once and the call made again
        (a 401 means nothing was done, so the second call cannot duplicate anything)."""
        token = self._bearer.current() if self._bearer else None
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            with http.client(self.timeouts) as client:
                if self._auth is not None:
                    client.auth = self._auth
                try:
                    return http.send(client, method, f"{self.base_url}{path}", headers=headers,
                                     idempotent=idempotent, network="X", channel=self.name, env=self._token_env,
                                     error_text=_error_text, credentials_refused=_credentials_refused,
                                     wait=_wait, **kwargs)
                except NotSent as refused:
                    if attempt == 2 or not _expired(refused) or not self._bearer:
                        raise
                    token = self._bearer.renewed(token)
                    if token is None:
                        raise
        raise AssertionError("unreachable")


def _expired(refused: NotSent) -> bool:
    return refused.status == 401


def _error_text(response) -> str:
    # v2 problems: {"detail": …} or {"errors": [{"message": …}], "detail": "One or more parameters…"}
    return http.json_field(response, ("errors", "message"), ("detail",), ("title",))


def _credentials_refused(response) -> bool:
    """401 always; 403 only when X says it is about authentication (a refused post is not a bad token)."""
    if response.status_code == 401:
        return True
    if response.status_code != 403:
        return False
    kind = http.json_field(response, ("type",))
    text = f"{_error_text(response)} {http.json_field(response, ('reason',))}".lower()
    return any(problem in kind for problem in AUTH_PROBLEMS) or any(word in text for word in AUTH_WORDS)


def _wait(response) -> tuple[float | None, str]:
    """X's 24-hour caps: x-user-limit-24hour-* and x-app-limit-24hour-* say when they reset
    (docs.x.com/x-api/fundamentals/rate-limits); a spent one outranks the 15-minute window."""
    now = time.time()
    for who in ("user", "app"):
        remaining = response.headers.get(f"x-{who}-limit-24hour-remaining")
        reset = response.headers.get(f"x-{who}-limit-24hour-reset")
        if remaining == "0" and reset and reset.isdigit():
            return max(float(reset) - now, 0.0), f"24-hour {who} cap"
    if "usagecap" in _error_text(response).lower().replace(" ", "") or \
            "usage-capped" in http.json_field(response, ("type",)):
        return retry_after(response.headers), "usage cap"
    return retry_after(response.headers), "rate limit"
