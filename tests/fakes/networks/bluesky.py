"""A loopback Bluesky PDS: sessions with real-looking JWTs, createRecord with an explicit rkey, getRecord.

Like the real PDS: XRPC errors are `{"error": Name, "message": …}`, answers carry
RateLimit-Limit/Remaining/Reset (epoch seconds)/Policy, a record key for app.bsky.feed.post must
be a TID, and creating a record whose key already exists fails with a 500
(bluesky-social/atproto#3718) — or, with `duplicate_status=400`, with the explicit error that
bluesky-social/atproto#4728 introduces. Blobs (uploadBlob ≤ 1,000,000 bytes per image), handle
resolution, and the post record's schema (facet byte ranges, embeds) are checked like the PDS does.
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
        self.blobs: dict[str, dict] = {}  # cid → {"data", "mime"}
        self.uploads = 0
        self.handles: dict[str, str] = {handle: did}  # handle → DID, for resolveHandle
        self.duplicate_status = 500
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
        if method == "com.atproto.repo.uploadBlob":
            return self._blob(request)
        if method == "com.atproto.identity.resolveHandle":
            did = self.handles.get(request.query.get("handle", ""))
            if did is None:
                return self._xrpc(400, "InvalidRequest", "Unable to resolve handle")
            return self._ok({"did": did})
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
        if problem := self._invalid(record):
            return self._xrpc(400, "InvalidRequest", f"Invalid {POST} record: {problem}")
        if rkey in self.records:
            if self.duplicate_status >= 500:
                return self._xrpc(500, "InternalServerError", "Internal Server Error")
            return self._xrpc(self.duplicate_status, "RecordAlreadyExists",
                              f"Record already exists: at://{self.did}/{POST}/{rkey}")
        rkey = rkey or format(int(time.time() * 1e6), "x")
        uri = f"at://{self.did}/{body.get('collection')}/{rkey}"
        cid = "bafyrei" + hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:52]
        self.records[rkey] = {"uri": uri, "cid": cid, "value": record}
        self.posts.append({"uri": uri, "rkey": rkey, **record})
        return self._ok({"uri": uri, "cid": cid, "commit": {"cid": cid, "rev": "3l" + rkey[2:]},
                         "validationStatus": "valid"})

    def _blob(self, request: Request) -> Reply:
        mime = request.headers.get("content-type", "")
        if len(request.body) > 1_000_000 and mime.startswith("image/"):
            return self._xrpc(400, "BlobTooLarge", "This file is too large. It is 1.2MB but the maximum size is 976.56KB.")
        cid = "bafkrei" + hashlib.sha256(request.body).hexdigest()[:52]
        self.uploads += 1
        self.blobs[cid] = {"data": request.body, "mime": mime}
        return self._ok({"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(request.body)}})

    def _invalid(self, record: dict) -> str | None:
        """What the PDS's lexicon validation would refuse in an app.bsky.feed.post record."""
        size = len(record.get("text", "").encode())
        for facet in record.get("facets") or []:
            index = facet.get("index") or {}
            if not 0 <= index.get("byteStart", -1) < index.get("byteEnd", -1) <= size:
                return f"Record/facets has a byte range outside the text: {index}"
            for feature in facet.get("features") or []:
                kind = feature.get("$type", "")
                if kind.endswith("#mention") and not str(feature.get("did", "")).startswith("did:"):
                    return "Record/facets/features/did must be a valid did"
                if kind.endswith("#link") and not str(feature.get("uri", "")).startswith(("http://", "https://")):
                    return "Record/facets/features/uri must be a valid uri"
                if kind.endswith("#tag") and not 0 < len(feature.get("tag", "")) <= 640:
                    return "Record/facets/features/tag must not be empty or longer than 640"
        embed = record.get("embed")
        if embed is None:
            return None
        kind = embed.get("$type")
        if kind == "app.bsky.embed.images":
            images = embed.get("images") or []
            if not 0 < len(images) <= 4:
                return "Record/embed/images must hold 1 to 4 images"
            for image in images:
                if "alt" not in image:
                    return "Record/embed/images/0 must have the property \"alt\""
                if (image.get("image") or {}).get("ref", {}).get("$link") not in self.blobs:
                    return "Record/embed/images/0/image is not a blob this repo uploaded"
            return None
        if kind == "app.bsky.embed.external":
            external = embed.get("external") or {}
            if not {"uri", "title", "description"} <= set(external):
                return "Record/embed/external must have uri, title and description"
            thumb = external.get("thumb")
            if thumb is not None and thumb.get("ref", {}).get("$link") not in self.blobs:
                return "Record/embed/external/thumb is not a blob this repo uploaded"
            return None
        return f"Record/embed has an unknown type {kind}"

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
