"""A loopback X API v2: POST /2/tweets, GET /2/users/me, media upload and alt text, OAuth 2.0 and 1.0a.

Errors are v2 "problems" (`{"title", "detail", "type", "status"}`, validation errors under
`errors`); a duplicate is a 403, and so is a post X refuses for its content, while a 403 about
authentication carries an auth problem type. Answers carry x-rate-limit-limit/remaining/reset
(epoch); `daily_cap()` answers 429 with the 24-hour headers (x-user-limit-24hour-*, x-app-limit-24hour-*).
OAuth 2.0 user tokens expire after `oauth.ttl` and their refresh tokens rotate on every use.
"""

from __future__ import annotations

import itertools
import time
from urllib.parse import parse_qsl

from oauthlib import oauth1

from tests.fakes.networks import REASONS, FakeNetwork, OAuthServer, Reply, Request

LIMIT = 280
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
IMAGE_BYTES = 5 * 1024 * 1024


class FakeX(FakeNetwork):
    network = "x"

    def __init__(self, *, token: str = "x-user-token", username: str = "tidewren", oauth1_keys: dict | None = None,
                 oauth: OAuthServer | None = None):
        super().__init__()
        self.token, self.username = token, username
        self.oauth = oauth or OAuthServer()
        self.oauth1_keys = oauth1_keys  # consumer_key, consumer_secret, token, token_secret
        self.media: dict[str, dict] = {}  # media id → {"data", "mime", "alt"}
        self.uploads = 0
        self._ids = itertools.count(1865000000000000001)
        self._media_ids = itertools.count(1880000000000000001)

    def is_write(self, request: Request) -> bool:
        return request.method == "POST" and request.path == "/2/tweets"

    def daily_cap(self, *, who: str = "user", reset_in: float = 5 * 3600) -> None:
        """The next write hits the 24-hour cap of the user (or the app)."""
        reset = str(int(time.time() + reset_in))
        self.fail(429, message="Too Many Requests", headers={
            f"x-{who}-limit-24hour-limit": "17", f"x-{who}-limit-24hour-remaining": "0",
            f"x-{who}-limit-24hour-reset": reset})

    def answer(self, request: Request) -> Reply:
        if request.path == "/i/oauth2/authorize":
            return self.oauth.authorize(request)
        if request.path == "/2/oauth2/token":
            return self.oauth.token(request)
        if not self._authorized(request):
            return self.error(401, "Unauthorized")
        if request.method == "GET" and request.path == "/2/users/me":
            return self._ok({"data": {"id": "1700000000000000042", "name": "Tidewren Coffee",
                                      "username": self.username}})
        if request.method == "POST" and request.path == "/2/media/upload":
            return self._upload(request)
        if request.method == "POST" and request.path == "/2/media/metadata":
            body = request.json or {}
            stored = self.media.get(str(body.get("id")))
            if stored is None:
                return self.error(400, "Invalid media id")
            stored["alt"] = body["metadata"]["alt_text"]["text"]
            return self._ok({"data": {"id": body["id"], "associated_metadata": body["metadata"]}})
        if self.is_write(request):
            return self._tweet(request.json or {})
        return self.error(404, None)

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("OAuth ") and self.oauth1_keys:
            return self._oauth1_valid(request, header)
        return request.bearer == self.token or self.oauth.valid(request.bearer)

    def _oauth1_valid(self, request: Request, header: str) -> bool:
        """Recompute the HMAC-SHA1 signature with the client's nonce and timestamp."""
        params = dict(parse_qsl(header[6:].replace(", ", "&").replace('"', ""), keep_blank_values=True))
        params = {k: oauth1.rfc5849.utils.unescape(v) for k, v in params.items()}
        keys = self.oauth1_keys
        if params.get("oauth_consumer_key") != keys["consumer_key"] or params.get("oauth_token") != keys["token"]:
            return False
        form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        signer = oauth1.Client(keys["consumer_key"], client_secret=keys["consumer_secret"],
                               resource_owner_key=keys["token"], resource_owner_secret=keys["token_secret"],
                               nonce=params.get("oauth_nonce"), timestamp=params.get("oauth_timestamp"))
        url = f"{self.base_url}{request.path}" + (f"?{request.query_string}" if request.query_string else "")
        _, headers, _ = signer.sign(url, http_method=request.method, body=request.body.decode() if form else None,
                                    headers={"Content-Type": request.headers["content-type"]} if form else {})
        expected = dict(parse_qsl(headers["Authorization"][6:].replace(", ", "&").replace('"', "")))
        return oauth1.rfc5849.utils.unescape(expected["oauth_signature"]) == params.get("oauth_signature")

    def _upload(self, request: Request) -> Reply:
        parts = request.parts
        if "media" not in parts:
            return self.error(400, "media is required")
        _, mime, data = parts["media"]
        if mime not in IMAGE_TYPES:
            return self.error(400, f"Unsupported media type {mime}")
        if len(data) > IMAGE_BYTES:
            return self.error(400, "File size exceeds 5242880 bytes.")
        media_id = str(next(self._media_ids))
        self.uploads += 1
        self.media[media_id] = {"data": data, "mime": mime, "alt": None}
        return self._ok({"data": {"id": media_id, "media_key": f"3_{media_id}", "size": len(data),
                                  "expires_after_secs": 86400, "image": {"image_type": mime}}})

    def _tweet(self, body: dict) -> Reply:
        text = body.get("text", "")
        media_ids = (body.get("media") or {}).get("media_ids") or []
        if len(text) > LIMIT:
            return Reply(400, {"errors": [{"parameters": {"text": [text[:20] + "…"]},
                                           "message": f"Your Tweet text is longer than {LIMIT} characters."}],
                               "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                               "type": "https://api.twitter.com/2/problems/invalid-request"})
        if len(media_ids) > 4 or any(m not in self.media for m in media_ids):
            return Reply(400, {"errors": [{"message": "Your media IDs are invalid."}], "title": "Invalid Request",
                               "detail": "One or more parameters to your request was invalid.",
                               "type": "https://api.twitter.com/2/problems/invalid-request"})
        if any(p["text"] == text for p in self.posts):
            return self.error(403, "You are not allowed to create a Tweet with duplicate content.")
        tweet = {"id": str(next(self._ids)), "text": text}
        if media_ids:
            tweet["media_ids"] = list(media_ids)
        self.posts.append(tweet)
        return self._ok({"data": {"id": tweet["id"], "text": text, "edit_history_tweet_ids": [tweet["id"]]}},
                        status=201)

    def _ok(self, body, status: int = 200) -> Reply:
        return Reply(status, body, self.rate_limit_headers(None, remaining=99))

    def error(self, status: int, message: str | None) -> Reply:
        title = REASONS.get(status, "Error")
        return Reply(status, {"title": title, "detail": message or title, "type": "about:blank",
                              "status": status}, self.rate_limit_headers(None, remaining=0 if status == 429 else 99))

    def auth_error(self) -> Reply:
        """A 403 about authentication: a read-only app (X's oauth1-permissions problem)."""
        return Reply(403, {"title": "Forbidden", "status": 403,
                           "type": "https://api.twitter.com/2/problems/oauth1-permissions",
                           "detail": "Your client app is not configured with the appropriate oauth1 app "
                                     "permissions for this endpoint."})

    def rate_limit_headers(self, retry_after: float | None, remaining: int = 0) -> dict[str, str]:
        reset = int(time.time() + (retry_after if retry_after is not None else 900))
        return {"x-rate-limit-limit": "100", "x-rate-limit-remaining": str(remaining),
                "x-rate-limit-reset": str(reset)}
