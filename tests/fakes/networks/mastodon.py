"""A loopback Mastodon: statuses with Idempotency-Key (kept an hour), verify_credentials, sources.

Shapes follow the Mastodon API: errors are `{"error": "…"}`, every answer carries
X-RateLimit-Limit/Remaining/Reset (an ISO 8601 time), ids are snowflakes (ms << 16).
Media: POST /api/v2/media answers 202 with `url: null` while "processing" (`processing_polls`
GETs of /api/v1/media/:id answer 206 before the 200 with a URL); a status may only use processed media.
"""

from __future__ import annotations

import html
import itertools
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from tests.fakes.networks import REASONS, FakeNetwork, Reply, Request

LIMIT = 500
IDEMPOTENCY_TTL = 3600.0


class FakeMastodon(FakeNetwork):
    network = "mastodon"

    def __init__(self, *, token: str = "mastodon-token", username: str = "tidewren"):
        super().__init__()
        self.token, self.username = token, username
        self.keys: dict[str, tuple[float, dict]] = {}  # Idempotency-Key → (stored at, status)
        self.sources: dict[str, str] = {}  # status id → the text as sent
        self.idempotency_ttl = IDEMPOTENCY_TTL
        self.media: dict[str, dict] = {}  # id → {"data", "mime", "description", "polls_left"}
        self.uploads = 0
        self.processing_polls = 2
        self._sequence = itertools.count(1)

    @property
    def account(self) -> dict:
        return {"id": "109", "username": self.username, "acct": self.username, "display_name": "Tidewren Coffee",
                "url": f"{self.base_url}/@{self.username}", "created_at": "2024-01-01T00:00:00.000Z",
                "followers_count": 10, "following_count": 1, "statuses_count": len(self.posts)}

    def is_write(self, request: Request) -> bool:
        return request.method == "POST" and request.path == "/api/v1/statuses"

    def answer(self, request: Request) -> Reply:
        if request.bearer != self.token:
            return self.error(401, "The access token is invalid")
        path = request.path
        if request.method == "GET" and path == "/api/v1/accounts/verify_credentials":
            return self._ok(self.account)
        if request.method == "POST" and path == "/api/v1/statuses":
            return self._post(request)
        if request.method == "POST" and path == "/api/v2/media":
            return self._upload(request)
        if request.method == "GET" and (match := re.fullmatch(r"/api/v1/media/(\d+)", path)):
            stored = self.media.get(match.group(1))
            if stored is None:
                return self.error(404, "Record not found")
            if stored["polls_left"] > 0:
                stored["polls_left"] -= 1
                return Reply(206, self._attachment(match.group(1)), self.rate_limit_headers(None, remaining=299))
            return self._ok(self._attachment(match.group(1)))
        if match := re.fullmatch(r"/api/v1/accounts/(\w+)/statuses", path):
            since = int(request.query.get("since_id") or 0)
            limit = min(int(request.query.get("limit") or 20), 40)
            mine = [s for s in reversed(self.posts) if match.group(1) == "109" and int(s["id"]) > since]
            return self._ok(mine[:limit])
        if match := re.fullmatch(r"/api/v1/statuses/(\d+)/source", path):
            status = next((s for s in self.posts if s["id"] == match.group(1)), None)
            if status is None:
                return self.error(404, "Record not found")
            return self._ok({"id": status["id"], "text": self.sources[status["id"]], "spoiler_text": ""})
        return self.error(404, "Record not found")

    def _upload(self, request: Request) -> Reply:
        parts = request.parts
        if "file" not in parts:
            return self.error(422, "Validation failed: File can't be blank")
        _, mime, data = parts["file"]
        if mime not in {"image/jpeg", "image/png", "image/gif", "image/webp"}:
            return self.error(422, "Validation failed: File content type is invalid")
        description = parts.get("description", (None, "", b""))[2].decode()
        if len(description) > 1500:
            return self.error(422, "Validation failed: Description is too long (maximum is 1500 characters)")
        media_id = str((int(time.time() * 1000) << 16) + next(self._sequence))
        self.uploads += 1
        self.media[media_id] = {"data": data, "mime": mime, "description": description,
                                "polls_left": self.processing_polls}
        attachment = self._attachment(media_id)
        return Reply(202 if self.processing_polls else 200, attachment, self.rate_limit_headers(None, remaining=299))

    def _attachment(self, media_id: str) -> dict:
        stored = self.media[media_id]
        ready = stored["polls_left"] == 0
        return {"id": media_id, "type": "image", "url": f"{self.base_url}/media/{media_id}" if ready else None,
                "preview_url": f"{self.base_url}/media/{media_id}/small", "description": stored["description"] or None,
                "blurhash": "UFBWY:8_0Jxv"}

    def _post(self, request: Request) -> Reply:
        params = request.json if "json" in request.headers.get("content-type", "") else request.form
        text = (params or {}).get("status", "")
        key = request.headers.get("idempotency-key")
        if key and key in self.keys and time.time() - self.keys[key][0] < self.idempotency_ttl:
            return self._ok(self.keys[key][1])
        if not text.strip():
            return self.error(422, "Validation failed: Text can't be blank")
        if len(text) > LIMIT:
            return self.error(422, f"Validation failed: Text character limit of {LIMIT} exceeded")
        if "json" in request.headers.get("content-type", ""):
            media_ids = list((params or {}).get("media_ids") or [])
        else:  # a form repeats media_ids[] once per id
            media_ids = parse_qs(request.body.decode()).get("media_ids[]", [])
        for media_id in media_ids:
            stored = self.media.get(str(media_id))
            if stored is None:
                return self.error(422, "Validation failed: media_ids are invalid")
            if stored["polls_left"]:
                return self.error(422, "Cannot attach files that have not finished processing. Try again in a moment!")
        now = datetime.now(UTC)
        status_id = str((int(now.timestamp() * 1000) << 16) + next(self._sequence))
        paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br />')}</p>" for p in text.split("\n\n"))
        status = {"id": status_id, "created_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                  "content": paragraphs, "visibility": params.get("visibility", "public"),
                  "language": params.get("language"), "uri": f"{self.base_url}/users/{self.username}/statuses/{status_id}",
                  "url": f"{self.base_url}/@{self.username}/{status_id}", "account": self.account,
                  "reblog": None, "media_attachments": [self._attachment(str(m)) for m in media_ids], "mentions": [], "tags": [], "emojis": [],
                  "replies_count": 0, "reblogs_count": 0, "favourites_count": 0}
        self.posts.append(status)
        self.sources[status_id] = text
        if key:
            self.keys[key] = (time.time(), status)
        return self._ok(status)

    def _ok(self, body) -> Reply:
        return Reply(200, body, self.rate_limit_headers(None, remaining=299))

    def error(self, status: int, message: str | None) -> Reply:
        default = {429: "Too many requests", 401: "The access token is invalid",
                   403: "This action is outside the authorized scopes"}.get(status, REASONS.get(status, "Error"))
        return Reply(status, {"error": message or default}, self.rate_limit_headers(None, remaining=299))

    def rate_limit_headers(self, retry_after: float | None, remaining: int = 0) -> dict[str, str]:
        reset = datetime.now(UTC) + timedelta(seconds=retry_after if retry_after is not None else 300)
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds").replace("+00:00", "Z")}
