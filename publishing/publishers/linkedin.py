"""LinkedIn through the Posts API (POST /rest/posts); the new post's URN comes back in x-restli-id.

LinkedIn has no idempotency key and no way to find a post by anything we chose, so a 5xx or a
timeout after sending is an unknown outcome and `lookup` cannot tell: a human checks the page.
"""

from __future__ import annotations

import re
import threading

from core.domain import Post
from publishing.publishers import http
from publishing.publishers.base import SHORT, NotSent, OutcomeUnknown, Published, Timeouts

API_VERSION = "202611"  # LinkedIn-Version (YYYYMM): each is served for about a year; `version:` overrides
# "little text" reserved characters: unescaped, LinkedIn silently truncates the commentary at them.
RESERVED = re.compile(r"([\\|{}@\[\]()<>*_~#])")
HASHTAG = re.compile(r"(?<![\w#])#(\w+)")


def commentary(text: str) -> str:
    """Escape the little-text format, keeping #tags as real hashtags."""
    parts, last = [], 0
    for match in HASHTAG.finditer(text):
        parts.append(RESERVED.sub(r"\\\1", text[last:match.start()]))
        parts.append("{hashtag|\\#|" + match.group(1) + "}")
        last = match.end()
    parts.append(RESERVED.sub(r"\\\1", text[last:]))
    return "".join(parts)


class LinkedInPublisher:
    kind = "linkedin"
    network = "linkedin"

    def __init__(self, *, name: str, token: str, author: str | None = None,
                 base_url: str = "https://api.linkedin.com", app_url: str = "https://www.linkedin.com",
                 version: str = API_VERSION, timeouts: Timeouts = SHORT, token_env: str | None = None):
        self.name, self.base_url, self.app_url = name, base_url.rstrip("/"), app_url.rstrip("/")
        self.version, self.timeouts = version, timeouts
        self._token, self._token_env = token, token_env
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
        with http.client(self.timeouts) as client:
            response = http.send(client, "POST", f"{self.base_url}/rest/posts", json=body,
                                 headers=self._headers(), idempotent=False, **self._errors())
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if not urn:
            raise OutcomeUnknown("LinkedIn accepted the post but did not say its id (no x-restli-id)")
        return Published(id=urn, url=f"{self.app_url}/feed/update/{urn}/")

    def lookup(self, post: Post, *, key: str) -> Published | None:
        raise OutcomeUnknown(f"LinkedIn cannot be asked whether post {post.id} went out; "
                             f"check the page of channel {self.name}")

    def check(self) -> str:
        with http.client(self.timeouts) as client:
            me = http.send(client, "GET", f"{self.base_url}/v2/userinfo", headers=self._headers(),
                           idempotent=True, **self._errors()).json()
        who = me.get("name") or me.get("email") or me.get("sub")
        return f"{who} as {self._author or 'urn:li:person:' + str(me.get('sub'))}"

    def _author_urn(self) -> str:
        """The configured author (a page: urn:li:organization:…), else the token's own member."""
        with self._lock:
            if self._author is None:
                with http.client(self.timeouts) as client:
                    me = http.send(client, "GET", f"{self.base_url}/v2/userinfo", headers=self._headers(),
                                   idempotent=True, **self._errors()).json()
                self._author = f"urn:li:person:{me['sub']}"
            return self._author

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", "LinkedIn-Version": self.version,
                "X-Restli-Protocol-Version": "2.0.0"}

    def _errors(self) -> dict:
        return {"network": "LinkedIn", "channel": self.name, "env": self._token_env,
                "error_text": lambda response: http.json_field(response, ("message",), ("error_description",))}
