"""X through API v2 (POST /2/tweets) with an OAuth 2.0 user-context bearer token.

X has no idempotency key, so a 5xx or a timeout after sending is an unknown outcome and `lookup`
cannot tell. X answers 403 both for a token without tweet.write and for a duplicate post; only
the first is a credentials problem.
"""

from __future__ import annotations

from core.domain import Post
from publishing.publishers import http
from publishing.publishers.base import SHORT, OutcomeUnknown, Published, Timeouts


class XPublisher:
    kind = "x"
    network = "x"

    def __init__(self, *, name: str, token: str, base_url: str = "https://api.x.com",
                 app_url: str = "https://x.com", timeouts: Timeouts = SHORT,
                 token_env: str | None = None):
        self.name, self.base_url, self.app_url = name, base_url.rstrip("/"), app_url.rstrip("/")
        self.timeouts, self._token, self._token_env = timeouts, token, token_env

    def publish(self, post: Post, *, key: str) -> Published:
        with http.client(self.timeouts) as client:
            response = http.send(client, "POST", f"{self.base_url}/2/tweets", json={"text": post.text},
                                 headers=self._headers(), idempotent=False, **self._errors())
        try:
            tweet_id = str(response.json()["data"]["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise OutcomeUnknown("X accepted the post but its answer had no id") from exc
        return Published(id=tweet_id, url=f"{self.app_url}/i/web/status/{tweet_id}")

    def lookup(self, post: Post, *, key: str) -> Published | None:
        raise OutcomeUnknown(f"X cannot be asked whether post {post.id} went out; "
                             f"check the timeline of channel {self.name}")

    def check(self) -> str:
        with http.client(self.timeouts) as client:
            me = http.send(client, "GET", f"{self.base_url}/2/users/me", headers=self._headers(),
                           idempotent=True, **self._errors()).json()
        return f"@{me['data']['username']}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def _errors(self) -> dict:
        return {"network": "X", "channel": self.name, "env": self._token_env,
                "error_text": _error_text, "credentials_refused": _credentials_refused}


def _error_text(response) -> str:
    # v2 problems: {"detail": …} or {"errors": [{"message": …}], "detail": "One or more parameters…"}
    return http.json_field(response, ("errors", "message"), ("detail",), ("title",))


def _credentials_refused(response) -> bool:
    if response.status_code == 401:
        return True
    return response.status_code == 403 and "duplicate" not in _error_text(response).lower()
