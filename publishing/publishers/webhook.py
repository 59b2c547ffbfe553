"""A signed JSON POST to any URL (Zapier, Make, an in-house service) with an idempotency key.

The receiver must verify `X-Plume-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with the
shared secret and must treat a repeated `Idempotency-Key` as the same post (answer 2xx, publish
nothing new): that is what makes a retry after a 5xx safe. It may answer `{"id": …, "url": …}`.
Images travel in the body: `media` is a list of {sha256, filename, mime, size, width, height, alt,
data_base64}; `link_card` is {url, title, description, image} or null.

`plume channels test` sends a signed ping (`X-Plume-Event: ping`, body `{"event": "ping", …}`, no
`text`): a receiver answers it 2xx once the signature verifies, and publishes nothing. A receiver
that does not know pings (404/405) is reached, but the secret cannot be verified: the test says so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

from core.domain import Post
from publishing.publishers import http
from publishing.publishers.base import SHORT, NotSent, OutcomeUnknown, Published, Timeouts

SIGNATURE_HEADER = "X-Plume-Signature"
EVENT_HEADER = "X-Plume-Event"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver runs (constant-time compare)."""
    return hmac.compare_digest(sign(secret, body), signature or "")


class WebhookPublisher:
    kind = "webhook"

    def __init__(self, *, name: str, url: str, secret: str, network: str = "*",
                 timeouts: Timeouts = SHORT, secret_env: str | None = None, uploads=None):
        self.name, self.url, self.network = name, url, network
        self._secret, self._secret_env, self.timeouts = secret, secret_env, timeouts
        self.uploads = uploads

    def publish(self, post: Post, *, key: str) -> Published:
        body = json.dumps({
            "key": key,
            "post_id": post.id,
            "network": post.network,
            "locale": post.locale,
            "text": post.text,
            "approved_by": post.approved_by,
            "approved_hash": post.approved_hash,
            "scheduled_for": post.run_at,
            "sent_at": datetime.now(UTC).isoformat(),  # lets a receiver refuse stale replays
            "channel": self.name,
            "media": [{**media, "data_base64": base64.b64encode(self._read(media)).decode("ascii")}
                      for media in post.media],
            "link_card": post.link_card,
        }, ensure_ascii=False).encode("utf-8")
        response = self._post(body, event="post", key=key)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        return Published(id=str(answer.get("id") or key), url=answer.get("url"))

    def _read(self, media: dict) -> bytes:
        if self.uploads is None:
            from publishing.uploads import without_store
            raise without_store(self.name)
        return self.uploads.read(media)

    def lookup(self, post: Post, *, key: str) -> Published | None:
        raise OutcomeUnknown(f"the webhook of channel {self.name} cannot say whether it received "
                             "the post; check the receiving system")

    def check(self) -> str:
        """A signed ping: the receiver checks the signature and answers without publishing anything."""
        body = json.dumps({"event": "ping", "channel": self.name, "sent_at": datetime.now(UTC).isoformat()}).encode()
        try:
            self._post(body, event="ping", key=f"ping-{datetime.now(UTC).timestamp():.0f}")
        except NotSent as refused:
            if getattr(refused, "status", None) not in (404, 405, 501):
                raise  # a refused secret, or nobody listening: the check failed, and says why
            raise OutcomeUnknown(f"the receiver at {http.origin(self.url)} answered, but not to a ping "
                                 f"({refused}), so Plume cannot verify the shared secret; make it answer "
                                 f"{EVENT_HEADER}: ping with 2xx") from refused
        return f"signed POSTs to {http.origin(self.url)}/… (the receiver verified a signed ping)"

    def _post(self, body: bytes, *, event: str, key: str):
        headers = {"Content-Type": "application/json", "Idempotency-Key": key, EVENT_HEADER: event,
                   SIGNATURE_HEADER: sign(self._secret, body)}
        with http.client(self.timeouts) as client:
            return http.send(client, "POST", self.url, content=body, headers=headers, network="webhook",
                             channel=self.name, idempotent=True, error_text=_error_text, env=self._secret_env,
                             credential="shared secret", renew="agree a new shared secret with the receiver")


def _error_text(response) -> str:
    return http.json_field(response, ("error",), ("message",), ("detail",))
