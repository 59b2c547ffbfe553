"""A loopback Bluesky PDS: sessions with real-looking JWTs, createRecord with an explicit rkey, getRecord.

Like the real PDS: XRPC errors are `{"error": Name, "message": …}`, answers carry
RateLimit-Limit/Remaining/Reset (epoch seconds)/Policy, a record key for app.bsky.feed.post must
be a TID, and creating a record whose key already exists fails with a 500
(bluesky-social/atproto#3718).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from datetime import UTC, datetime

from tests.fakes.networks import FakeNetwork, Reply, Request

TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
LIMIT = 300
POST = "app.bsky.feed.post"


def jwt(payload: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(payload)}.c2lnbmF0dXJl"


class FakeBluesky(FakeNetwork):
    network = "bluesky"

    def __init__(self, *, handle: str = "tidewren.bsky.social", password: str = "app-pass-word",
                 did: str = "did:plc:tidewren2345abcdefghijkl"):
        super().__init__()
        self.handle, self.password, self.did = handle, password, did
        self.records: dict[str, dict] = {}  # rkey → {"uri", "cid", "value"}
        self.sessions = 0
        self._tokens: set[str] = set()
        self._expired: set[str] = set()

    def is_write(self, request: Request) -> bool:
        return request.path == "/xrpc/com.atproto.repo.createRecord"

    def answer(self, request: Request) -> Reply:
        method = request.path.removeprefix("/xrpc/")
        if method == "com.atproto.server.createSession":
            body = request.json or {}
            if body.get("identifier") not in (self.handle, self.did) or body.get("password") != self.password:
                return self._xrpc(401, "AuthenticationRequired", "Invalid identifier or password")
            return self._session()
        if method == "com.atproto.server.refreshSession":
            if request.bearer in self._tokens:
                return self._session()
            return self._xrpc(400, "ExpiredToken", "Token has expired")
        if request.bearer in self._expired:
            return self._xrpc(400, "ExpiredToken", "Token has expired")
        if request.bearer not in self._tokens:
            return self._xrpc(401, "AuthenticationRequired", "Authentication Required")
        if method == "com.atproto.server.getSession":
            return self._ok({"did": self.did, "handle": self.handle, "active": True})
        if method == "com.atproto.repo.createRecord":
            return self._create(request.json or {})
        if method == "com.atproto.repo.getRecord":
            stored = self.records.get(request.query.get("rkey", ""))
            if request.query.get("repo") not in (self.did, self.handle) or stored is None:
                uri = f"at://{request.query.get('repo')}/{request.query.get('collection')}/{request.query.get('rkey')}"
                return self._xrpc(400, "RecordNotFound", f"Could not locate record: {uri}")
            return self._ok(stored)
        return self._xrpc(501, "MethodNotImplemented", "Method Not Implemented")

    def _create(self, body: dict) -> Reply:
        if body.get("repo") not in (self.did, self.handle):
            return self._xrpc(400, "InvalidRequest", f"Could not find repo: {body.get('repo')}")
        record, rkey = body.get("record") or {}, body.get("rkey")
        if body.get("collection") == POST and rkey is not None and not TID.match(rkey):
            return self._xrpc(400, "InvalidRequest", f"Invalid record key for {POST}: must be a valid TID")
        if len(record.get("text", "")) > LIMIT:
            return self._xrpc(400, "InvalidRequest",
                              f"Invalid {POST} record: Record/text must not be longer than {LIMIT} graphemes")
        if rkey in self.records:
            return self._xrpc(500, "InternalServerError", "Internal Server Error")
        rkey = rkey or format(int(time.time() * 1e6), "x")
        uri = f"at://{self.did}/{body.get('collection')}/{rkey}"
        cid = "bafyrei" + hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:52]
        self.records[rkey] = {"uri": uri, "cid": cid, "value": record}
        self.posts.append({"uri": uri, "rkey": rkey, **record})
        return self._ok({"uri": uri, "cid": cid, "commit": {"cid": cid, "rev": "3l" + rkey[2:]},
                         "validationStatus": "valid"})

    def _session(self) -> Reply:
        self.sessions += 1
        now = int(time.time())
        access = jwt({"scope": "com.atproto.appPass", "sub": self.did, "iat": now, "exp": now + 7200,
                      "n": self.sessions})
        refresh = jwt({"scope": "com.atproto.refresh", "sub": self.did, "iat": now, "exp": now + 86400 * 60,
                       "jti": f"r{self.sessions}"})
        self._tokens |= {access, refresh}
        return self._ok({"did": self.did, "handle": self.handle, "accessJwt": access, "refreshJwt": refresh,
                         "active": True, "email": "team@tidewren.example"})

    def expire_sessions(self) -> None:
        """Every issued token expires: the client must log in again."""
        self._expired |= self._tokens
        self._tokens.clear()

    def _ok(self, body) -> Reply:
        return Reply(200, body, self.rate_limit_headers(None, remaining=2999))

    def _xrpc(self, status: int, name: str, message: str) -> Reply:
        return Reply(status, {"error": name, "message": message}, self.rate_limit_headers(None, remaining=2999))

    def error(self, status: int, message: str | None) -> Reply:
        name, default = {400: ("InvalidRequest", "Input/text is invalid"),
                         401: ("AuthenticationRequired", "Authentication Required"),
                         429: ("RateLimitExceeded", "Rate Limit Exceeded"),
                         502: ("UpstreamFailure", "Upstream Failure")}.get(
            status, ("InternalServerError", "Internal Server Error"))
        return self._xrpc(status, name, message or default)

    def rate_limit_headers(self, retry_after: float | None, remaining: int = 0) -> dict[str, str]:
        reset = int(time.time() + (retry_after if retry_after is not None else 300))
        headers = {"RateLimit-Limit": "5000", "RateLimit-Remaining": str(remaining),
                   "RateLimit-Reset": str(reset), "RateLimit-Policy": "5000;w=3600"}
        if retry_after is not None:
            headers["Retry-After"] = str(int(retry_after))
        return headers

    @staticmethod
    def created_at(record: dict) -> datetime:
        return datetime.fromisoformat(record["createdAt"].replace("Z", "+00:00")).astimezone(UTC)
