"""Loopback fakes of the social networks' HTTP APIs, with knobs for the failures publishing must survive.

Each fake answers like the real API (status codes, error bodies in the network's own shape,
rate-limit headers) and records every post it stored in `posts`, so a test can assert "exactly
one post on the network". Knobs, all on the *write* call (the one that creates a post):

* ``fail(status, times=1, headers=None, message=None, after_store=False)`` — answer `status`
  in the network's error shape instead (before storing, or after storing with after_store=True).
* ``rate_limit(retry_after=…)`` — a 429 with the network's rate-limit headers.
* ``hang_after_store(seconds)`` — store the post, then sleep past the client's timeout.
* ``drop_after_store()`` — store the post, then close the connection without answering.
* ``stop()`` — shut the server down: the next call gets "connection refused".

`OAuthServer` adds an OAuth 2.0 authorization server (authorize redirect with PKCE, code
exchange, refresh with optional rotation, expiring access tokens) to a fake.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    query_string: str = ""

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    @property
    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}

    @property
    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:] if value.startswith("Bearer ") else None

    @property
    def parts(self) -> dict[str, tuple[str | None, str, bytes]]:
        """A multipart/form-data body: field name → (filename, content type, bytes)."""
        head = f"Content-Type: {self.headers.get('content-type', '')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + self.body)
        found = {}
        for part in message.iter_parts():
            found[part.get_param("name", header="content-disposition")] = (
                part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        return found


@dataclass
class Reply:
    status: int
    body: Any = None  # dict/list → JSON; bytes → sent as is; None → empty
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    status: int
    headers: dict[str, str]
    message: str | None
    after_store: bool
    reply: Reply | None = None


class FakeNetwork:
    """A ThreadingHTTPServer on 127.0.0.1 with fault knobs; subclasses implement `answer`."""

    network = "fake"

    def __init__(self):
        self.posts: list[dict] = []
        self.requests: list[Request] = []
        self.errors: list[BaseException] = []
        self._faults: list[Fault] = []
        self._hang = 0.0
        self._drop = False
        self._lock = threading.RLock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                url = urlsplit(self.path)
                request = Request(self.command, url.path, {k: v[-1] for k, v in parse_qs(url.query).items()},
                                  {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length),
                                  url.query)
                try:
                    reply = fake._dispatch(request)
                except Exception as exc:  # a fake bug must show up in the test, not kill the server
                    fake.errors.append(exc)
                    reply = Reply(500, {"error": f"fake crashed: {exc}"})
                self._send(reply)

            def _send(self, reply: Reply):
                if reply.status == DROP:
                    self.close_connection = True
                    return
                if isinstance(reply.body, bytes):
                    payload, kind = reply.body, "application/octet-stream"
                elif reply.body is None:
                    payload, kind = b"", None
                else:
                    payload, kind = json.dumps(reply.body).encode(), "application/json; charset=utf-8"
                try:
                    self.send_response(reply.status)
                    if kind:
                        self.send_header("Content-Type", kind)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): the post is stored all the same

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        self._running = True

    # -- knobs -----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail(self, status: int, *, times: int = 1, headers: dict | None = None, message: str | None = None,
             after_store: bool = False, reply: Reply | None = None) -> None:
        """The next write answers `status` (or exactly `reply`) instead."""
        with self._lock:
            self._faults += [Fault(status, dict(headers or {}), message, after_store, reply)] * times

    def rate_limit(self, *, retry_after: float | None = None, times: int = 1) -> None:
        self.fail(429, times=times, headers=self.rate_limit_headers(retry_after))

    def hang_after_store(self, seconds: float) -> None:
        self._hang = seconds

    def drop_after_store(self) -> None:
        self._drop = True

    def stop(self) -> None:
        if self._running:
            self._running = False
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- for subclasses --------------------------------------------------------------------
    def is_write(self, request: Request) -> bool:
        raise NotImplementedError

    def answer(self, request: Request) -> Reply:
        raise NotImplementedError

    def error(self, status: int, message: str | None) -> Reply:
        """An error reply in the network's own shape."""
        raise NotImplementedError

    def rate_limit_headers(self, retry_after: float | None) -> dict[str, str]:
        return {"Retry-After": str(int(retry_after))} if retry_after is not None else {}

    # -- dispatch --------------------------------------------------------------------------
    def _dispatch(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            write = self.is_write(request)
            fault = self._faults.pop(0) if write and self._faults else None
            hang, self._hang = (self._hang, 0.0) if write else (0.0, self._hang)
            drop, self._drop = (self._drop, False) if write else (False, self._drop)
            if fault and not fault.after_store:
                return self._fault_reply(fault)
            reply = self.answer(request)
        if fault:
            return self._fault_reply(fault)
        if hang:
            time.sleep(hang)
        return Reply(DROP) if drop else reply

    def _fault_reply(self, fault: Fault) -> Reply:
        reply = Reply(fault.reply.status, fault.reply.body, dict(fault.reply.headers)) if fault.reply else \
            self.error(fault.status, fault.message)
        reply.headers.update(fault.headers)
        return reply


DROP = 0  # a Reply status meaning "close the connection without answering"
REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class OAuthServer:
    """An OAuth 2.0 authorization server inside a fake: authorize (auto-approved, PKCE S256), code
    exchange, refresh (rotating refresh tokens when `rotate`), access tokens that expire after `ttl`."""

    def __init__(self, *, client_id: str = "plume-client", client_secret: str | None = None,
                 ttl: float = 7200, rotate: bool = True, refresh: bool = True):
        self.client_id, self.client_secret, self.ttl = client_id, client_secret, ttl
        self.rotate, self.give_refresh = rotate, refresh
        self.access: dict[str, float] = {}  # access token → expiry (epoch)
        self.refresh_tokens: set[str] = set()
        self.spent: set[str] = set()  # refresh tokens already used (rotation)
        self.codes: dict[str, dict] = {}
        self.refreshes = 0
        self._n = itertools.count(1)

    def valid(self, token: str | None) -> bool:
        return token is not None and self.access.get(token, 0) > time.time()

    def expire(self, token: str) -> None:
        self.access[token] = 0

    def issue(self) -> dict:
        n = next(self._n)
        access = f"access-{n}-{secrets.token_hex(4)}"
        self.access[access] = time.time() + self.ttl
        answer = {"token_type": "bearer", "access_token": access, "expires_in": int(self.ttl), "scope": "all"}
        if self.give_refresh:
            refresh = f"refresh-{n}-{secrets.token_hex(4)}"
            self.refresh_tokens.add(refresh)
            answer["refresh_token"] = refresh
        return answer

    def authorize(self, request: Request) -> Reply:
        q = request.query
        if q.get("client_id") != self.client_id or q.get("code_challenge_method") != "S256":
            return Reply(400, {"error": "invalid_request"})
        code = secrets.token_hex(8)
        self.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"]}
        target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q.get("state", "")})
        return Reply(302, None, {"Location": target})

    def token(self, request: Request) -> Reply:
        form = request.form
        client = form.get("client_id")
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            client, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            if secret != self.client_secret:
                return Reply(401, {"error": "invalid_client"})
        elif self.client_secret is not None:
            return Reply(401, {"error": "invalid_client"})
        if client != self.client_id:
            return Reply(401, {"error": "invalid_client"})
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if grant is None or grant["challenge"] != challenge or grant["redirect_uri"] != form.get("redirect_uri"):
                return Reply(400, {"error": "invalid_grant", "error_description": "bad code or verifier"})
            return Reply(200, self.issue())
        if form.get("grant_type") == "refresh_token":
            refresh = form.get("refresh_token", "")
            if refresh in self.spent or refresh not in self.refresh_tokens:
                return Reply(400, {"error": "invalid_request",
                                   "error_description": "Value passed for the token was invalid."})
            self.refreshes += 1
            if self.rotate:
                self.spent.add(refresh)
                self.refresh_tokens.discard(refresh)
                return Reply(200, self.issue())
            answer = self.issue()
            self.refresh_tokens.discard(answer.pop("refresh_token", None))
            return Reply(200, answer)
        return Reply(400, {"error": "unsupported_grant_type"})
