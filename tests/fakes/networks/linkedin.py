"""A loopback LinkedIn: the Posts API (POST /rest/posts → 201 with x-restli-id), /v2/userinfo, the
Images API (initializeUpload → PUT → urn:li:image), organization roles, and OAuth.

Errors are LinkedIn's `{"status", "serviceErrorCode", "code", "message"}`; a missing
LinkedIn-Version header is a 426, a repeated commentary a 422 "duplicate" naming the first post.
A 429 carries no Retry-After: LinkedIn's daily limits reset at 00:00 UTC. /v2/userinfo needs the
OpenID scopes, which a Community Management (page) token does not have: `page_token` gets a 403 there.
"""

from __future__ import annotations

import itertools

from tests.fakes.networks import REASONS, FakeNetwork, OAuthServer, Reply, Request

LIMIT = 3000
CODES = {400: "BAD_REQUEST", 401: "INVALID_ACCESS_TOKEN", 403: "ACCESS_DENIED", 422: "UNPROCESSABLE_ENTITY",
         426: "NONEXISTENT_VERSION", 429: "TOO_MANY_REQUESTS", 500: "INTERNAL_SERVER_ERROR",
         503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT"}


class FakeLinkedIn(FakeNetwork):
    network = "linkedin"

    def __init__(self, *, token: str = "linkedin-token", sub: str = "Ab3xYz09", page_token: str = "page-token",
                 roles: dict[str, str] | None = None):
        super().__init__()
        self.token, self.sub, self.page_token = token, sub, page_token
        self.roles = roles if roles is not None else {"urn:li:organization:2414183": "ADMINISTRATOR"}
        self.oauth = OAuthServer(client_id="li-client", client_secret="li-secret", ttl=60 * 86400, refresh=False)
        self.images: dict[str, dict] = {}  # urn → {"owner", "data", "mime"}
        self.uploads = 0
        self._ids = itertools.count(7400000000000000001)
        self._image_ids = itertools.count(1)

    def is_write(self, request: Request) -> bool:
        return request.method == "POST" and request.path == "/rest/posts"

    def answer(self, request: Request) -> Reply:
        if request.path == "/oauth/v2/authorization":
            return self.oauth.authorize(request)
        if request.path == "/oauth/v2/accessToken":
            return self.oauth.token(request)
        if request.method == "PUT" and request.path.startswith("/upload/"):
            return self._put(request)
        page = request.bearer == self.page_token
        if not (page or request.bearer == self.token or self.oauth.valid(request.bearer)):
            return self.error(401, "Invalid access token")
        if request.method == "GET" and request.path == "/rest/organizationAcls":
            if request.query.get("q") != "roleAssignee":
                return self.error(400, "Invalid finder")
            return Reply(200, {"elements": [{"organization": org, "role": role, "state": "APPROVED",
                                             "roleAssignee": f"urn:li:person:{self.sub}"}
                                            for org, role in self.roles.items()], "paging": {"count": 10}})
        if request.method == "POST" and request.path == "/rest/images" and request.query.get("action") == "initializeUpload":
            owner = ((request.json or {}).get("initializeUploadRequest") or {}).get("owner", "")
            if not owner.startswith(("urn:li:person:", "urn:li:organization:")):
                return self.error(422, "/initializeUploadRequest/owner :: is not a valid urn")
            urn = f"urn:li:image:C4E10AQ{next(self._image_ids):08d}"
            self.images[urn] = {"owner": owner, "data": None, "mime": None}
            return Reply(200, {"value": {"uploadUrlExpiresAt": 1790000000000, "image": urn,
                                         "uploadUrl": f"{self.base_url}/upload/{urn}"}})
        if request.method == "GET" and request.path == "/v2/userinfo":
            if page:
                return self.error(403, "Not enough permissions to access: userinfo.GET.NO_VERSION")
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
        content = body.get("content") or {}
        images = ([content["media"]] if "media" in content else
                  (content.get("multiImage") or {}).get("images", []))
        for image in images:
            stored = self.images.get(image.get("id"))
            if stored is None or stored["data"] is None:
                return self.error(422, f"/content/media/id :: {image.get('id')} is not an uploaded image")
        if "article" in content and not str(content["article"].get("source", "")).startswith("http"):
            return self.error(422, "/content/article/source :: must be a URL")
        urn = f"urn:li:share:{next(self._ids)}"
        self.posts.append({"id": urn, **body})
        return Reply(201, None, {"x-restli-id": urn, "x-linkedin-id": urn})

    def _put(self, request: Request) -> Reply:
        urn = request.path.removeprefix("/upload/")
        if urn not in self.images:
            return Reply(404, None)
        self.uploads += 1
        self.images[urn].update(data=request.body, mime=request.headers.get("content-type"))
        return Reply(201, None)

    def rate_limit_headers(self, retry_after: float | None) -> dict[str, str]:
        return {}  # LinkedIn says nothing about when: the daily window resets at 00:00 UTC

    def error(self, status: int, message: str | None) -> Reply:
        text = message or {429: "Resource level throttle APPLICATION DAY limit for calls to this resource "
                                "is reached."}.get(status, REASONS.get(status, "Error"))
        return Reply(status, {"status": status, "serviceErrorCode": 100 if status != 401 else 65600,
                              "code": CODES.get(status, "ERROR"), "message": text})
