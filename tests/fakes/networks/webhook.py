"""A loopback webhook receiver that does what Plume asks of one: verify the signature, dedupe the key."""

from __future__ import annotations

import hashlib
import hmac
import itertools

from tests.fakes.networks import REASONS, FakeNetwork, Reply, Request


class FakeWebhook(FakeNetwork):
    network = "webhook"

    def __init__(self, *, secret: str = "webhook-secret", answers_pings: bool = True):
        super().__init__()
        self.secret = secret
        self.answers_pings = answers_pings
        self.pings = 0
        self.keys: dict[str, dict] = {}
        self._ids = itertools.count(1)

    def is_write(self, request: Request) -> bool:
        return request.method == "POST"

    def answer(self, request: Request) -> Reply:
        expected = "sha256=" + hmac.new(self.secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-plume-signature", "")):
            return self.error(401, "bad signature")
        if request.headers.get("x-plume-event") == "ping":  # a check: verified, nothing published
            if not self.answers_pings:
                return self.error(404, "no such route")
            self.pings += 1
            return Reply(200, {"ok": True})
        key = request.headers.get("idempotency-key")
        if not key:
            return self.error(400, "Idempotency-Key is required")
        if key not in self.keys:
            delivery = {"id": f"delivery-{next(self._ids)}", "url": f"{self.base_url}/deliveries/{key}"}
            self.keys[key] = delivery
            self.posts.append({**(request.json or {}), **delivery})
        return Reply(200, self.keys[key])

    def error(self, status: int, message: str | None) -> Reply:
        return Reply(status, {"error": message or REASONS.get(status, "Error")})
