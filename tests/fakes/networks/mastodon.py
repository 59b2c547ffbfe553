"""A loopback Mastodon: statuses with Idempotency-Key (kept an hour), verify_credentials, sources.

Shapes follow the Mastodon API: errors are `{"error": "…"}`, every answer carries
X-RateLimit-Limit/Remaining/Reset (an ISO 8601 time), ids are snowflakes (ms << 16).
"""

from __future__ import annotations

import html
import itertools
import re
import time
from datetime import UTC, datetime, timedelta

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
        now = datetime.now(UTC)
        status_id = str((int(now.timestamp() * 1000) << 16) + next(self._sequence))
        paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br />')}</p>" for p in text.split("\n\n"))
        status = {"id": status_id, "created_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                  "content": paragraphs, "visibility": params.get("visibility", "public"),
                  "language": params.get("language"), "uri": f"{self.base_url}/users/{self.username}/statuses/{status_id}",
                  "url": f"{self.base_url}/@{self.username}/{status_id}", "account": self.account,
                  "reblog": None, "media_attachments": [], "mentions": [], "tags": [], "emojis": [],
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
