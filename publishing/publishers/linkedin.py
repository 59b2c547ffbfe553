"""LinkedIn through the Posts API (POST /rest/posts); the new post's URN comes back in x-restli-id.

LinkedIn has no idempotency key and no way to find a post by anything we chose, so a 5xx or a
timeout after sending is an unknown outcome and `lookup` cannot tell: a human checks the page.
Images go through the Images API first (initializeUpload → PUT → urn:li:image), kept per post so a
resend reuses them; a post with a link card and no image is sent as an article.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from urllib.parse import quote

import httpx

from core import platforms
from core.domain import Media, Post
from publishing.publishers import http
from publishing.publishers.base import (
    SHORT,
    NotSent,
    OutcomeUnknown,
    Published,
    Timeouts,
    next_utc_midnight,
    retry_after,
)
from publishing.tokens import Bearer

API_VERSION = "202611"  # LinkedIn-Version (YYYYMM): each is served for about a year; `version:` overrides
# "little text" reserved characters: unescaped, LinkedIn silently truncates the commentary at them
# (learn.microsoft.com/linkedin/marketing/community-management/shares/little-text-format).
RESERVED = re.compile(r"([\\|{}@\[\]()<>*_~#])")
HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
DUPLICATE = re.compile(r"urn:li:(?:share|ugcPost|activity):\d+")
IMAGE_TTL = timedelta(hours=24)  # an image not used in a post is not kept by LinkedIn for long
POSTING_ROLES = {"ADMINISTRATOR", "CONTENT_ADMIN", "DIRECT_SPONSORED_CONTENT_POSTER"}


def commentary(text: str) -> str:
    """Escape the little-text format, keeping #tags as real hashtags. Inside a link the reserved
    characters are only backslash-escaped: a hashtag template there would break the link."""
    links = platforms.link_spans(text)
    parts, last = [], 0
    for match in HASHTAG.finditer(text):
        if any(start <= match.start() < end for start, end in links):
            continue
        parts.append(RESERVED.sub(r"\\\1", text[last:match.start()]))
        parts.append("{hashtag|\\#|" + match.group(1) + "}")
        last = match.end()
    parts.append(RESERVED.sub(r"\\\1", text[last:]))
    return "".join(parts)


class LinkedInPublisher:
    kind = "linkedin"
    network = "linkedin"

    def __init__(self, *, name: str, token: str | None = None, bearer: Bearer | None = None,
                 author: str | None = None, base_url: str = "https://api.linkedin.com",
                 app_url: str = "https://www.linkedin.com", version: str = API_VERSION,
                 timeouts: Timeouts = SHORT, token_env: str | None = None, uploads=None):
        self.name, self.base_url, self.app_url = name, base_url.rstrip("/"), app_url.rstrip("/")
        self.version, self.timeouts, self.uploads = version, timeouts, uploads
        self._bearer = bearer or Bearer(channel=name, token=token)
        self._token_env = token_env
        self._author, self._lock = author, threading.Lock()

    def publish(self, post: Post, *, key: str) -> Published:
        try:
            author = self._author_urn()
        except OutcomeUnknown as silent:  # only the profile was asked for: no post can exist yet
            raise NotSent(f"LinkedIn did not say who channel {self.name} posts as ({silent}); nothing was posted",
                          retryable=True) from silent
        body = {
            "author": author,
            "commentary": commentary(post.text),
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if content := self._content(post, key=key, author=author):
            body["content"] = content
        response = self._send("POST", "/rest/posts", json=body, idempotent=False)
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if not urn:
            raise OutcomeUnknown("LinkedIn accepted the post but did not say its id (no x-restli-id)")
        return Published(id=urn, url=f"{self.app_url}/feed/update/{urn}/")

    def lookup(self, post: Post, *, key: str) -> Published | None:
        raise OutcomeUnknown(f"LinkedIn cannot be asked whether post {post.id} went out; "
                             f"check the page of channel {self.name}")

    def check(self) -> str:
        """A page (organization) channel asks which pages the member may post for: /v2/userinfo needs
        OpenID scopes a Community Management app cannot have."""
        if self._author and self._author.startswith("urn:li:organization:"):
            return self._check_page(self._author)
        me = self._send("GET", "/v2/userinfo", idempotent=True).json()
        who = me.get("name") or me.get("email") or me.get("sub")
        return f"{who} as {self._author or 'urn:li:person:' + str(me.get('sub'))}"

    def _check_page(self, page: str) -> str:
        # learn.microsoft.com/linkedin/marketing/community-management/organizations/organization-access-control-by-role
        try:
            answer = self._send("GET", "/rest/organizationAcls?q=roleAssignee&state=APPROVED", idempotent=True).json()
        except NotSent as refused:
            if refused.status == 403:  # the token works; it just may not list page roles
                return (f"{page} (token accepted; posting rights not verified: add rw_organization_admin "
                        "to list the page's roles)")
            raise
        roles = {acl.get("role") for acl in answer.get("elements", []) if acl.get("organization") == page}
        if not roles & POSTING_ROLES:
            raise NotSent(f"the token of channel {self.name} belongs to a member who may not post for {page} "
                          f"(roles: {', '.join(sorted(r for r in roles if r)) or 'none'}); ask a page admin for "
                          "the Content admin role", retryable=False)
        return f"{page} as {', '.join(sorted(roles & POSTING_ROLES)).lower().replace('_', ' ')}"

    def _content(self, post: Post, *, key: str, author: str) -> dict | None:
        if post.media:
            if self.uploads is None:
                from publishing.uploads import without_store
                raise without_store(self.name)
            images = self.uploads.ensure(key=key, channel=self.name, media=post.media,
                                         upload=lambda media, data: self._upload(media, data, author))
            items = [{"id": remote["urn"], "altText": media.alt} for media, remote in images]
            return {"media": items[0]} if len(items) == 1 else {"multiImage": {"images": items}}
        card = post.link_card
        if card and card.get("url"):  # an article: LinkedIn shows the title and thumbnail we give it
            article = {"source": card["url"], "title": (card.get("title") or card["url"])[:400]}
            if card.get("description"):
                article["description"] = card["description"][:4086]
            if card.get("image") and self.uploads is not None:
                thumb = self.uploads.ensure(key=key, channel=self.name, media=[card["image"]],
                                            upload=lambda media, data: self._upload(media, data, author))
                article["thumbnail"] = thumb[0][1]["urn"]
            return {"article": article}
        return None

    def _upload(self, media: Media, data: bytes, author: str) -> tuple[dict, timedelta]:
        """Images API: initializeUpload names the image and where to PUT its bytes."""
        answer = self._send("POST", "/rest/images?action=initializeUpload", idempotent=False,
                            json={"initializeUploadRequest": {"owner": author}}).json()
        try:
            upload_url, urn = answer["value"]["uploadUrl"], answer["value"]["image"]
        except (KeyError, TypeError) as exc:
            raise NotSent("LinkedIn did not give an upload URL for the image; nothing was posted",
                          retryable=True) from exc
        with http.client(self.timeouts) as client:
            http.send(client, "PUT", upload_url, content=data, headers={**self._headers(), "Content-Type": media.mime},
                      idempotent=True, **self._errors())
        return {"urn": urn}, IMAGE_TTL

    def _author_urn(self) -> str:
        """The configured author (a page: urn:li:organization:…), else the token's own member."""
        with self._lock:
            if self._author is None:
                me = self._send("GET", "/v2/userinfo", idempotent=True).json()
                self._author = f"urn:li:person:{me['sub']}"
            return self._author

    def _send(self, method: str, path: str, *, idempotent: bool, **kwargs) -> httpx.Response:
        with http.client(self.timeouts) as client:
            try:
                return http.send(client, method, f"{self.base_url}{path}", headers=self._headers(),
                                 idempotent=idempotent, **self._errors(), **kwargs)
            except NotSent as refused:
                if refused.status != 401 or (token := self._bearer.renewed(self._bearer.current())) is None:
                    raise
            return http.send(client, method, f"{self.base_url}{path}",
                             headers={**self._headers(), "Authorization": f"Bearer {token}"},
                             idempotent=idempotent, **self._errors(), **kwargs)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._bearer.current()}", "LinkedIn-Version": self.version,
                "X-Restli-Protocol-Version": "2.0.0"}

    def _errors(self) -> dict:
        return {"network": "LinkedIn", "channel": self.name, "env": self._token_env, "error_text": _error_text,
                "wait": _wait}


def _error_text(response) -> str:
    detail = http.json_field(response, ("message",), ("error_description",))
    if response.status_code == 422 and "duplicate" in detail.lower():
        # "Content is a duplicate of urn:li:share:…": name the post that already says this.
        found = DUPLICATE.search(detail)
        if found:
            return f"{detail} — the same text is already on the page: {quote(found.group(0), safe=':')}"
    return detail


def _wait(response) -> tuple[float, str]:
    """LinkedIn's limits are per day and reset at 00:00 UTC, without Retry-After
    (learn.microsoft.com/linkedin/shared/api-guide/concepts/rate-limits)."""
    given = retry_after(response.headers) if response.headers.get("retry-after") else None
    return (given if given is not None else next_utc_midnight()), "daily limit (resets at 00:00 UTC)"
