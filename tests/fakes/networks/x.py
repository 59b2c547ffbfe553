"""A loopback X API v2: POST /2/tweets and GET /2/users/me with OAuth 2 user bearer tokens.

Errors are v2 "problems" (`{"title", "detail", "type", "status"}`, validation errors under
`errors`), a duplicate is a 403, and answers carry x-rate-limit-limit/remaining/reset (epoch).
"""

from __future__ import annotations

import itertools
import time

from tests.fakes.networks import REASONS, FakeNetwork, Reply, Request

LIMIT = 280


class FakeX(FakeNetwork):
    network = "x"

    def __init__(self, *, token: str = "x-user-token", username: str = "tidewren"):
        super().__init__()
        self.token, self.username = token, username
        self._ids = itertools.count(1865000000000000001)

    def is_write(self, request: Request) -> bool:
        return request.method == "POST" and request.path == "/2/tweets"

    def answer(self, request: Request) -> Reply:
        if request.bearer != self.token:
            return self.error(401, None)
        if request.method == "GET" and request.path == "/2/users/me":
            return self._ok({"data": {"id": "1700000000000000042", "name": "Tidewren Coffee",
                                      "username": self.username}})
        if self.is_write(request):
            text = (request.json or {}).get("text", "")
            if len(text) > LIMIT:
                return Reply(400, {"errors": [{"parameters": {"text": [text[:20] + "…"]},
                                               "message": f"Your Tweet text is longer than {LIMIT} characters."}],
                                   "title": "Invalid Request",
                                   "detail": "One or more parameters to your request was invalid.",
                                   "type": "https://api.twitter.com/2/problems/invalid-request"})
            if any(p["text"] == text for p in self.posts):
                return self.error(403, "You are not allowed to create a Tweet with duplicate content.")
            tweet = {"id": str(next(self._ids)), "text": text}
            self.posts.append(tweet)
            return self._ok({"data": {**tweet, "edit_history_tweet_ids": [tweet["id"]]}}, status=201)
        return self.error(404, None)

    def _ok(self, body, status: int = 200) -> Reply:
        return Reply(status, body, self.rate_limit_headers(None, remaining=99))

    def error(self, status: int, message: str | None) -> Reply:
        title = REASONS.get(status, "Error")
        return Reply(status, {"title": title, "detail": message or title, "type": "about:blank",
                              "status": status}, self.rate_limit_headers(None, remaining=0 if status == 429 else 99))

    def rate_limit_headers(self, retry_after: float | None, remaining: int = 0) -> dict[str, str]:
        reset = int(time.time() + (retry_after if retry_after is not None else 900))
        return {"x-rate-limit-limit": "100", "x-rate-limit-remaining": str(remaining),
                "x-rate-limit-reset": str(reset)}
