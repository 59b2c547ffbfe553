"""A loopback LinkedIn: the Posts API (POST /rest/posts → 201 with x-restli-id) and /v2/userinfo.

Errors are LinkedIn's `{"status", "serviceErrorCode", "code", "message"}`; a missing
LinkedIn-Version header is a 426, a repeated commentary a 422 "duplicate".
"""

from __future__ import annotations

import itertools

from tests.fakes.networks import REASONS, FakeNetwork, Reply, Request

LIMIT = 3000
CODES = {400: "BAD_REQUEST", 401: "INVALID_ACCESS_TOKEN", 403: "ACCESS_DENIED", 422: "UNPROCESSABLE_ENTITY",
         426: "NONEXISTENT_VERSION", 429: "TOO_MANY_REQUESTS", 500: "INTERNAL_SERVER_ERROR",
         503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT"}


class FakeLinkedIn(FakeNetwork):
    network = "linkedin"

    def __init__(self, *, token: str = "linkedin-token", sub: str = "Ab3xYz09"):
        super().__init__()
        self.token, self.sub = token, sub
        self._ids = itertools.count(7400000000000000001)

    def is_write(self, request: Request) -> bool:
        return request.method == "POST" and request.path == "/rest/posts"

    def answer(self, request: Request) -> Reply:
        if request.bearer != self.token:
            return self.error(401, "Invalid access token")
        if request.method == "GET" and request.path == "/v2/userinfo":
            return Reply(200, {"sub": self.sub, "name": "Mia Tidewren", "given_name": "Mia",
                               "family_name": "Tidewren", "email": "mia@tidewren.example", "email_verified": True})
        if self.is_write(request):
            return self._post(request)
        return self.error(404, f"No virtual resource found for {request.path}")

    def _post(self, request: Request) -> Reply:
        version = request.headers.get("linkedin-version", "")
        if not version.isdigit() or len(version) != 6:
            return self.error(426, f"Requested version {version} is not active")
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            return self.error(400, "Rest.li protocol version 2.0.0 is required")
        body = request.json or {}
        if not str(body.get("author", "")).startswith(("urn:li:person:", "urn:li:organization:")):
            return self.error(422, "/author :: is not a valid person or organization urn")
        text = body.get("commentary", "")
        if len(text) > LIMIT:
            return self.error(422, f"/commentary :: length {len(text)} exceeds maximum length {LIMIT}")
        for earlier in self.posts:
            if earlier["commentary"] == text and earlier["author"] == body["author"]:
                return self.error(422, f"Content is a duplicate of {earlier['id']}")
        urn = f"urn:li:share:{next(self._ids)}"
        self.posts.append({"id": urn, **body})
        return Reply(201, None, {"x-restli-id": urn, "x-linkedin-id": urn})

    def error(self, status: int, message: str | None) -> Reply:
        text = message or {429: "Resource level throttle APPLICATION DAY limit for calls to this resource "
                                "is reached."}.get(status, REASONS.get(status, "Error"))
        return Reply(status, {"status": status, "serviceErrorCode": 100 if status != 401 else 65600,
                              "code": CODES.get(status, "ERROR"), "message": text})
